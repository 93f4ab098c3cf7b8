"""What a warm worker's UMAP warm-up costs a training run: a VAE run's steps/s with it off and on.

The run (6,000 steps on digits) is handed to the warm worker once it is ready for runs; ``--after``
says when: "umap" once it has also compiled UMAP (the usual case on an idle server), or a number of
seconds after it was ready (with the warm-up under way: the worst case left, the same process).
Rounds alternate off / on (``UNSUP_LAB_WARM_UP_UMAP``), so a busy machine's drift hits both alike.
The lab's numba cache is filled first, as a server's own warm-up does.

    python bench/umap_warm_up_cost.py [--after umap|SECONDS] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train_once(store, warm_up: bool, after: str) -> tuple[float, float]:
    """(steps/s, seconds from submit to done) of one VAE run on a fresh executor's warm worker."""
    from unsup_core.runs.executor import LocalExecutor
    from unsup_core.runs.spec import make_spec

    os.environ["UNSUP_LAB_WARM_UP_UMAP"] = "1" if warm_up else "0"
    executor = LocalExecutor(store, warm_workers=1)
    waiting = list(executor._warm)
    try:
        ready = (lambda: executor.warm_umap_state() == "warm") if after == "umap" and warm_up else executor.warm_ready
        while not ready():
            time.sleep(0.05)
        if after != "umap":
            time.sleep(float(after))  # the worker's warm-up is under way
        started = time.monotonic()
        run = executor.submit(make_spec("vae", "digits", {}, steps=6000)).wait(timeout=900)
        if run.status != "done":
            raise RuntimeError(f"the VAE run {run.status}: {run.error}")
        seconds = time.monotonic() - started
        waiting += executor._warm
    finally:
        executor.shutdown()
    for process in waiting:  # an idle warm worker ends when its stdin closes
        if process.stdin and not process.stdin.closed:
            process.stdin.close()
        process.wait()
    return run.steps_per_second, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--after", default="umap", help='"umap" or seconds after the worker was ready')
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="umap-warm-up-cost-")
    os.environ["UNSUP_LAB_HOME"] = home
    from unsup_core.algorithms.umap_compile import warm_up_umap
    from unsup_core.runs.store import RunStore

    print(f"server warm-up (fills the numba cache): {warm_up_umap():.1f} s", flush=True)
    store = RunStore(home)
    for _ in range(args.rounds):
        for warm_up in (False, True):
            rate, seconds = train_once(store, warm_up, args.after)
            print(f"worker UMAP warm-up {'on ' if warm_up else 'off'}: {rate:6.0f} steps/s, submit -> done "
                  f"{seconds:5.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
