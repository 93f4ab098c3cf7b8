"""Starting, watching and stopping worker processes on this machine.

The interface is deliberately small (``submit``, ``attach``, ``cancel``; handles with ``poll`` and
``wait``) so another backend can run the same worker entry elsewhere. Locally, each run gets its own
``python -m unsup_core.runs.worker`` process in a new session; a reaper thread notices workers that
die without reporting (SIGKILL, out of memory) and marks their runs failed with the reason, and a
warm worker that has already imported torch is kept ready so a new run starts in well under a second.
:func:`make_executor` picks this one or, with ``UNSUP_LAB_EXECUTOR=ray``, ``ray_executor.RayExecutor``.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from unsup_core.errors import UserError
from unsup_core.runs import processes
from unsup_core.runs.worker import worker_threads
from unsup_core.runs.spec import RunSpec
from unsup_core.runs.store import TERMINAL_STATUSES, RunRecord, RunStore
from unsup_core.settings import ClusterSettings

REAP_INTERVAL = 0.25
CANCEL_GRACE_SECONDS = 3.0
# A new warm worker spends seconds of CPU on its imports: it starts once the run that took the last
# one has stored its first snapshot (or this long after), so those imports never delay a first point.
WARM_REFILL_MAX_DELAY = 10.0


def _worker_environment(store: RunStore) -> dict:
    env = dict(os.environ)
    env["UNSUP_LAB_HOME"] = str(store.home)
    if store.database_url:  # the worker opens the same store, wherever it was named
        env["UNSUP_LAB_DATABASE_URL"] = store.database_url
    # BLAS pools must be sized before numpy loads: OpenBLAS threads spinning on a busy machine made a
    # scikit-learn fit 40x slower here. Same budget as torch's threads (see worker.limit_threads).
    threads = str(worker_threads())
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, threads)
    return env


def _read_report(ready_file: Path) -> str:
    try:
        return ready_file.read_text().strip()
    except OSError:
        return ""


def signal_worker(run: RunRecord, signum: int) -> bool:
    """Send ``signum`` to the run's worker if it is still the same process; True if sent."""
    if not processes.is_alive(run.pid, run.pid_start):
        return False
    try:
        os.kill(run.pid, signum)
        return True
    except ProcessLookupError:
        return False


def request_stop(store: RunStore, run_id: str) -> RunRecord:
    """Flag the run cancelled and SIGTERM its worker, which stops after its current step."""
    run = store.request_cancel(run_id)
    if run.status == "running" and run.ray_job is None:  # a Ray job's process id is another machine's
        signal_worker(run, signal.SIGTERM)
    return run


def force_stop(store: RunStore, run_id: str) -> None:
    """SIGKILL a worker that ignored the cancel (or stop its Ray job), and record the outcome.

    A Ray run is recorded cancelled only once Ray says its job ended: a worker inside one long step
    never reads the flag, and a run deleted while its job still trained would train outside every limit.
    """
    run = store.get_run(run_id)
    if run.status in TERMINAL_STATUSES:
        return
    if run.ray_job is None:
        signal_worker(run, signal.SIGKILL)
    else:
        from unsup_core.runs.ray_executor import stop_job_and_wait

        stop_job_and_wait(ClusterSettings.from_env().ray_address, run.ray_job)
    store.finish(run_id, "cancelled", f"killed: the worker did not stop within {CANCEL_GRACE_SECONDS:.0f} s")


def cancel_and_wait(store: RunStore, run_id: str, grace: float = CANCEL_GRACE_SECONDS) -> RunRecord:
    """Cancel synchronously (for the CLI): stop request, then kill after ``grace`` seconds."""
    run = request_stop(store, run_id)
    deadline = time.monotonic() + grace
    while run.status not in TERMINAL_STATUSES and time.monotonic() < deadline:
        time.sleep(0.05)
        run = store.get_run(run_id)
    if run.status not in TERMINAL_STATUSES:
        force_stop(store, run_id)
    elif run.ray_job is not None:
        from unsup_core.runs.ray_executor import stop_job_and_wait

        # The worker recorded its end but its job may still be running (or, for a run cancelled while
        # queued, waiting in Ray): return only once Ray says it ended, so a delete leaves nothing behind.
        stop_job_and_wait(ClusterSettings.from_env().ray_address, run.ray_job)
    return store.get_run(run_id)


class RunHandle:
    """A view of one run for whoever started or re-attached to it."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._last_step: dict[str, int] = {}

    def poll(self) -> tuple[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """(status, metric rows new since the previous poll)."""
        status = self.store.get_run(self.run_id).status
        after = min(self._last_step.values(), default=-1)
        fresh = {}
        for name, (steps, values) in self.store.read_metrics(self.run_id, after_step=after).items():
            keep = steps > self._last_step.get(name, -1)
            if keep.any():
                fresh[name] = (steps[keep], values[keep])
                self._last_step[name] = int(steps[keep][-1])
        return status, fresh

    def wait(self, timeout: float | None = None, interval: float = 0.1) -> RunRecord:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.store.get_run(self.run_id)
            if run.status in TERMINAL_STATUSES:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.run_id} still {run.status} after {timeout} s")
            time.sleep(interval)


class QueueingExecutor:
    """What every executor does the same way: the store queues a run, then the executor's ``start``
    places it (a local worker process, or a Ray job). Subclasses give ``device_for`` and ``start``."""

    store: RunStore

    def device_for(self, spec: RunSpec) -> str:
        raise NotImplementedError

    def start(self, run_id: str) -> None:
        raise NotImplementedError

    # -- public interface ---------------------------------------------------------------------
    def submit(self, spec: RunSpec, *, owner: str | None = None, parent_id: str | None = None) -> RunHandle:
        """Queue a run and place it; it trains as soon as its device has a free slot."""
        run_id = self.store.create_run(spec, device=self.device_for(spec), owner=owner, parent_id=parent_id)
        self.start(run_id)
        return RunHandle(self.store, run_id)

    def resume(self, run_id: str, *, steps: int | None = None) -> RunHandle:
        """Continue an ended run from its last checkpoint (its curves go on from that step)."""
        self.store.requeue(run_id, steps=steps)
        self.start(run_id)
        return RunHandle(self.store, run_id)


class LocalExecutor(QueueingExecutor):
    """Runs each worker as a local subprocess.

    ``watch_parent``: workers stop when this process exits (the dashboard), so no orphans are left;
    a CLI ``run`` without ``--wait`` turns it off so the run outlives the command.
    ``warm_workers``: how many pre-imported workers to keep waiting for a run.
    """

    def __init__(self, store: RunStore, *, warm_workers: int = 0, watch_parent: bool = True) -> None:
        self.store = store
        self.warm_workers = warm_workers
        self.watch_parent = watch_parent
        self._lock = threading.Lock()
        self._workers: dict[str, subprocess.Popen] = {}
        self._warm: list[subprocess.Popen] = []
        self._kill_deadlines: dict[str, float] = {}
        self._ready_files: dict[int, Path] = {}
        self._stopped = threading.Event()
        self._reaper: threading.Thread | None = None
        if watch_parent:
            atexit.register(self.shutdown)
        if warm_workers:
            self._start_reaper()
            self._refill_warm()

    def device_for(self, spec: RunSpec) -> str:
        from unsup_core.device import resolve_device

        return resolve_device(spec.device)

    def start(self, run_id: str) -> None:
        """Hand a queued run to a warm worker, or start a fresh one."""
        self._start_reaper()
        with self._lock:
            # A cancel's kill deadline belongs to the worker that was cancelled: a run resumed within
            # the grace period must not have its new worker killed when that deadline passes.
            self._kill_deadlines.pop(run_id, None)
            process = self._take_warm(run_id)
            if process is not None:
                process.stdin.write(f"{run_id}\n".encode())
                process.stdin.flush()
                process.stdin.close()
            else:
                process = self._spawn([run_id], log=self.store.run_dir(run_id) / "worker.log")
            self._workers[run_id] = process
            self.store.set_worker(run_id, process.pid)
        if self.warm_workers:
            threading.Thread(target=self._refill_after_first_snapshot, args=(run_id,), daemon=True).start()

    def attach(self, run_id: str) -> RunHandle:
        self.store.get_run(run_id)
        return RunHandle(self.store, run_id)

    def cancel(self, run_id: str) -> RunRecord:
        """Ask the worker to stop; the reaper kills it if it has not stopped after the grace period."""
        run = request_stop(self.store, run_id)
        if run.status == "running":
            with self._lock:
                self._kill_deadlines[run_id] = time.monotonic() + CANCEL_GRACE_SECONDS
            self._start_reaper()
        return run

    def warm_ready(self) -> bool:
        """True when a warm worker has finished its imports and waits for a run."""
        with self._lock:
            return any(p.poll() is None and self._ready_file(p).exists() for p in self._warm)

    def warm_umap_state(self) -> str:
        """'warm' when a waiting warm worker has compiled UMAP, 'warming' while one compiles it, else 'cold'
        (each writes its state into its ready file: see worker.warm_up_umap_while_waiting)."""
        with self._lock:
            reports = {_read_report(self._ready_file(p)) for p in self._warm if p.poll() is None}
        return "warm" if "umap" in reports else "warming" if "warming" in reports else "cold"

    def active_workers(self) -> list[str]:
        with self._lock:
            return [run_id for run_id, process in self._workers.items() if process.poll() is None]

    def shutdown(self) -> None:
        """Stop reaping and end every worker this executor started (they record 'interrupted')."""
        self._stopped.set()
        with self._lock:
            for process in [*self._workers.values(), *self._warm]:
                if process.poll() is None:
                    process.terminate()
            for ready_file in self._ready_files.values():
                ready_file.unlink(missing_ok=True)
            self._warm.clear()

    # -- internals ----------------------------------------------------------------------------
    def _spawn(self, args: list[str], log: Path | None) -> subprocess.Popen:
        command = [sys.executable, "-m", "unsup_core.runs.worker", *args, "--home", str(self.store.home)]
        if self.watch_parent:
            command += ["--parent-pid", str(os.getpid())]
        try:
            output = open(log, "ab") if log else subprocess.DEVNULL
        except OSError:
            output, log = subprocess.DEVNULL, None  # an unwritable run folder must not stop the launch
        try:
            return subprocess.Popen(
                command, env=_worker_environment(self.store), start_new_session=True,
                stdin=subprocess.PIPE if "--warm" in args else subprocess.DEVNULL,
                stdout=output, stderr=output,
            )
        finally:
            if log:
                output.close()

    def _take_warm(self, run_id: str) -> subprocess.Popen | None:
        for process in [p for p in self._warm if p.poll() is not None]:
            self._warm.remove(process)
            self._forget_ready_file(process)
        for process in self._warm:
            # A worker compiling UMAP (worker.warm_up_umap_while_waiting) holds the GIL for seconds at a
            # time: it takes only a UMAP map, which needs that code; any other run gets a fresh worker.
            if _read_report(self._ready_file(process)) != "warming" or self._is_umap_map(run_id):
                self._warm.remove(process)
                self._forget_ready_file(process)
                return process
        return None

    def _is_umap_map(self, run_id: str) -> bool:
        spec = self.store.get_run(run_id).spec
        return spec.algorithm == "embedding" and spec.config.get("method") == "umap"

    def _refill_warm(self) -> None:
        with self._lock:
            for process in self._warm:
                if process.poll() is not None:
                    self._forget_ready_file(process)
            self._warm = [p for p in self._warm if p.poll() is None]
            missing = self.warm_workers - len(self._warm)
            if self._stopped.is_set() or missing <= 0:
                return
            (self.store.home / "logs").mkdir(exist_ok=True)
            for _ in range(missing):
                ready_file = self.store.home / "logs" / f"warm-{os.getpid()}-{time.monotonic_ns()}.ready"
                process = self._spawn(["--warm", "--ready-file", str(ready_file)],
                                      log=self.store.home / "logs" / "warm-worker.log")
                self._ready_files[process.pid] = ready_file
                self._warm.append(process)

    def _refill_after_first_snapshot(self, run_id: str) -> None:
        deadline = time.monotonic() + WARM_REFILL_MAX_DELAY
        while time.monotonic() < deadline and not self._stopped.wait(0.05):
            if self.store.snapshot_steps(run_id) or self.store.get_run(run_id).status in TERMINAL_STATUSES:
                break
        self._refill_warm()

    def _ready_file(self, process: subprocess.Popen) -> Path:
        return self._ready_files[process.pid]

    def _forget_ready_file(self, process: subprocess.Popen) -> None:
        ready_file = self._ready_files.pop(process.pid, None)
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)

    def _start_reaper(self) -> None:
        with self._lock:
            if self._reaper is None or not self._reaper.is_alive():
                self._reaper = threading.Thread(target=self._reap_forever, name="run-reaper", daemon=True)
                self._reaper.start()

    def _reap_forever(self) -> None:
        while not self._stopped.wait(REAP_INTERVAL):
            self.reap()

    def reap(self) -> None:
        """Record workers that exited without reporting, and kill those past their cancel grace."""
        now = time.monotonic()
        with self._lock:
            exited = {run_id: p for run_id, p in self._workers.items() if p.poll() is not None}
            for run_id in exited:
                del self._workers[run_id]
                self._kill_deadlines.pop(run_id, None)
            overdue = [run_id for run_id, deadline in self._kill_deadlines.items() if now >= deadline]
            for run_id in overdue:
                del self._kill_deadlines[run_id]
        for run_id, process in exited.items():
            self.store.finish_worker(run_id, process.pid, "failed",
                                     f"worker {processes.describe_exit(process.returncode)} before finishing")
        for run_id in overdue:
            try:
                force_stop(self.store, run_id)
            except UserError as error:  # a Ray run's job could not be stopped: keep reaping the others
                print(f"run reaper: {error}", flush=True)


def make_executor(store: RunStore, *, warm_workers: int = 0, watch_parent: bool = True):
    """The executor the settings ask for: local worker processes, or jobs on a Ray cluster."""
    settings = ClusterSettings.from_env()
    if settings.executor == "ray":
        from unsup_core.runs.ray_executor import RayExecutor

        return RayExecutor(store, settings, watch_parent=watch_parent)
    return LocalExecutor(store, warm_workers=warm_workers, watch_parent=watch_parent)
