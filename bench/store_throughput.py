"""Run-store throughput, in two parts.

1. One worker: how many metric rows per second it can log through our training loop while its
   steps/s stay within 5% of the same loop without logging (same process, same step cost). A step
   does a fixed amount of real work (a matmul) and returns K scalars; K grows until the ratio drops
   below 0.95.
2. Many workers: N processes each logging like a busy run (3,000 rows/s in batches every 0.5 s, steps
   simulated by sleeping, as on a GPU, so the CPU is not what saturates). Reported: flush latency
   p50/p99 and rows/s achieved. Writes stall when p99 exceeds the 0.5 s flush interval or when any
   "database is locked" error appears.

    python bench/store_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time

import torch

from unsup_core.runs.loop import run_loop
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from unsup_core.runs.worker import StopFlags, StoreRecorder

FLUSH_INTERVAL = 0.5


class FixedWork:
    """A stand-in algorithm: each step is one fixed matmul and reports ``n_metrics`` scalars."""

    name = "bench"

    def __init__(self, n_metrics: int, size: int = 320) -> None:
        self.n_metrics = n_metrics
        self.finished = False
        generator = torch.Generator().manual_seed(0)
        self.a = torch.randn(size, size, generator=generator)
        self.b = torch.randn(size, size, generator=generator)
        self.names = [f"metric_{index:04d}" for index in range(n_metrics)]

    def step(self) -> dict:
        value = (self.a @ self.b)[0, 0].clone()  # a 0-d tensor, like a detached loss
        return {name: value for name in self.names}

    def snapshot(self) -> dict:
        return {"value": self.a[:2, :2].numpy()}

    def state_dict(self) -> dict:
        return {}


def bare_rate(steps: int) -> float:
    work = FixedWork(0)
    start = time.perf_counter()
    for _ in range(steps):
        work.step()
    return steps / (time.perf_counter() - start)


def logged_rate(store: RunStore, n_metrics: int, steps: int) -> float:
    """Steady-state steps/s as the loop itself reports it (from the first snapshot to the last flush),
    so the one-off final snapshot and checkpoint do not count against logging."""
    run_id = store.create_run(make_spec("kmeans", "blobs", steps=steps))
    run_loop(FixedWork(n_metrics), steps, StoreRecorder(store, run_id, StopFlags()))
    assert store.count_metric_rows(run_id) == n_metrics * steps
    return store.get_run(run_id).steps_per_second


def single_worker(store: RunStore, quick: bool) -> None:
    steps = 1500 if quick else 4000
    print("1) one worker: steps/s with K metrics per step vs the same loop without logging")
    print(f"{'K':>6} {'bare steps/s':>13} {'ours steps/s':>13} {'ratio':>7} {'rows/s':>10}")
    best = 0.0
    for n_metrics in (1, 10, 50, 100, 200, 400, 800):
        bare, ours = [], []
        for _ in range(3):  # interleaved, so machine noise hits both alike
            bare.append(bare_rate(steps))
            ours.append(logged_rate(store, n_metrics, steps))
        bare, ours = statistics.median(bare), statistics.median(ours)
        ratio = ours / bare
        rows = n_metrics * ours
        print(f"{n_metrics:>6} {bare:>13.0f} {ours:>13.0f} {ratio:>7.3f} {rows:>10.0f}")
        if ratio >= 0.95:
            best = max(best, rows)
        else:
            break
    print(f"   -> a worker logs up to ~{best:,.0f} metric rows/s within 5% of its training speed")


def _writer(home: str, rows_per_second: int, seconds: float, results) -> None:
    store = RunStore(home)
    run_id = store.create_run(make_spec("kmeans", "blobs"))
    per_flush = int(rows_per_second * FLUSH_INTERVAL)
    latencies, errors, step = [], 0, 0
    deadline = time.monotonic() + seconds
    next_flush = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(max(0.0, next_flush - time.monotonic()))  # training happens here (on the GPU)
        next_flush += FLUSH_INTERVAL
        rows = [(f"m{index % 3}", step + index // 3, 0.5) for index in range(per_flush)]
        step += per_flush // 3
        start = time.perf_counter()
        try:
            store.log_metrics(run_id, rows, step=step, steps_per_second=1.0)
        except Exception as error:  # noqa: BLE001 - counting is the point
            errors += 1
            print(f"   writer error: {error}", file=sys.stderr)
        latencies.append(time.perf_counter() - start)
    results.put((latencies, errors, store.count_metric_rows(run_id)))


def many_workers(quick: bool) -> None:
    rows_per_second, seconds = 3000, 4.0 if quick else 8.0
    print(f"\n2) N workers, each logging {rows_per_second} rows/s in batches every {FLUSH_INTERVAL} s for {seconds:.0f} s")
    print(f"{'N':>4} {'flush p50 ms':>13} {'flush p99 ms':>13} {'rows/s total':>13} {'errors':>7}")
    context = multiprocessing.get_context("spawn")
    holds = 0
    for n_workers in (1, 2, 4, 8, 16, 32, 64) if not quick else (1, 4, 16):
        with tempfile.TemporaryDirectory() as home:
            RunStore(home)
            results = context.Queue()
            processes = [context.Process(target=_writer, args=(home, rows_per_second, seconds, results))
                         for _ in range(n_workers)]
            for process in processes:
                process.start()
            outcomes = [results.get() for _ in processes]
            for process in processes:
                process.join()
        latencies = sorted(value for outcome in outcomes for value in outcome[0])
        errors = sum(outcome[1] for outcome in outcomes)
        written = sum(outcome[2] for outcome in outcomes)
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"{n_workers:>4} {p50:>13.1f} {p99:>13.1f} {written / seconds:>13,.0f} {errors:>7}")
        if p99 < FLUSH_INTERVAL * 1000 and errors == 0:
            holds = n_workers
        else:
            break
    print(f"   -> the store holds {holds} concurrent busy workers before writes stall (p99 flush > "
          f"{FLUSH_INTERVAL * 1000:.0f} ms or errors)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, shorter runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as home:
        single_worker(RunStore(home), args.quick)
    many_workers(args.quick)


if __name__ == "__main__":
    main()
