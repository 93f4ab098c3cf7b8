"""Runs placed on a Ray cluster through its Jobs API: the same worker entry, on any machine.

The store still decides who goes next: a run waits here, queued, until it is among the next runs
its device's slots allow (``QueueLimits``, the same rule as ``RunStore.claim_slot``), and only then
becomes a Ray job, whose entrypoint is ``python -m unsup_core.runs.worker RUN_ID``, asking Ray for
the CPUs, GPU fraction and custom resources of ``ClusterSettings``. Ray only places it. Handing
runs over in queue order matters: a job waits for its slot inside Ray holding its resources, so
jobs handed over early could hold every resource while an earlier run waits for one.

Cancel flags the run in the store (the worker reads the flag between steps) and stops the job
(Ray sends SIGTERM, then SIGKILL): a plain task cancel would not stop a running task. A job that
ends while the store still calls its run active died without reporting: the run is marked failed
with Ray's reason. Jobs carry this store's tag: every few seconds the watcher also stops tagged jobs
whose run ended or was deleted (a worker inside one long step never reads the flag). The worker's
process id means nothing on the head machine, so Ray, not ``RunStore.reconcile``, tells whether a
placed run is alive.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import secrets
import shlex
import threading
import time
from collections import Counter

from unsup_core.errors import UserError
from unsup_core.runs import processes
from unsup_core.runs.executor import QueueingExecutor, RunHandle
from unsup_core.runs.spec import RunSpec
from unsup_core.runs.backends import url_without_password
from unsup_core.runs.store import ACTIVE_STATUSES, TERMINAL_STATUSES, RunNotFound, RunRecord, RunStore
from unsup_core.settings import ClusterSettings, QueueLimits

DISPATCH_INTERVAL = 0.1
WATCH_INTERVAL = 0.5
WATCH_REQUESTS_PER_SECOND = 50  # asking Ray about many jobs: look at each less often, not Ray more often
RECONCILE_INTERVAL = 2.0
UNKNOWN_JOB_GRACE_SECONDS = 60.0  # a job Ray has no record of this long after it was handed over is lost
ENDED_JOB_STATUSES = ("SUCCEEDED", "FAILED", "STOPPED")
JOB_STOP_TIMEOUT = 20.0  # Ray sends SIGTERM, then SIGKILL a few seconds later
ORPHAN_SWEEP_INTERVAL = 10.0  # listing every job the cluster knows is costly: not every round


class RayExecutor(QueueingExecutor):
    """``submit`` / ``resume`` / ``attach`` / ``cancel`` like ``LocalExecutor``, with workers as Ray jobs.

    ``watch_parent=False`` (a CLI ``run`` without ``--wait``): ``start`` returns only once the run is
    handed to Ray, so it trains after the command exits. Jobs already handed over outlive this
    executor: a dashboard restart re-attaches to them.
    """

    def __init__(self, store: RunStore, settings: ClusterSettings | None = None, *,
                 watch_parent: bool = True) -> None:
        from ray.job_submission import JobSubmissionClient

        self.store = store
        self.settings = settings or ClusterSettings.from_env()
        self.watch_parent = watch_parent
        try:
            self.client = JobSubmissionClient(self.settings.ray_address)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UserError(f"cannot reach the Ray cluster at {self.settings.ray_address} ({_first_line(error)}); "
                            "start it with `ray start --head --include-dashboard true` or check "
                            "UNSUP_LAB_RAY_ADDRESS") from None
        self._lock = threading.Lock()
        self._reap_lock = threading.Lock()  # one round at a time: a run must never be handed over twice
        self._waiting: list[str] = []  # runs queued here, not yet handed to Ray, in the order given
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_watch = self._last_reconcile = self._last_sweep = 0.0
        # Jobs carry this tag: the sweep stops only jobs of this lab's store, never another lab's on
        # the same cluster (nor another test's).
        self.store_tag = hashlib.sha256(
            f"{store.home}|{url_without_password(store.database_url or '')}".encode()).hexdigest()[:16]
        self._watch_interval = WATCH_INTERVAL
        atexit.register(self.shutdown)
        self._ensure_thread()  # watches jobs handed over before a restart, too

    def start(self, run_id: str) -> None:
        """Queue a run for handing over to Ray as soon as its turn comes."""
        with self._lock:
            self._waiting.append(run_id)
        self._ensure_thread()
        self._wake.set()
        if not self.watch_parent:
            while run_id in self._waiting and not self._stopped.is_set():
                time.sleep(DISPATCH_INTERVAL)

    def attach(self, run_id: str) -> RunHandle:
        self.store.get_run(run_id)
        return RunHandle(self.store, run_id)

    def cancel(self, run_id: str) -> RunRecord:
        """Flag the run cancelled (a queued one ends at once) and stop its Ray job, if it has one."""
        run = self.store.request_cancel(run_id)
        if run.ray_job is not None:
            self._stop_job(run.ray_job)
        return run

    def device_for(self, spec: RunSpec) -> str:
        """The device slot a run takes: a GPU share when the cluster gives runs one, else a CPU."""
        if spec.device.startswith("cuda") and not self.settings.gpu_per_run:
            raise UserError("this lab gives runs no GPU (UNSUP_LAB_GPU_PER_RUN is 0); choose the CPU")
        if spec.device == "cpu" or not self.settings.gpu_per_run:
            return "cpu"
        return "cuda"

    def reap(self) -> None:
        """One round: hand the next runs to Ray, and record runs whose job ended without reporting."""
        with self._reap_lock:
            self._reap_once()

    def _reap_once(self) -> None:
        now = time.monotonic()
        if now - self._last_reconcile > RECONCILE_INTERVAL:
            self.store.reconcile()  # a local run ahead in the queue whose worker died frees its place
            self._last_reconcile = now
        self._dispatch()
        if now - self._last_watch > self._watch_interval:
            watched = self._watch_jobs()
            self._watch_interval = max(WATCH_INTERVAL, watched / WATCH_REQUESTS_PER_SECOND)
            self._last_watch = now
        if now - self._last_sweep > ORPHAN_SWEEP_INTERVAL:
            self._last_sweep = now  # first: a cluster that is down is asked again next interval, not each round
            self.stop_orphan_jobs()

    def shutdown(self) -> None:
        """Stop handing over; runs not yet handed to Ray are left queued (marked interrupted later)."""
        self._stopped.set()
        self._wake.set()

    # -- handing over -------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="ray-dispatch", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                self.reap()
            except Exception as error:  # the cluster or the database briefly unreachable: try again
                print(f"ray executor: {_first_line(error)}", flush=True)
            self._wake.wait(DISPATCH_INTERVAL)
            self._wake.clear()

    def _dispatch(self) -> None:
        with self._lock:
            waiting = set(self._waiting)
        if not waiting:
            return
        limits = QueueLimits.from_env()
        queued = self.store.queued_runs()
        running = Counter(run.device for run in self.store.list_runs(statuses=("running",)))
        places = Counter()
        for run in queued:
            places[run.device] += 1
            if places[run.device] + running[run.device] > limits.slots(run.device):
                continue  # behind the runs that fill the device's slots: not yet
            if run.id in waiting and run.ray_job is None:
                self._hand_over(run, limits)
        still_queued = {run.id for run in self.store.queued_runs() if run.ray_job is None}
        with self._lock:
            self._waiting = [run_id for run_id in self._waiting if run_id in still_queued]

    def _hand_over(self, run: RunRecord, limits: QueueLimits) -> None:
        job_id = f"unsup-lab-{run.id}-{secrets.token_hex(3)}"  # a resumed run gets a new job
        self.store.set_ray_job(run.id, job_id)  # first: whoever sees the job finds its run
        gpus = self.settings.gpu_per_run if run.device.startswith("cuda") else 0
        threads = str(max(1, int(self.settings.cpus_per_run)))
        env = {"UNSUP_LAB_HOME": str(self.store.home), "UNSUP_LAB_MAX_CPU_RUNS": str(limits.cpu),
               "UNSUP_LAB_MAX_GPU_RUNS": str(limits.cuda), "UNSUP_LAB_WORKER_THREADS": threads,
               "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        if self.store.database_url:
            # The Jobs API shows a job's env_vars to whoever asks: no password here. Each node has its
            # own (PGPASSFILE or PGPASSWORD, set where `ray start` ran there), which libpq reads.
            env["UNSUP_LAB_DATABASE_URL"] = url_without_password(self.store.database_url)
        try:
            self.client.submit_job(
                entrypoint=f"python -m unsup_core.runs.worker {run.id} --home {shlex.quote(str(self.store.home))}",
                submission_id=job_id, runtime_env={"env_vars": env},
                entrypoint_num_cpus=self.settings.cpus_per_run, entrypoint_num_gpus=gpus,
                entrypoint_resources=self.settings.ray_resources or None,
                metadata={"unsup_lab_run": run.id, "unsup_lab_store": self.store_tag, "algorithm": run.algorithm,
                          "owner": run.owner or ""})
        except Exception as error:
            self.store.finish_ray_job(run.id, job_id, "failed", f"Ray did not accept the run: {_first_line(error)}")

    # -- watching -----------------------------------------------------------------------------
    def _watch_jobs(self) -> int:
        """Ask Ray about the job of every active run placed by it; returns how many were asked about."""
        placed = [run for run in self.store.list_runs(statuses=ACTIVE_STATUSES) if run.ray_job is not None]
        for run in placed:
            try:
                info = self.client.get_job_info(run.ray_job)
            except Exception as error:
                # A job Ray never registered, or forgot (its head restarted): the run would wait forever.
                if "does not exist" in str(error) and time.time() - (run.updated_at or 0) > UNKNOWN_JOB_GRACE_SECONDS:
                    self.store.finish_ray_job(run.id, run.ray_job, "failed",
                                              f"Ray has no record of job {run.ray_job} (was the cluster restarted?); "
                                              "resume the run")
                continue  # else not registered yet, or the dashboard is restarting: look again next round
            status = str(getattr(info.status, "value", info.status))
            if status not in ENDED_JOB_STATUSES:
                continue
            if self.store.cancel_requested(run.id):
                self.store.finish_ray_job(run.id, run.ray_job, "cancelled")
            else:
                self.store.finish_ray_job(run.id, run.ray_job, "failed", _death_reason(run.ray_job, status, info))
        return len(placed)

    def stop_orphan_jobs(self) -> list[str]:
        """Stop this store's jobs whose run ended, was deleted or has a newer job; returns their ids.

        A worker inside one long step never reads the cancel flag, and a deleted run has no flag left:
        without this its job would train on, outside every limit.
        """
        stopped = []
        for job in self.client.list_jobs():
            metadata = job.metadata or {}
            status = str(getattr(job.status, "value", job.status))
            if metadata.get("unsup_lab_store") != self.store_tag or status in ENDED_JOB_STATUSES:
                continue
            try:
                run = self.store.get_run(str(metadata.get("unsup_lab_run", "")))
            except RunNotFound:
                run = None
            if run is None or run.status in TERMINAL_STATUSES or run.ray_job != job.submission_id:
                self._stop_job(job.submission_id)
                stopped.append(job.submission_id)
        return stopped

    def _stop_job(self, job_id: str) -> None:
        try:
            self.client.stop_job(job_id)
        except Exception:
            pass  # not submitted yet or already ended: the store's flag stops it either way

    @staticmethod
    def stop_job_at(address: str, job_id: str) -> None:
        """Stop a job without an executor (tests' clean-up, the CLI's cancel)."""
        from ray.job_submission import JobSubmissionClient

        try:
            JobSubmissionClient(address).stop_job(job_id)
        except Exception:
            pass


def stop_job_and_wait(address: str | None, job_id: str, timeout: float = JOB_STOP_TIMEOUT) -> None:
    """Stop a Ray job and return once Ray says it ended (or never knew it); else one sentence."""
    from ray.job_submission import JobSubmissionClient

    if not address:
        raise UserError(f"this run trains as Ray job {job_id}; set UNSUP_LAB_RAY_ADDRESS to stop it")
    try:
        client = JobSubmissionClient(address)
        client.stop_job(job_id)
        deadline = time.monotonic() + timeout
        while True:
            status = client.get_job_status(job_id)
            if str(getattr(status, "value", status)) in ENDED_JOB_STATUSES:
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    except Exception as error:
        if "does not exist" in str(error):
            return  # never submitted, or the cluster forgot it: nothing trains
        raise UserError(f"could not stop Ray job {job_id} ({_first_line(error)}); try again") from None
    raise UserError(f"Ray job {job_id} did not stop within {timeout:.0f} s; try again")


def _death_reason(job_id: str, status: str, info) -> str:
    """'worker killed by SIGKILL before finishing (Ray job ...)', in the local executor's words where it can."""
    code = info.driver_exit_code
    if code is None and (found := re.search(r"exit code (-?\d+)", info.message or "")):
        code = int(found.group(1))
    if code is None:
        return f"Ray job {job_id} {status.lower()} before the run finished: {_first_line(info.message or '')}"
    # A shell reports death by signal N as 128 + N.
    exit_text = processes.describe_exit(128 - code if code > 128 else code)
    return f"worker {exit_text} before finishing (Ray job {job_id} {status.lower()})"


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
