"""Batched SOM (ours, torch) vs minisom's ``train`` on digits: seconds, quantization and topographic error.

Both train the same map (size, sigma, learning rate, schedules, neighbourhood) from the same initial
weights (minisom's PCA initialisation) for the same number of sample updates, in the same process,
each timed from the raw array to a trained map (construction and initialisation included);
rounds alternate between the two so machine noise hits both alike, and each round uses its own seed.
Reported: median wall and CPU (process) seconds, mean QE/TE over the rounds, and both speed ratios
(CPU time is the steadier measure on a shared machine: both sides run on one core, numpy's BLAS held
to one thread). ``rows()`` gives the lines for ``bench/run_all.py``. Target: >= 25x faster at
equal or lower quantization error on CPU. With a GPU (``--device auto`` finds it) it also reports the
batched SOM on 100,000 samples and a 40 x 40 map, next to minisom's time extrapolated from a slice.

    python bench/som_vs_minisom.py [--epochs 50] [--rounds 3] [--sizes 10,20] [--threads 1]
                                   [--schedule linear|minisom-default|both] [--device auto]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from unsup_core.algorithms.som_estimator import SOM
from unsup_core.algorithms.som_grid import MINISOM_LR_DECAY, MINISOM_SIGMA_DECAY
from unsup_core.datasets import load_dataset
from unsup_core.device import resolve_device

SCHEDULES = {
    # sigma from half the map down to 1, learning rate from 0.5 down to 0: what a careful user runs.
    "linear": {"sigma_decay": "linear_to_one", "lr_decay": "linear_to_zero"},
    # minisom's defaults: both decay asymptotically to a third of their start.
    "minisom-default": {"sigma_decay": "asymptotic", "lr_decay": "asymptotic"},
}
TARGET_RATIO = 25.0


def map_params(size: int, schedule: str) -> dict:
    return {"rows": size, "cols": size, "sigma": size / 2, "learning_rate": 0.5, "neighbourhood": "gaussian",
            "topology": "rectangular", "init": "pca", **SCHEDULES[schedule]}


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def train_minisom(X: np.ndarray, params: dict, n_updates: int, seed: int):
    """minisom exactly as its users call it: construct, PCA init, ``train(random_order=True)``."""
    from minisom import MiniSom

    start, cpu = time.perf_counter(), time.process_time()
    som = MiniSom(params["rows"], params["cols"], X.shape[1], sigma=params["sigma"],
                  learning_rate=params["learning_rate"], decay_function=MINISOM_LR_DECAY[params["lr_decay"]],
                  sigma_decay_function=MINISOM_SIGMA_DECAY[params["sigma_decay"]],
                  neighborhood_function=params["neighbourhood"], topology=params["topology"], random_seed=seed)
    som.pca_weights_init(X)
    som.train(X, n_updates, random_order=True)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, som.quantization_error(X), som.topographic_error(X)


def train_batched(X: np.ndarray, params: dict, n_updates: int, seed: int, batch_size: int, device: str):
    """Ours, timed the same way: from the raw array to a trained map (initialisation included)."""
    synchronise(device)
    start, cpu = time.perf_counter(), time.process_time()
    som = SOM(**params, n_updates=n_updates, batch_size=batch_size, random_state=seed, device=device)
    som.fit(X)
    synchronise(device)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    measures = som.evaluate(X)
    return seconds, cpu, measures["qe"], measures["te"]


def default_batch_size(size: int) -> int:
    return 256


def compare(X: np.ndarray, size: int, schedule: str, epochs: int, rounds: int, batch_size: int | None,
            device: str) -> dict:
    """Alternating rounds, with numpy's BLAS (and any OpenMP pool) held to one thread for both sides.

    Without that, the BLAS threads minisom's numpy calls wake keep spinning for a while after each
    call and their CPU time lands on whichever side is timed next: it was most of the gap between
    our wall-time and CPU-time ratios (the batched SOM itself runs on the calling thread only).
    """
    from threadpoolctl import threadpool_limits

    params = map_params(size, schedule)
    n_updates = epochs * len(X)
    batch_size = batch_size or default_batch_size(size)
    theirs, ours = [], []
    with threadpool_limits(1):
        train_batched(X, params, len(X), 0, batch_size, device)  # warm-up: torch's lazy set-up, caches
        for seed in range(rounds):
            theirs.append(train_minisom(X, params, n_updates, seed))
            ours.append(train_batched(X, params, n_updates, seed, batch_size, device))
    result = {"size": size, "schedule": schedule, "n_updates": n_updates, "batch_size": batch_size}
    for name, runs in (("minisom", theirs), ("batched", ours)):
        result[name] = {"seconds": statistics.median(r[0] for r in runs), "cpu": statistics.median(r[1] for r in runs),
                        "qe": float(np.mean([r[2] for r in runs])), "te": float(np.mean([r[3] for r in runs]))}
    result["ratio"] = result["minisom"]["seconds"] / result["batched"]["seconds"]
    result["cpu_ratio"] = result["minisom"]["cpu"] / result["batched"]["cpu"]
    result["qe_ok"] = result["batched"]["qe"] <= result["minisom"]["qe"]
    return result


def print_result(r: dict) -> None:
    m, b = r["minisom"], r["batched"]
    verdict = "PASS" if min(r["ratio"], r["cpu_ratio"]) >= TARGET_RATIO and r["qe_ok"] else "MISS"
    print(f"{r['size']:>2}x{r['size']:<2} {r['schedule']:<15} {r['n_updates']:>6,} updates | "
          f"minisom {m['seconds']:6.2f} s (cpu {m['cpu']:6.2f}) QE {m['qe']:.4f} TE {m['te']:.4f} | "
          f"batched B={r['batch_size']} {b['seconds']:5.3f} s (cpu {b['cpu']:5.3f}) QE {b['qe']:.4f} "
          f"TE {b['te']:.4f} | {r['ratio']:4.1f}x wall, {r['cpu_ratio']:4.1f}x cpu, "
          f"QE {'<=' if r['qe_ok'] else '>'} {verdict}", flush=True)


def rows(quick: bool = False) -> list[dict]:
    """Lines for ``bench/run_all.py``: wall and CPU seconds of minisom / ours on digits, 10x10 and 20x20
    (linear schedule, 50 passes; ``quick``: 20 passes, 1 round), goal >= 25x at equal or lower QE."""
    import torch

    torch.set_num_threads(1)
    X = load_dataset("digits").X
    table = []
    for size in (10, 20):
        r = compare(X, size, "linear", 20 if quick else 50, 1 if quick else 3, None, "cpu")
        for clock, key, ratio in (("wall", "seconds", r["ratio"]), ("CPU", "cpu", r["cpu_ratio"])):
            table.append({"figure": f"SOM {size}x{size} on digits vs minisom, {r['n_updates']:,} updates: {clock} s "
                                    f"(QE {r['batched']['qe']:.4f} vs {r['minisom']['qe']:.4f})",
                          "ours": r["batched"][key], "reference": r["minisom"][key], "ratio": ratio,
                          "goal": f">= {TARGET_RATIO:.0f}, QE <=", "met": ratio >= TARGET_RATIO and r["qe_ok"]})
    return table


def gpu_scale(device: str, n_samples: int, size: int, batch_size: int, minisom_slice: int) -> None:
    """The batched SOM at scale on the GPU; minisom's time for the same work extrapolated from a slice."""
    shapes = load_dataset("shapes", n_samples=n_samples)
    X = shapes.X
    params = map_params(size, "linear")
    train_batched(X[:5000], params, 5000, 0, batch_size, device)  # warm-up
    seconds, _, qe, te = train_batched(X, params, n_samples, 0, batch_size, device)
    slice_seconds = train_minisom(X, params, minisom_slice, 0)[0]
    estimate = slice_seconds * n_samples / minisom_slice
    print(f"{device}: {size}x{size} map, {n_samples:,} samples of {X.shape[1]} features, one pass: "
          f"batched (B={batch_size}) {seconds:.2f} s ({n_samples / seconds:,.0f} samples/s), QE {qe:.3f}, TE {te:.3f}; "
          f"minisom about {estimate:,.0f} s (extrapolated from {minisom_slice:,} updates), "
          f"ratio about {estimate / seconds:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="sample updates = epochs x 1,797")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="10,20")
    parser.add_argument("--schedule", choices=(*SCHEDULES, "both"), default="both")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 256")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for ours; minisom (numpy on tiny arrays) uses one core")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (the CPU comparison runs on cpu)")
    parser.add_argument("--gpu-samples", type=int, default=100_000)
    parser.add_argument("--gpu-map", type=int, default=40)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    digits = load_dataset("digits")
    print(f"digits: {digits.n_samples:,} x {digits.n_features}; torch threads {args.threads}; "
          f"{args.rounds} rounds, median seconds, mean errors; target >= {TARGET_RATIO:.0f}x at equal or lower QE")
    schedules = list(SCHEDULES) if args.schedule == "both" else [args.schedule]
    for size in (int(s) for s in args.sizes.split(",")):
        for schedule in schedules:
            print_result(compare(digits.X, size, schedule, args.epochs, args.rounds, args.batch_size, "cpu"))
    device = resolve_device(args.device)
    if device.startswith("cuda"):
        gpu_scale(device, args.gpu_samples, args.gpu_map, batch_size=4096, minisom_slice=2000)
    else:
        print("no CUDA GPU here: the 100k-sample, 40x40 GPU measurement was skipped")


if __name__ == "__main__":
    main()
