"""Logging overhead: VAE on digits through our run loop vs a bare PyTorch loop, same process.

Both loops train the same model architecture from the same seed on the same batches; ours also
buffers metrics, writes them to a real run store every 0.5 s and takes adaptive snapshots. Rounds
alternate between the two so machine noise hits both alike. Target: ratio >= 0.95.

    python bench/logging_overhead.py [--steps 1500] [--rounds 3] [--device auto]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from unsup_core.algorithms import get_algorithm  # noqa: E402
from unsup_core.datasets import load_dataset  # noqa: E402
from unsup_core.device import resolve_device  # noqa: E402
from unsup_core.runs.loop import run_loop  # noqa: E402
from unsup_core.runs.spec import make_spec  # noqa: E402
from unsup_core.runs.store import RunStore  # noqa: E402
from unsup_core.runs.worker import StopFlags, StoreRecorder  # noqa: E402


def fresh_vae(device: str):
    vae = get_algorithm("vae")()
    vae.setup(load_dataset("digits"), device=device, seed=0)
    return vae


def synchronise(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def bare_loop(device: str, steps: int) -> float:
    """The loop a PyTorch user writes by hand: batch, forward, loss, backward, step."""
    vae = fresh_vae(device)
    vae.train_step(vae.batches.next())  # same warm-up as the first step of ours
    synchronise(device)
    start = time.perf_counter()
    for _ in range(steps - 1):
        vae.train_step(vae.batches.next())
    synchronise(device)
    return (steps - 1) / (time.perf_counter() - start)


def our_loop(device: str, steps: int, store: RunStore) -> float:
    vae = fresh_vae(device)
    run_id = store.create_run(make_spec("vae", "digits", steps=steps, device=device))
    recorder = StoreRecorder(store, run_id, StopFlags())
    vae.step()  # warm-up step, as in the bare loop
    synchronise(device)
    start = time.perf_counter()
    result = run_loop(vae, steps, recorder, start_step=1)
    synchronise(device)
    elapsed = time.perf_counter() - start
    assert result.status == "done" and store.count_metric_rows(run_id) == 3 * (steps - 1)
    return (steps - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    import torch

    print(f"device: {device}, torch threads: {torch.get_num_threads()}, steps per loop: {args.steps}")
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        for round_index in range(args.rounds):
            bare.append(bare_loop(device, args.steps))
            ours.append(our_loop(device, args.steps, store))
            print(f"round {round_index + 1}: bare {bare[-1]:8.1f} steps/s   ours {ours[-1]:8.1f} steps/s")
    bare_rate, our_rate = statistics.median(bare), statistics.median(ours)
    print(f"median: bare {bare_rate:.1f} steps/s, ours {our_rate:.1f} steps/s, "
          f"ratio {our_rate / bare_rate:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
