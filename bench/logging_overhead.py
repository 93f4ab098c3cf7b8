"""Logging overhead: any model through our run loop vs a bare PyTorch loop, same process.

Both loops train the same model from the same seed on the same batches. The bare loop calls the
algorithm's ``train_step()`` (one update, what a PyTorch user writes by hand: batch, forward, loss,
backward, optimizer step). Ours calls ``step()`` through ``run_loop``: it also scores samples every
``eval_every`` steps, buffers metrics, writes them to a real run store and takes adaptive
snapshots. Rounds alternate between the two so machine noise hits both alike; the ratio reported is
the median of each round's ratio (ours / the bare loop just before it), which pairs measurements
taken seconds apart. Target: ratio >= 0.95.

    python bench/logging_overhead.py [--algorithm vae] [--dataset digits] [--set key=value ...]
                                     [--steps 1500] [--rounds 5] [--device auto]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from unsup_core.algorithms import get_algorithm
from unsup_core.config import parse_assignments
from unsup_core.datasets import load_dataset
from unsup_core.device import resolve_device
from unsup_core.runs.loop import run_loop
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from unsup_core.runs.worker import StopFlags, StoreRecorder, limit_threads
from unsup_core.sample_quality import load_or_train_scorer


def fresh(args, device: str):
    algorithm_cls = get_algorithm(args.algorithm)
    algorithm = algorithm_cls(algorithm_cls.build_config(args.config))
    algorithm.setup(load_dataset(args.dataset), device=device, seed=0)
    if not hasattr(algorithm, "train_step"):
        sys.exit(f"{args.algorithm} has no train_step(): nothing to compare a bare loop with")
    return algorithm


def synchronise(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def bare_loop(args, device: str) -> float:
    algorithm = fresh(args, device)
    algorithm.train_step()  # same warm-up as the first step of ours
    synchronise(device)
    start = time.perf_counter()
    for _ in range(args.steps - 1):
        algorithm.train_step()
    synchronise(device)
    return (args.steps - 1) / (time.perf_counter() - start)


def our_loop(args, device: str, store: RunStore) -> float:
    algorithm = fresh(args, device)
    if getattr(algorithm, "scores", None) is not None and algorithm.scores.loader is not None:
        algorithm.scores.loader.wait()  # cached before the rounds: load it before timing
    run_id = store.create_run(make_spec(args.algorithm, args.dataset, args.config, steps=args.steps, device=device))
    recorder = StoreRecorder(store, run_id, StopFlags())
    algorithm.step()  # warm-up step, as in the bare loop
    synchronise(device)
    start = time.perf_counter()
    result = run_loop(algorithm, args.steps, recorder, start_step=1)
    synchronise(device)
    elapsed = time.perf_counter() - start
    assert result.status == "done" and store.count_metric_rows(run_id) >= args.steps - 1
    return (args.steps - 1) / elapsed


GOAL = 0.95


def measure(args) -> dict:
    """Rounds of (bare, ours) steps/s; prints each round."""
    device = resolve_device(args.device)
    limit_threads()  # as many torch threads as a worker gets
    import torch

    settings = f" with {args.config}" if args.config else ""
    print(f"{args.algorithm} on {args.dataset}{settings}; device: {device}, torch threads: {torch.get_num_threads()}, "
          f"steps per loop: {args.steps}", file=sys.stderr)
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as home:
        os.environ["UNSUP_LAB_HOME"] = home
        load_or_train_scorer(load_dataset(args.dataset), device)  # the classifier our loop scores with
        store = RunStore(home)
        for round_index in range(args.rounds):
            bare.append(bare_loop(args, device))
            ours.append(our_loop(args, device, store))
            print(f"round {round_index + 1}: bare {bare[-1]:8.1f} steps/s   ours {ours[-1]:8.1f} steps/s   "
                  f"ratio {ours[-1] / bare[-1]:.3f}", file=sys.stderr)
    return {"bare": statistics.median(bare), "ours": statistics.median(ours),
            "ratio": statistics.median(o / b for o, b in zip(ours, bare))}


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", default="vae")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="config overrides, as for `python -m unsup_core run`")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    args.config = parse_assignments(args.assignments)
    return args


def rows(quick: bool = False) -> list[dict]:
    args = parse(["--steps", "300", "--rounds", "1"] if quick else [])
    result = measure(args)
    return [{"figure": f"logging overhead: run_loop + store vs train_step() loop, {args.algorithm} on "
                       f"{args.dataset}, {args.steps:,} steps, steps/s",
             "ours": result["ours"], "reference": result["bare"], "ratio": result["ratio"],
             "goal": f">= {GOAL}", "met": result["ratio"] >= GOAL}]


def main() -> None:
    args = parse()
    result = measure(args)
    batch = get_algorithm(args.algorithm).build_config(args.config).__dict__.get("batch_size")
    samples = (f" ({result['bare'] * batch:,.0f} and {result['ours'] * batch:,.0f} samples/s)" if batch else "")
    print(f"median: bare {result['bare']:.1f} steps/s, ours {result['ours']:.1f} steps/s{samples}, "
          f"median of the rounds' ratios {result['ratio']:.3f} (target >= {GOAL})")


if __name__ == "__main__":
    main()
