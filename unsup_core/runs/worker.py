"""The worker process: ``python -m unsup_core.runs.worker RUN_ID [--parent-pid PID]``.

One process trains one run, so a crash or an out-of-memory kill takes down only that run. With
``--warm`` it imports everything first and then waits for a run id on stdin: the dashboard keeps
one such process ready so a new run starts without paying for ``import torch``.

The worker never touches Streamlit. It stops between steps when the run is cancelled (flag in the
store, or SIGTERM) or when the process that started it disappears (no orphans).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

PARENT_POLL_SECONDS = 0.2
ENV_THREADS = "UNSUP_LAB_WORKER_THREADS"


class StopFlags:
    """Reasons to stop raised outside the loop (signal handler, parent watcher)."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


def watch_parent(parent_pid: int, flags: StopFlags) -> None:
    """Flag an interruption as soon as ``parent_pid`` is gone (we get re-parented)."""

    def poll() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        flags.set("interrupted: the server that started this run exited")

    threading.Thread(target=poll, name="parent-watch", daemon=True).start()


class StoreRecorder:
    """Sends the loop's events to the local run store."""

    def __init__(self, store, run_id: str, flags: StopFlags) -> None:
        self.store = store
        self.run_id = run_id
        self.flags = flags

    def log(self, rows, step, steps_per_second) -> None:
        self.store.log_metrics(self.run_id, rows, step=step, steps_per_second=steps_per_second)

    def snapshot(self, step, arrays) -> None:
        self.store.save_snapshot(self.run_id, step, arrays)

    def checkpoint(self, step, state) -> None:
        self.store.save_checkpoint(self.run_id, state)

    def stop_reason(self) -> str | None:
        if self.store.cancel_requested(self.run_id):
            return "cancelled"
        return self.flags.reason


def limit_threads() -> None:
    """Leave a core to the web server: torch and OpenMP get cpu_count - 1 threads (at least 1)."""
    import torch

    threads = int(os.environ.get(ENV_THREADS) or max(1, (os.cpu_count() or 2) - 1))
    torch.set_num_threads(threads)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def execute(store, run_id: str, flags: StopFlags) -> str:
    """Train ``run_id`` to completion; returns the final status written to the store."""
    from unsup_core.algorithms import get_algorithm
    from unsup_core.datasets import load_dataset
    from unsup_core.device import describe_device, resolve_device
    from unsup_core.runs.loop import run_loop

    run = store.get_run(run_id)
    spec = run.spec
    try:
        device = resolve_device(spec.device)
        if not store.mark_running(run_id, pid=os.getpid(), device=device, device_label=describe_device(device)):
            return store.get_run(run_id).status  # cancelled while queued
        algorithm_cls = get_algorithm(spec.algorithm)
        algorithm = algorithm_cls(algorithm_cls.build_config(spec.config))
        data = load_dataset(spec.dataset, **spec.dataset_options)
        algorithm.setup(data, device=device, seed=spec.seed)
        start_step = 0
        checkpoint = store.load_checkpoint(run_id)
        if checkpoint is not None:
            algorithm.load_state_dict(checkpoint["state"])
            start_step = int(checkpoint["step"])
        result = run_loop(algorithm, spec.steps, StoreRecorder(store, run_id, flags), start_step=start_step)
    except Exception as error:  # a failed run must say why, never vanish
        (store.run_dir(run_id) / "error.log").write_text(traceback.format_exc())
        store.finish(run_id, "failed", _one_line(error))
        return "failed"
    store.finish(run_id, result.status, result.reason)
    return result.status


def prepare_for_runs() -> None:
    """Pay every one-off cost before a run arrives: imports, and torch's lazy set-up."""
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


def _install_signal_handlers(flags: StopFlags) -> None:
    def on_term(signum, frame) -> None:
        flags.set("interrupted: the worker received SIGTERM")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)


def _redirect_output(path) -> None:
    log = open(path, "ab", buffering=0)
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
    _install_signal_handlers(flags)
    if args.parent_pid:
        watch_parent(args.parent_pid, flags)

    from unsup_core.runs.store import RunStore

    limit_threads()
    store = RunStore(args.home)
    run_id = args.run_id
    if args.warm:
        prepare_for_runs()
        if args.ready_file:
            Path(args.ready_file).touch()
        line = sys.stdin.readline()
        run_id = line.strip()
        if not run_id or flags.reason:
            return 0
    _redirect_output(store.run_dir(run_id) / "worker.log")
    status = execute(store, run_id, flags)
    return 0 if status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
