"""k-means in torch (Lloyd's and mini-batch): scikit-learn's API, CUDA when asked, bounded memory.

Distances are computed in row chunks as ||x||^2 - 2 x.c + ||c||^2: the nearest centre only needs
||c||^2 - 2 x.c (one fused matmul per chunk), and ||x||^2 is computed once per fit. So 1,000,000 x 64
data never needs an N x k x D temporary. A Lloyd iteration assigns a chunk and adds it to its
centres' sums while the chunk is still in the CPU cache (as scikit-learn's Cython does); chunks
are small on the CPU (cache-sized) and large on a GPU. ``start`` + ``iterate`` expose single
iterations (a Lloyd step, or one mini-batch epoch) so a run can show the clustering move.

On the CPU, data of at least ``CPU_KERNEL_MIN_VALUES`` values is assigned by the numba kernel of
:mod:`kmeans_cpu` instead (the same Lloyd iterations, skipping the distances that cannot change an
assignment: 2-4x faster than scikit-learn's Lloyd on 1,000,000 x 64 with clusters in it, 0.9x on
structureless noise, see bench/README.md); below that, loading numba and its compiled kernel (about
half a second in a fresh process) costs more than it saves. torch stays the GPU path.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

CPU_KERNEL_MIN_VALUES = 2**23  # n_samples x n_features from which the CPU uses the numba kernel
NOT_FINITE = "X contains NaN or infinite values; impute or drop them first"


def default_chunk_rows(device: str) -> int:
    return 65536 if str(device).startswith("cuda") else 4096


def row_norms(data: torch.Tensor) -> torch.Tensor:
    """||x||^2 per row [N]."""
    return torch.linalg.vector_norm(data, dim=1).square()


def nearest_centers(data: torch.Tensor, centers: torch.Tensor, chunk_rows: int = 4096,
                    norms: torch.Tensor | None = None,
                    sums: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest centre [N] and the squared distance to it [N], chunk by chunk.

    ``norms``: precomputed ||x||^2 [N]. ``sums`` [k, D]: when given, each chunk is also added to
    the sum of its nearest centre (the update step of Lloyd's algorithm, fused with the assignment).
    """
    center_norms = (centers**2).sum(dim=1)
    labels = torch.empty(len(data), dtype=torch.long, device=data.device)
    distances = torch.empty(len(data), dtype=data.dtype, device=data.device)
    for start in range(0, len(data), chunk_rows):
        chunk = data[start:start + chunk_rows]
        best, index = torch.addmm(center_norms, chunk, centers.T, alpha=-2).min(dim=1)
        chunk_norms = row_norms(chunk) if norms is None else norms[start:start + len(chunk)]
        labels[start:start + len(chunk)] = index
        distances[start:start + len(chunk)] = (best + chunk_norms).clamp(min=0)
        if sums is not None:
            sums.index_add_(0, index, chunk)
    return labels, distances


def mean_feature_variance(data: torch.Tensor, chunk_rows: int = 65536) -> float:
    """The variance of each column averaged over columns, in float64 and by chunks (no N x D temporary)."""
    total = torch.zeros(data.shape[1], dtype=torch.float64, device=data.device)
    squares = torch.zeros_like(total)
    for start in range(0, len(data), chunk_rows):
        chunk = data[start:start + chunk_rows].double()
        total += chunk.sum(dim=0)
        squares += (chunk**2).sum(dim=0)
    mean = total / len(data)
    return float((squares / len(data) - mean**2).clamp(min=0).mean())


def seed_centers(data: torch.Tensor, n_clusters: int, init: str | np.ndarray,
                 generator: torch.Generator) -> torch.Tensor:
    """``n_clusters`` initial centres: given [k, D], random rows, or k-means++ (Arthur & Vassilvitskii 2007)."""
    n = len(data)
    if not isinstance(init, str):
        return torch.as_tensor(np.asarray(init, dtype=np.float32), device=data.device).clone()
    if init == "random":
        rows = torch.randperm(n, generator=generator)[:n_clusters]
        return data[rows.to(data.device)].clone()
    # k-means++: sample each new centre with probability proportional to its squared distance
    # from the nearest centre chosen so far (distances via norms: no N x D temporary).
    row_norms = (data**2).sum(dim=1)

    def squared_distance_to(index: int) -> torch.Tensor:
        return (row_norms - 2 * data @ data[index] + row_norms[index]).clamp(min=0)

    first = int(torch.randint(n, (1,), generator=generator))
    chosen = [first]
    nearest = squared_distance_to(first)
    for _ in range(1, n_clusters):
        weights = nearest.double().cpu()
        if float(weights.sum()) <= 0:  # fewer distinct points than clusters
            index = int(torch.randint(n, (1,), generator=generator))
        else:
            index = int(torch.multinomial(weights, 1, generator=generator))
        chosen.append(index)
        nearest = torch.minimum(nearest, squared_distance_to(index))
    return data[torch.tensor(chosen, device=data.device)].clone()


def uses_cpu_kernel(device: str, n_samples: int, n_features: int) -> bool:
    """Whether a fit on this device and data size runs on the numba kernel (see the module's docstring)."""
    return torch.device(device).type == "cpu" and n_samples * n_features >= CPU_KERNEL_MIN_VALUES


class _TorchKMeansBase(ClusterMixin, TransformerMixin, BaseEstimator):
    """What both k-means share: validation, the scikit-learn methods, and fitting by iterating."""

    n_clusters: int
    init: str | np.ndarray
    max_iter: int
    device: str
    chunk_rows: int | None  # None: cache-sized on the CPU, large on a GPU

    def fit(self, X: np.ndarray, y: None = None):
        self.start(X)
        while not self.converged_ and self.n_iter_ < self.max_iter:
            self.iterate()
        return self

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X: np.ndarray) -> np.ndarray:
        labels, _ = nearest_centers(self._as_tensor(X, fitting=False), self._centers, self._chunk)
        return labels.cpu().numpy()

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each sample to each centre, [N, k]."""
        return torch.cdist(self._as_tensor(X, fitting=False), self._centers).cpu().numpy()

    def score(self, X: np.ndarray, y: None = None) -> float:
        _, distances = nearest_centers(self._as_tensor(X, fitting=False), self._centers, self._chunk)
        return -float(distances.sum())

    @property
    def cluster_centers_(self) -> np.ndarray:
        return self._centers.cpu().numpy()

    def _validate_params(self) -> None:
        if not isinstance(self.n_clusters, int) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters!r}")
        if not isinstance(self.init, str):
            if np.shape(self.init)[0] != self.n_clusters:
                raise ValueError(f"init has {np.shape(self.init)[0]} centres for n_clusters={self.n_clusters}")
        elif self.init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++', 'random' or an array of centres, got {self.init!r}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter!r}")

    def _as_tensor(self, X: np.ndarray, fitting: bool) -> torch.Tensor:
        """``X`` as a float32 tensor on the device; when not ``fitting``, the model must be fitted and
        ``X`` must have the features it was fitted on (scikit-learn's message names both counts)."""
        if not fitting:
            check_is_fitted(self)
        X = validate_data(self, X, reset=fitting, dtype=np.float32, order="C", ensure_all_finite=False)
        data = torch.as_tensor(X, device=self.device)
        if fitting and uses_cpu_kernel(self.device, *data.shape):
            return data  # checked by the kernel's first pass (see _prepare)
        finite = all(bool(torch.isfinite(data[start:start + 65536]).all()) for start in range(0, len(data), 65536))
        if not finite:
            raise ValueError(NOT_FINITE)
        return data

    @property
    def _chunk(self) -> int:
        return self.chunk_rows or default_chunk_rows(self.device)

    def _prepare(self, X: np.ndarray, random_state: int | None) -> None:
        self._validate_params()
        self._X = self._as_tensor(X, fitting=True)
        if len(self._X) < self.n_clusters:
            raise ValueError(f"n_samples={len(self._X)} should be >= n_clusters={self.n_clusters}")
        self._lloyd = None
        if uses_cpu_kernel(self.device, *self._X.shape):
            from unsup_core.algorithms.kmeans_cpu import LloydState, finite_mean_and_variance

            moments = finite_mean_and_variance(self._X.numpy(), torch.get_num_threads())
            if moments is None:
                raise ValueError(NOT_FINITE)
            origin, variance = moments
            self._lloyd = LloydState(self._X.numpy(), self.n_clusters, origin, torch.get_num_threads())
            self._norms = None
        else:
            variance = mean_feature_variance(self._X)
            self._norms = row_norms(self._X)
        self._tol_abs = self.tol * variance
        self._generator = torch.Generator(device="cpu").manual_seed(0 if random_state is None else int(random_state))
        self.labels_ = None
        self.n_iter_ = 0
        self.converged_ = False

    def _count_changes(self, labels: torch.Tensor) -> int:
        """How many samples changed cluster since the last iteration (all of them the first time)."""
        new_labels = labels.cpu().numpy()
        changed = len(new_labels) if self.labels_ is None else int((new_labels != self.labels_).sum())
        self.labels_ = new_labels
        return changed


class KMeans(_TorchKMeansBase):
    """k-means clustering (Lloyd's algorithm, k-means++ seeding).

    Parameters mirror :class:`sklearn.cluster.KMeans`: ``n_clusters``, ``init`` ("k-means++",
    "random" or the first centres [k, D]), ``max_iter``, ``tol`` (relative to the mean feature
    variance) and ``random_state``.
    Fitted attributes: ``cluster_centers_`` [k, D], ``labels_`` [N], ``inertia_``, ``n_iter_``.
    """

    def __init__(self, n_clusters: int = 8, *, init: str | np.ndarray = "k-means++", max_iter: int = 300,
                 tol: float = 1e-4, random_state: int | None = None, device: str = "cpu",
                 chunk_rows: int | None = None) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.chunk_rows = chunk_rows

    def start(self, X: np.ndarray) -> "KMeans":
        """Validate ``X``, seed the centres, and get ready for :meth:`iterate`."""
        self._prepare(X, self.random_state)
        self._centers = seed_centers(self._X, self.n_clusters, self.init, self._generator)
        return self

    def iterate(self) -> dict[str, float]:
        """One Lloyd iteration: assign every sample, then move each centre to its samples' mean."""
        if self._lloyd is not None:
            inertia, changed = self._lloyd.assign(self._centers.numpy())
            self.labels_ = self._lloyd.labels  # updated in place by the next iteration
            counts = torch.from_numpy(self._lloyd.counts)
            new_centers = torch.from_numpy(self._lloyd.means().astype(np.float32))
        else:
            sums = torch.zeros_like(self._centers)
            labels, distances = nearest_centers(self._X, self._centers, self._chunk, self._norms, sums)
            inertia = float(distances.sum())
            changed = self._count_changes(labels)
            counts = torch.bincount(labels, minlength=self.n_clusters)
            new_centers = sums / counts.clamp(min=1).unsqueeze(1).to(sums.dtype)
        empty = (counts == 0).nonzero().flatten()
        if len(empty):
            # Relocate empty clusters to the samples worst served by their current centre.
            if self._lloyd is not None:
                _, distances = nearest_centers(self._X, self._centers, self._chunk)
            farthest = torch.topk(distances, len(empty)).indices
            new_centers[empty] = self._X[farthest]
        shift = float(((new_centers - self._centers) ** 2).sum())
        self._centers = new_centers
        self.inertia_ = inertia
        self.n_iter_ += 1
        self.converged_ = shift <= self._tol_abs or changed == 0
        return {"inertia": inertia, "center_shift": shift, "n_changed": float(changed)}

    def get_state(self) -> dict:
        labels = torch.empty(0, dtype=torch.int32) if self.labels_ is None else torch.from_numpy(
            self.labels_.astype(np.int32))
        return {"centers": self._centers.cpu(), "n_iter": self.n_iter_, "labels": labels}

    def set_state(self, state: dict) -> None:
        self._centers = state["centers"].to(self.device, torch.float32)
        self.n_iter_ = int(state["n_iter"])
        labels = state.get("labels")
        self.labels_ = labels.numpy().astype(np.int64) if labels is not None and len(labels) else None
        if self._lloyd is not None:
            self._lloyd.forget_bounds(self.labels_)


class MiniBatchKMeans(_TorchKMeansBase):
    """Mini-batch k-means (Sculley 2010): centres follow small random batches, one epoch per iteration.

    Each batch moves every centre c towards the mean of its batch members with the step
    n_c / N_c, where N_c counts all samples c has ever received, so centres settle as they learn.
    One epoch visits every sample once; then all samples are assigned to the final centres, so
    ``labels_`` and ``inertia_`` are exact. Stops when an epoch moves the centres by less than
    ``tol`` (relative to the mean feature variance) or improves the inertia by less than ``tol``.
    Larger batches are steadier and slower; 1024-8192 suits most data.
    """

    def __init__(self, n_clusters: int = 8, *, init: str = "k-means++", batch_size: int = 4096,
                 max_iter: int = 100, tol: float = 1e-3, random_state: int | None = None,
                 device: str = "cpu", chunk_rows: int | None = None) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.chunk_rows = chunk_rows

    def start(self, X: np.ndarray) -> "MiniBatchKMeans":
        self._prepare(X, self.random_state)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")
        # Seed on a sample, as scikit-learn does: k-means++ over all rows would cost k full passes.
        init_rows = min(len(self._X), max(3 * self.batch_size, 10 * self.n_clusters))
        sample = torch.randperm(len(self._X), generator=self._generator)[:init_rows].to(self._X.device)
        self._centers = seed_centers(self._X[sample], self.n_clusters, self.init, self._generator)
        self._counts = torch.zeros(self.n_clusters, dtype=self._X.dtype, device=self._X.device)
        self.inertia_ = float("inf")
        return self

    def iterate(self) -> dict[str, float]:
        """One epoch of mini-batch updates, then an exact assignment of every sample."""
        old_centers = self._centers.clone()
        order = torch.randperm(len(self._X), generator=self._generator).to(self._X.device)
        if self._lloyd is not None:
            self._numba_epoch(order.numpy())
        else:
            self._torch_epoch(order)
        inertia, changed = self._assign_all()
        if self._empty_clusters().numel():
            _, distances = nearest_centers(self._X, self._centers, self._chunk, self._norms)
            empty = self._empty_clusters()
            self._centers[empty] = self._X[torch.topk(distances, len(empty)).indices]
            inertia, changed = self._assign_all()
        shift = float(((self._centers - old_centers) ** 2).sum())
        improvement = (self.inertia_ - inertia) / inertia if inertia > 0 and self.n_iter_ else float("inf")
        self.inertia_ = inertia
        self.n_iter_ += 1
        self.converged_ = shift <= self._tol_abs or improvement < self.tol or changed == 0
        return {"inertia": inertia, "center_shift": shift, "n_changed": float(changed)}

    def _torch_epoch(self, order: torch.Tensor) -> None:
        for start in range(0, len(order), self.batch_size):
            batch = self._X[order[start:start + self.batch_size]]
            labels, _ = nearest_centers(batch, self._centers, self._chunk)
            batch_counts = torch.bincount(labels, minlength=self.n_clusters).to(batch.dtype)
            sums = torch.zeros_like(self._centers).index_add_(0, labels, batch)
            self._counts += batch_counts
            step = (batch_counts / self._counts.clamp(min=1)).unsqueeze(1)
            self._centers += step * (sums / batch_counts.clamp(min=1).unsqueeze(1) - self._centers)

    def _numba_epoch(self, order: np.ndarray) -> None:
        """The same epoch in one numba call on one thread: torch's small per-batch operations each wait
        for all its threads, which on a busy machine took 30x longer than the work."""
        from unsup_core.algorithms.kmeans_cpu import minibatch_epoch

        counts = self._counts.double().numpy()
        minibatch_epoch(self._X.numpy(), order, self._centers.numpy(), counts, self.batch_size)
        self._counts.copy_(torch.from_numpy(counts))

    def _assign_all(self) -> tuple[float, int]:
        """Every sample to its nearest centre: (inertia, samples that changed cluster)."""
        if self._lloyd is not None:  # the centres move little between epochs, so most rows are not read
            inertia, changed = self._lloyd.assign(self._centers.numpy())
            self.labels_ = self._lloyd.labels
            return inertia, changed
        labels, distances = nearest_centers(self._X, self._centers, self._chunk, self._norms)
        return float(distances.sum()), self._count_changes(labels)

    def _empty_clusters(self) -> torch.Tensor:
        labels = torch.from_numpy(np.asarray(self.labels_, dtype=np.int64))
        return (torch.bincount(labels, minlength=self.n_clusters) == 0).nonzero().flatten()

    def get_state(self) -> dict:
        return {"centers": self._centers.cpu(), "counts": self._counts.cpu(), "n_iter": self.n_iter_,
                "inertia": self.inertia_, "generator": self._generator.get_state()}

    def set_state(self, state: dict) -> None:
        self._centers = state["centers"].to(self.device, torch.float32)
        self._counts = state["counts"].to(self.device, torch.float32)
        self.n_iter_ = int(state["n_iter"])
        self.inertia_ = float(state["inertia"])
        self._generator.set_state(state["generator"])
