"""The worker process: ``python -m unsup_core.runs.worker RUN_ID [--parent-pid PID]``.

One process trains one run, so a crash or an out-of-memory kill takes down only that run. With
``--warm`` it imports everything first and then waits for a run id on stdin: the dashboard keeps
one such process ready so a new run starts without paying for ``import torch``, and once the lab is
idle it compiles UMAP's numba code while it waits, so a background map run pays no compilation either.

The worker never touches Streamlit. It stops between steps when the run is cancelled (flag in the
store, or SIGTERM) or when the process that started it disappears (no orphans); it pauses, steps and
changes hyperparameters between steps as the store's control channel says (``runs/control.py``).
"""

from __future__ import annotations

import argparse
import errno
import os
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from unsup_core.settings import MapSettings, QueueLimits

PARENT_POLL_SECONDS = 0.2
QUEUE_POLL_SECONDS = 0.2
RECONCILE_SECONDS = 2.0
IDLE_POLL_SECONDS = 1.0  # a warm worker looks this often whether the lab is idle enough to warm up UMAP
ENV_THREADS = "UNSUP_LAB_WORKER_THREADS"


class StopFlags:
    """Reasons to stop raised outside the loop (signal handler, parent watcher)."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.idle = False  # a warm worker with no run yet: nothing to save, it may just exit

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


def watch_parent(parent_pid: int, flags: StopFlags) -> None:
    """Flag an interruption as soon as ``parent_pid`` is gone (we get re-parented)."""

    def poll() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        if flags.idle:
            os._exit(0)  # even in the middle of its imports
        flags.set("interrupted: the server that started this run exited")

    threading.Thread(target=poll, name="parent-watch", daemon=True).start()


class StoreRecorder:
    """Sends the loop's events to the local run store; metrics go through a writer thread.

    The thread converts buffered scalars and writes them while training goes on (SQLite and torch
    release the GIL), so logging costs the training thread one list append per step. The queue is
    bounded: if the disk cannot keep up, training waits rather than memory growing.
    """

    def __init__(self, store, run_id: str, flags: StopFlags) -> None:
        self.store = store
        self.run_id = run_id
        self.flags = flags
        self._pending: queue.Queue = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._writer = threading.Thread(target=self._write_metrics, name="metrics-writer", daemon=True)
        self._writer.start()

    def _write_metrics(self) -> None:
        from unsup_core.runs.loop import rows_from_buffer

        while (batch := self._pending.get()) is not None:
            entries, step, steps_per_second = batch
            if self._error is None:
                try:
                    self.store.log_metrics(self.run_id, rows_from_buffer(entries), step=step,
                                           steps_per_second=steps_per_second)
                except BaseException as error:  # handed to the training thread at its next log/close
                    self._error = error
            self._pending.task_done()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def log(self, entries, step, steps_per_second) -> None:
        self._raise_if_failed()
        self._pending.put((entries, step, steps_per_second))

    def close(self) -> None:
        if self._writer.is_alive():
            self._pending.put(None)
            self._writer.join()
        self._raise_if_failed()

    def snapshot(self, step, arrays) -> None:
        self.store.save_snapshot(self.run_id, step, arrays)

    def checkpoint(self, step, state) -> None:
        # Metrics up to this step are written first: a run killed right after it resumes without a gap.
        self._pending.join()
        self._raise_if_failed()
        self.store.save_checkpoint(self.run_id, state)

    def stop_reason(self) -> str | None:
        if self.store.cancel_requested(self.run_id):
            return "cancelled"
        return self.flags.reason

    def control(self):
        return self.store.take_control(self.run_id)

    def changes_applied(self, changes, step) -> None:
        self.store.record_changes_applied(self.run_id, changes, step)

    def holding(self, step) -> None:
        self.store.set_held_step(self.run_id, step)


def worker_threads() -> int:
    """Leave a core to the web server: cpu_count - 1 threads (at least 1), or UNSUP_LAB_WORKER_THREADS."""
    return int(os.environ.get(ENV_THREADS) or max(1, (os.cpu_count() or 2) - 1))


def limit_threads() -> None:
    import torch

    torch.set_num_threads(worker_threads())


def describe_error(error: BaseException) -> str:
    """One line a user can act on; disk problems say so plainly."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" while writing {error.filename}" if error.filename else ""
        return f"disk full: no space left on device{where}; free some space, then resume the run"
    if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        where = f" {error.filename}" if error.filename else " the run folder"
        return f"cannot write{where}: {error.strerror} (is the run folder read-only?)"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def wait_for_slot(store, run_id: str, flags: StopFlags, limits: QueueLimits) -> bool:
    """Block while the run is queued behind others; True once it holds a slot on its device."""
    last_reconcile = 0.0
    while True:
        if flags.reason:
            store.finish(run_id, "interrupted", flags.reason)
            return False
        outcome = store.claim_slot(run_id, os.getpid(), limits)
        if outcome != "wait":
            return outcome == "claimed"
        if time.monotonic() - last_reconcile > RECONCILE_SECONDS:
            # A run ahead of us whose worker died must not hold the queue forever.
            store.reconcile()
            last_reconcile = time.monotonic()
        time.sleep(QUEUE_POLL_SECONDS)


def execute(store, run_id: str, flags: StopFlags, limits: QueueLimits | None = None) -> str:
    """Wait for a slot, then train ``run_id``; returns the final status written to the store."""
    store.set_worker(run_id, os.getpid())
    if not wait_for_slot(store, run_id, flags, limits or QueueLimits.from_env()):
        return store.get_run(run_id).status
    try:
        # Imported once the run holds a slot: queued workers stay small while they wait.
        limit_threads()
        from unsup_core.algorithms import get_algorithm
        from unsup_core.datasets import fetch_dataset, load_dataset
        from unsup_core.device import describe_device
        from unsup_core.runs.loop import run_loop

        run = store.get_run(run_id)
        spec = run.spec
        store.set_device_label(run_id, describe_device(run.device))
        algorithm_cls = get_algorithm(spec.algorithm)
        algorithm = algorithm_cls(algorithm_cls.build_config(spec.config))
        algorithm.planned_steps = spec.steps
        fetch_dataset(spec.dataset, **spec.dataset_options)
        data = load_dataset(spec.dataset, **spec.dataset_options)
        algorithm.setup(data, device=run.device, seed=spec.seed)
        start_step = 0
        checkpoint = store.load_checkpoint(run_id)
        if checkpoint is not None:
            algorithm.load_state_dict(checkpoint["state"])
            start_step = int(checkpoint["step"])
        # Steps after the checkpoint are trained again, so changes recorded there are not in force.
        store.discard_changes_after(run_id, start_step)
        result = run_loop(algorithm, spec.steps, StoreRecorder(store, run_id, flags), start_step=start_step)
    except Exception as error:  # a failed run must say why, never vanish
        try:
            (store.run_dir(run_id) / "error.log").write_text(traceback.format_exc())
        except OSError:
            pass  # the folder itself may be what failed; the store still gets the reason
        store.finish(run_id, "failed", describe_error(error))
        return "failed"
    store.finish(run_id, result.status, result.reason)
    return result.status


def prepare_for_runs() -> None:
    """Pay every one-off cost before a run arrives: imports, and torch's lazy set-up."""
    limit_threads()
    import sklearn.cluster  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401
    import torch

    import unsup_core.algorithms  # noqa: F401
    import unsup_core.datasets  # noqa: F401
    import unsup_core.datasets.prepare  # noqa: F401  (pandas, for runs on users' files)
    import unsup_core.datasets.uploads  # noqa: F401
    import unsup_core.runs.loop  # noqa: F401

    # The first optimizer imports torch._dynamo (about 2 s) and the first backward starts autograd.
    weight = torch.zeros(4, requires_grad=True)
    optimizer = torch.optim.Adam([weight])
    (weight * 2).sum().backward()
    optimizer.step()


def warm_up_umap_while_waiting(store, flags: StopFlags, ready_file: Path | None,
                               settings: MapSettings | None = None) -> None:
    """Compile UMAP in a thread once this warm worker waits and the lab is idle; ``ready_file`` then reads "umap".

    A map of 20,000 rows or more runs in a worker, and a fresh process compiles UMAP's numba code before
    its first fit (28 s against 7.6 s for the fit itself here): paid here while nobody waits for it.
    Only once no run is queued or training (polled in the store): a replacement warm worker starts while
    the run that took the last one trains, and its compiling beside that run made a VAE run 20-30% slower
    (bench/README.md). A run this worker takes before it starts skips it. While it runs (about 16 s of
    CPU with the on-disk cache) the ready file reads "warming" and the executor hands this worker only a
    UMAP map: numba's compiler holds the GIL, and a VAE run beside it trained 2.5 times slower. Not
    lowered in priority: numba's thread pool, started by this thread, would inherit that and slow the
    map run itself.
    Off with ``UNSUP_LAB_WARM_UP_UMAP=0``, like the server's own warm-up.
    """
    if not (settings or MapSettings.from_env()).warm_up_umap:
        return

    def warm_up() -> None:
        from unsup_core.algorithms.umap_compile import umap_compiled, warm_up_umap
        from unsup_core.runs.store import ACTIVE_STATUSES

        try:
            while store.list_runs(statuses=ACTIVE_STATUSES, limit=1):
                if not flags.idle or flags.reason:
                    return
                time.sleep(IDLE_POLL_SECONDS)
            _report(ready_file, "warming")
            if not flags.idle:  # a run came before the executor could read "warming": it has the CPU
                return _report(ready_file, "")
            warm_up_umap()
        except Exception:  # a failed warm-up only means a map run compiles; never the worker's end
            traceback.print_exc()
            _report(ready_file, "")
            return
        _report(ready_file, "umap" if umap_compiled() else "")

    threading.Thread(target=warm_up, name="umap-warm-up", daemon=True).start()


def _report(ready_file: Path | None, state: str) -> None:
    if ready_file is None:
        return
    try:
        with open(ready_file, "r+") as report:  # "r+": never re-create a file the executor removed
            report.write(state)
            report.truncate()
    except OSError:
        pass


def _install_signal_handlers(flags: StopFlags) -> None:
    def on_term(signum, frame) -> None:
        flags.set("interrupted: the worker received SIGTERM")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)


def _redirect_output(path) -> None:
    try:
        log = open(path, "ab", buffering=0)
    except OSError:
        return  # the run will fail with a clear message when it first writes to that folder
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m unsup_core.runs.worker")
    parser.add_argument("run_id", nargs="?", help="run to train (omit with --warm)")
    parser.add_argument("--warm", action="store_true", help="import everything, then read a run id on stdin")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this process is gone")
    parser.add_argument("--home", default=None, help="run store folder (default: $UNSUP_LAB_HOME)")
    parser.add_argument("--ready-file", default=None, help="with --warm: created once imports are done")
    args = parser.parse_args(argv)
    if not args.warm and not args.run_id:
        parser.error("give a RUN_ID or --warm")

    flags = StopFlags()
    flags.idle = args.warm
    _install_signal_handlers(flags)
    if args.parent_pid:
        watch_parent(args.parent_pid, flags)

    from unsup_core.runs.store import RunStore

    store = RunStore(args.home)
    run_id = args.run_id
    if args.warm:
        prepare_for_runs()
        if args.ready_file:
            Path(args.ready_file).touch()
        warm_up_umap_while_waiting(store, flags, Path(args.ready_file) if args.ready_file else None)
        line = sys.stdin.readline()
        run_id = line.strip()
        if not run_id or flags.reason:
            return 0
        flags.idle = False
    _redirect_output(store.run_dir(run_id) / "worker.log")
    status = execute(store, run_id, flags)
    return 0 if status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
