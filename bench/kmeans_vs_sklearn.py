"""Our k-means vs scikit-learn's KMeans on 1,000,000 x 64, k = 16, 20 Lloyd iterations, same process.

Both start from the same centres (k-means++ drawn once), run exactly 20 Lloyd iterations (tol 0,
n_init 1; scikit-learn's ``algorithm="lloyd"``) on the same float32 data with the same number of
threads, and must reach the same inertia (within 1e-4 relative). Rounds alternate so machine noise
hits both alike; the medians are printed, and the ratio is the median of the rounds' ratios. Each fit is timed from the array to the
fitted model. A last line times our mini-batch k-means (same first centres), the path for large
files, to reach the same inertia within 1%. ``rows()`` gives the line for ``bench/run_all.py``.

    python bench/kmeans_vs_sklearn.py [--rows 1000000] [--features 64] [--clusters 16] [--rounds 5]
                                      [--threads N] [--device cpu|cuda|auto] [--data blobs|uniform]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from unsup_core.algorithms.kmeans_estimator import KMeans, MiniBatchKMeans, seed_centers
from unsup_core.device import resolve_device

ITERATIONS = 20
GOAL_RATIO = 1.5  # scikit-learn's time / ours


DATA = ("blobs", "uniform")


def make_data(rows: int, features: int, clusters: int, seed: int = 0, kind: str = "blobs") -> np.ndarray:
    """float32 rows built in chunks to keep the peak low: Gaussian blobs around ``clusters`` random
    centres, or (``kind="uniform"``) uniform noise with no clusters at all, the hard case for any
    k-means that skips distances."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (clusters, features)).astype(np.float32)
    X = np.empty((rows, features), dtype=np.float32)
    for start in range(0, rows, 100_000):
        stop = min(rows, start + 100_000)
        size = (stop - start, features)
        if kind == "uniform":
            X[start:stop] = rng.uniform(0, 1, size)
        else:
            X[start:stop] = centres[rng.integers(0, clusters, stop - start)] + rng.normal(0, 1, size)
    return X


def synchronise(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def ours(X: np.ndarray, init: np.ndarray, device: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    model = KMeans(len(init), init=init, max_iter=ITERATIONS, tol=0.0, device=device).fit(X)
    synchronise(device)
    return time.perf_counter() - started, model.inertia_, model.n_iter_


def theirs(X: np.ndarray, init: np.ndarray) -> tuple[float, float, int]:
    from sklearn.cluster import KMeans as SklearnKMeans

    started = time.perf_counter()
    model = SklearnKMeans(len(init), init=init, n_init=1, max_iter=ITERATIONS, tol=0.0, algorithm="lloyd").fit(X)
    return time.perf_counter() - started, float(model.inertia_), int(model.n_iter_)


def minibatch_to_reach(X: np.ndarray, init: np.ndarray, target: float, device: str) -> tuple[float, int, float]:
    started = time.perf_counter()
    model = MiniBatchKMeans(len(init), init=init, random_state=0, device=device, tol=0.0).start(X)
    while model.n_iter_ < 50:
        model.iterate()
        if model.inertia_ <= 1.01 * target:
            break
    synchronise(device)
    return time.perf_counter() - started, model.n_iter_, model.inertia_


def measure(rows: int = 1_000_000, features: int = 64, clusters: int = 16, rounds: int = 5, threads: int = 0,
            device: str = "cpu", data: str = "blobs", report=print) -> dict:
    """Alternating rounds of ours and scikit-learn's fit; the medians, their ratio and the mini-batch line."""
    import os

    import torch
    from threadpoolctl import threadpool_limits

    threads = threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    device = resolve_device(device)
    X = make_data(rows, features, clusters, kind=data)
    generator = torch.Generator().manual_seed(0)
    init = seed_centers(torch.as_tensor(X[:100_000]), clusters, "k-means++", generator).numpy()
    report(f"{data} {rows:,} x {features} float32, k = {clusters}, {ITERATIONS} Lloyd iterations, "
           f"{threads} threads, our device: {device}, load average {os.getloadavg()[0]:.1f}")
    with threadpool_limits(threads):
        ours(X[:20_000], init, device)  # warm-up: loads numba and its cached kernel
        our_times, their_times = [], []
        for round_index in range(rounds):
            our_time, our_inertia, our_iterations = ours(X, init, device)
            their_time, their_inertia, their_iterations = theirs(X, init)
            our_times.append(our_time)
            their_times.append(their_time)
            report(f"round {round_index + 1}: ours {our_time:6.2f} s ({our_iterations} it, inertia {our_inertia:.7g})"
                   f"   scikit-learn {their_time:6.2f} s ({their_iterations} it, inertia {their_inertia:.7g})"
                   f"   ratio {their_time / our_time:.2f}")
            assert abs(our_inertia - their_inertia) <= 1e-4 * their_inertia, "the two fits disagree"
        mb_seconds, epochs, mb_inertia = minibatch_to_reach(X, init, their_inertia, device)
    ours_median, theirs_median = statistics.median(our_times), statistics.median(their_times)
    # Each round's two fits ran back to back, so their ratio cancels most of what other jobs on the
    # machine do; the median of those ratios is the figure (the ratio of the medians is printed too).
    paired = statistics.median(theirs / ours for ours, theirs in zip(our_times, their_times))
    report(f"median: ours {ours_median:.2f} s, scikit-learn {theirs_median:.2f} s (ratio of medians "
           f"{theirs_median / ours_median:.2f}); median of the rounds' scikit-learn / ours {paired:.2f} "
           f"(above 1: ours is faster)")
    report(f"mini-batch k-means: {mb_seconds:.2f} s, {epochs} epochs to inertia {mb_inertia:.6g} "
           f"(within 1% of Lloyd's after {ITERATIONS} iterations: {mb_inertia <= 1.01 * their_inertia})")
    return {"rows": rows, "features": features, "clusters": clusters, "threads": threads, "ours": ours_median,
            "theirs": theirs_median, "ratio": paired}


def rows(quick: bool = False) -> list[dict]:
    """The bench's lines for ``bench/run_all.py``: median seconds of our fit and scikit-learn's, and the
    median over rounds of scikit-learn's time / ours (goal: 1.5x faster), on clustered data (16 blobs)
    and on uniform noise, the worst case for skipped distances. ``quick``: 3 rounds, not 5."""
    lines = []
    for data, what in (("blobs", "16 blobs"), ("uniform", "uniform noise, no clusters")):
        result = measure(rounds=3 if quick else 5, data=data, report=lambda line: None)
        lines.append({"figure": f"k-means {result['rows']:,} x {result['features']} float32 ({what}), "
                                f"k = {result['clusters']}, {ITERATIONS} Lloyd iterations, CPU, {result['threads']} "
                                "threads: seconds (vs scikit-learn)",
                      "ours": result["ours"], "reference": result["theirs"], "ratio": result["ratio"],
                      "goal": f">= {GOAL_RATIO}", "met": result["ratio"] >= GOAL_RATIO})
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--clusters", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--data", default="blobs", choices=DATA)
    args = parser.parse_args()
    measure(args.rows, args.features, args.clusters, args.rounds, args.threads, args.device, args.data)


if __name__ == "__main__":
    main()
