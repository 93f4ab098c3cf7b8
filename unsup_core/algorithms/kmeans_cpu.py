"""Lloyd's k-means on the CPU (numba): exact Lloyd iterations that skip the distances that cannot matter.

Every iteration gives the same assignment as a full Lloyd pass, but a row is only compared with
all k centres when Hamerly's bounds (Hamerly 2010, "Making k-means even faster") say its centre
may have changed. Per row we keep an upper bound u >= d(x, c_a) to its own centre a and a lower
bound l <= d(x, c_j) to every other centre; when the centres move by s_j, u grows by s_a and l
shrinks by max_{j != a} s_j. A row keeps its centre when u <= max(l, gap_a / 2), gap_a being
the distance from c_a to its nearest other centre (triangle inequality). Once the clusters settle,
most rows are decided by three numbers, so an iteration costs a fraction of a pass over the data.

The cluster sums are updated by the rows that move (sums[new] += x, sums[old] -= x), so rows
that stay are never read; the inertia follows from the per-cluster sums too:
    sum_{i in j} ||x_i - c||^2 = Q_j - 2 (c - o).S_j + n_j ||c - o||^2,
with S_j, Q_j the sums of x - o and ||x - o||^2 over the cluster's rows, o the data's mean
(centring keeps the cancellation as small as the spread allows, as scikit-learn's centring does).
Sums are float64. Distances to every centre come from ||x - o||^2 - 2 (x - o).(c - o) + ||c - o||^2
in float32 (one multiply-add per value, and centred as scikit-learn centres); the bounds are widened
by the worst-case rounding error of those dot products and by ``BOUND_SLACK``, so rounding never
makes a bound lie.

Kernels are compiled once and cached on disk (``cache=True``): the first use on a machine pays
the compilation, later processes load it in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import threading

import numba
import numpy as np
from numba import njit, prange

BOUND_SLACK = 1e-4  # relative, on top of the worst-case rounding of each distance
# Reordered sums (vectorised reductions) and fused multiply-adds, but no "no infinities / no NaN"
# assumption: bounds start at infinity, and with one centre the second-nearest distance stays there.
FAST = {"reassoc", "contract", "nsz"}
PARTS_PER_THREAD = 8  # rows are split into this many parts per thread, each with its own partial sums
PART_SUMS_BYTES = 32 << 20


@njit(parallel=True, fastmath=FAST, cache=True)
def assign_rows(X, origin, centers, centred, centred_norms, shift, half_gap, labels, upper, lower,
                sums, squares, counts, changed):
    """One assignment pass; updates labels, bounds and per-part changes to the cluster sums in place.

    X [N, D] float32; origin o [D] float32; centers [k, D] float32, ``centred`` = centers - o and
    their squared norms [k]; shift [k] (how far each centre moved since the bounds were set);
    half_gap [k] (half the distance to the nearest other centre); labels [N] int32 (-1: not
    assigned yet, so compared with every centre); upper, lower [N] float64.
    Outputs per part p: sums [P, k, D] float64 (change of sum(x - o)), squares [P, k] (change of
    sum ||x - o||^2), counts [P, k] int64 (change of rows), changed [P] (rows that moved).
    """
    n, d = X.shape
    k = centers.shape[0]
    n_parts = changed.shape[0]
    largest, runner_up, largest_at = 0.0, 0.0, -1
    for j in range(k):
        if shift[j] > largest:
            runner_up, largest, largest_at = largest, shift[j], j
        elif shift[j] > runner_up:
            runner_up = shift[j]
    # A float32 dot product of length d is off by at most d * 2^-24 * ||a|| ||b|| (Higham), so a
    # squared distance from the norms is off by at most this share of ||x - o||^2 + ||c - o||^2.
    dot_error = d * 2.0**-24 * 2
    sum_error = (d + 2) * 2.0**-24  # a float32 sum of d squared differences, relative
    largest_norm = np.float64(centred_norms.max())
    rows_per_part = (n + n_parts - 1) // n_parts
    for part in prange(n_parts):
        sums[part] = 0.0
        squares[part] = 0.0
        counts[part] = 0
        row = np.empty(d, dtype=np.float32)
        scores = np.empty(k, dtype=np.float32)
        moved = 0
        for i in range(part * rows_per_part, min(n, (part + 1) * rows_per_part)):
            old = labels[i]
            if old >= 0:
                u = upper[i] + shift[old]
                l = lower[i] - (runner_up if old == largest_at else largest)
                keep_below = max(l, half_gap[old])
                if u > keep_below:  # the bound alone cannot decide: measure the distance to c_old
                    distance2 = np.float32(0.0)
                    for f in range(d):
                        difference = X[i, f] - centers[old, f]
                        distance2 += difference * difference
                    u = np.sqrt(np.float64(distance2) * (1 + sum_error)) * (1 + BOUND_SLACK)
                if u <= keep_below:
                    upper[i] = u
                    lower[i] = l
                    continue
            # Every centre: ||x - c||^2 = ||x - o||^2 - 2 (x - o).(c - o) + ||c - o||^2, one
            # multiply-add per value (centred, so the norms stay as small as the data's spread).
            row_norm = np.float32(0.0)
            for f in range(d):
                row[f] = X[i, f] - origin[f]
                row_norm += row[f] * row[f]
            # Dot products first, the comparisons after: interleaving the two made it 1.3-1.6x slower.
            for j in range(k):
                dot = np.float32(0.0)
                for f in range(d):
                    dot += row[f] * centred[j, f]
                scores[j] = centred_norms[j] - np.float32(2.0) * dot
            best, second, new = np.inf, np.inf, 0
            for j in range(k):
                score = scores[j]
                if score < best:
                    second, best, new = best, score, j
                elif score < second:
                    second = score
            error = dot_error * (row_norm + largest_norm)
            upper[i] = np.sqrt(max(best + row_norm + error, 0.0)) * (1 + BOUND_SLACK)
            lower[i] = np.sqrt(max(second + row_norm - error, 0.0)) * (1 - BOUND_SLACK)
            if new != old:
                labels[i] = new
                moved += 1
                for f in range(d):
                    sums[part, new, f] += row[f]
                squares[part, new] += row_norm
                counts[part, new] += 1
                if old >= 0:
                    for f in range(d):
                        sums[part, old, f] -= row[f]
                    squares[part, old] -= row_norm
                    counts[part, old] -= 1
        changed[part] = moved


@njit(parallel=True, fastmath=False, cache=True)
def column_moments(X, n_parts):
    """(Sum [D], sum of squares [D]) of the columns in float64, in one pass. Not fast-math: a NaN or
    infinity in ``X`` must reach the sums, which is how the caller finds it."""
    n, d = X.shape
    rows_per_part = (n + n_parts - 1) // n_parts
    sums = np.zeros((n_parts, d))
    squares = np.zeros((n_parts, d))
    for part in prange(n_parts):
        for i in range(part * rows_per_part, min(n, (part + 1) * rows_per_part)):
            for f in range(d):
                value = np.float64(X[i, f])
                sums[part, f] += value
                squares[part, f] += value * value
    return sums.sum(axis=0), squares.sum(axis=0)


@njit(fastmath=FAST, cache=True)
def minibatch_epoch(X, order, centers, counts, batch_size):
    """One epoch of mini-batch k-means (Sculley 2010) over the rows ``order``, updating ``centers``
    [k, D] float32 and ``counts`` [k] (rows each centre has received) in place.

    Each batch is assigned to the current centres; then every centre that received n_c rows moves
    towards their mean by n_c / N_c, N_c its count so far. One thread: a batch is too little work
    to share (on a busy machine, waiting for the second thread at every batch took 10x longer).
    """
    k, d = centers.shape
    sums = np.zeros((k, d))
    received = np.zeros(k)
    for start in range(0, len(order), batch_size):
        sums[:] = 0.0
        received[:] = 0.0
        for position in range(start, min(len(order), start + batch_size)):
            i = order[position]
            best, nearest = np.inf, 0
            for j in range(k):
                distance2 = np.float32(0.0)
                for f in range(d):
                    difference = X[i, f] - centers[j, f]
                    distance2 += difference * difference
                if distance2 < best:
                    best, nearest = distance2, j
            for f in range(d):
                sums[nearest, f] += X[i, f]
            received[nearest] += 1
        for j in range(k):
            if received[j] > 0:
                counts[j] += received[j]
                step = received[j] / counts[j]
                for f in range(d):
                    centers[j, f] += step * (sums[j, f] / received[j] - centers[j, f])


def finite_mean_and_variance(X: np.ndarray, n_threads: int) -> tuple[np.ndarray, float] | None:
    """(Mean of each column [D], the columns' variance averaged over columns), or None when ``X``
    holds a NaN or an infinity: validation and the statistics k-means needs in one pass."""
    with using_threads(n_threads):
        sums, squares = column_moments(X, max(1, min(n_threads * PARTS_PER_THREAD, len(X) // 1024)))
    if not (np.isfinite(sums).all() and np.isfinite(squares).all()):
        return None
    mean = sums / len(X)
    return mean, float(np.maximum(squares / len(X) - mean**2, 0).mean())


_ONE_PARALLEL_KERNEL_AT_A_TIME = threading.Lock()


@contextlib.contextmanager
def using_threads(count: int):
    """Run numba's parallel loops on ``count`` threads (numba's setting is per calling thread),
    handing out parts one by one so that a core busy with other work simply takes fewer.

    One parallel kernel at a time per process: where numba has neither OpenMP nor TBB, its
    fallback thread pool aborts the process when two threads (two sessions of a server) launch
    kernels at once; and two at once would only share the same cores anyway.
    """
    with _ONE_PARALLEL_KERNEL_AT_A_TIME:
        previous = numba.get_num_threads()
        numba.set_num_threads(max(1, min(count, numba.config.NUMBA_NUM_THREADS)))
        try:
            with numba.parallel_chunksize(1):
                yield
        finally:
            numba.set_num_threads(previous)


class LloydState:
    """What the bounded Lloyd iterations keep between passes: labels, bounds and cluster sums."""

    def __init__(self, X: np.ndarray, n_clusters: int, origin: np.ndarray, n_threads: int) -> None:
        self.X = X
        self.origin = origin.astype(np.float32)
        self.n_threads = n_threads
        n, d = X.shape
        # Each part has its own float64 sums [k, D]: at most PART_SUMS_BYTES of them (k = 256 centres
        # of 64 x 64 images would otherwise take 134 MB), but at least one part per thread.
        n_parts = min(self.n_threads * PARTS_PER_THREAD, max(self.n_threads, PART_SUMS_BYTES // (8 * n_clusters * d)))
        n_parts = max(1, min(n_parts, n // 1024))
        self.labels = np.full(n, -1, dtype=np.int32)
        self.upper = np.full(n, np.inf)
        self.lower = np.zeros(n)
        self.sums = np.zeros((n_clusters, d))
        self.squares = np.zeros(n_clusters)
        self.counts = np.zeros(n_clusters, dtype=np.int64)
        self._part_sums = np.empty((n_parts, n_clusters, d))
        self._part_squares = np.empty((n_parts, n_clusters))
        self._part_counts = np.empty((n_parts, n_clusters), dtype=np.int64)
        self._changed = np.empty(n_parts, dtype=np.int64)
        self._bound_centers: np.ndarray | None = None  # the centres the bounds refer to
        self._restored_labels: np.ndarray | None = None

    def forget_bounds(self, labels: np.ndarray | None = None) -> None:
        """Start over: the next pass compares every row with every centre (after a resume);
        ``labels``, when given, are what that pass counts the changes against."""
        self.labels[:] = -1
        self.sums[:] = self.squares[:] = self.counts[:] = 0
        self._bound_centers = None
        self._restored_labels = None if labels is None else np.asarray(labels, dtype=np.int32).copy()

    def assign(self, centers: np.ndarray) -> tuple[float, int]:
        """Assign every row to its nearest centre [k, D]: (inertia, rows that changed cluster)."""
        centers = np.ascontiguousarray(centers, dtype=np.float32)
        shift = np.zeros(len(centers)) if self._bound_centers is None else \
            np.sqrt(((centers.astype(np.float64) - self._bound_centers) ** 2).sum(axis=1))
        centred = centers - self.origin
        centred_norms = (centred.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
        with using_threads(self.n_threads):
            assign_rows(self.X, self.origin, centers, centred, centred_norms, shift, half_gaps(centers),
                        self.labels, self.upper, self.lower, self._part_sums, self._part_squares,
                        self._part_counts, self._changed)
        self._bound_centers = centers.astype(np.float64)
        self.sums += self._part_sums.sum(axis=0)
        self.squares += self._part_squares.sum(axis=0)
        self.counts += self._part_counts.sum(axis=0)
        changed = int(self._changed.sum())
        if self._restored_labels is not None:
            changed, self._restored_labels = int((self.labels != self._restored_labels).sum()), None
        return self.inertia(centers), changed

    def inertia(self, centers: np.ndarray) -> float:
        """sum_j Q_j - 2 (c_j - o).S_j + n_j ||c_j - o||^2: the inertia from the cluster sums alone."""
        centred = centers.astype(np.float64) - self.origin
        value = self.squares.sum() - 2 * (centred * self.sums).sum() + (self.counts * (centred**2).sum(axis=1)).sum()
        return max(float(value), 0.0)

    def means(self) -> np.ndarray:
        """Each cluster's mean [k, D] (rows of empty clusters are meaningless: the caller relocates them)."""
        return self.origin + self.sums / np.maximum(self.counts, 1)[:, None]


def half_gaps(centers: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to its nearest other centre [k] (inf when k = 1)."""
    centers = centers.astype(np.float64)
    centers = centers - centers.mean(axis=0)  # centred, so the norms do not swamp the distances
    squared = (centers**2).sum(axis=1)
    gaps = squared[:, None] - 2 * centers @ centers.T + squared[None, :]
    np.fill_diagonal(gaps, np.inf)
    return 0.5 * np.sqrt(np.maximum(gaps.min(axis=1), 0.0)) * (1 - BOUND_SLACK)
