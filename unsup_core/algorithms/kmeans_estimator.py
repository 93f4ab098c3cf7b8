"""Lloyd's k-means in torch: scikit-learn's API, CUDA when asked, bounded memory on large data.

Distances are computed in row chunks as ||x||^2 - 2 x.c + ||c||^2 (one matmul per chunk), so
1,000,000 x 64 data never needs an N x k x D temporary. ``start`` + ``iterate`` expose single Lloyd
iterations so a run can show the clustering move.
"""

from __future__ import annotations

import numpy as np
import torch


class KMeans:
    """k-means clustering (Lloyd's algorithm, k-means++ seeding).

    Parameters mirror :class:`sklearn.cluster.KMeans`: ``n_clusters``, ``init`` ("k-means++" or
    "random"), ``max_iter``, ``tol`` (relative to the mean feature variance) and ``random_state``.
    Fitted attributes: ``cluster_centers_`` [k, D], ``labels_`` [N], ``inertia_``, ``n_iter_``.
    """

    def __init__(self, n_clusters: int = 8, *, init: str = "k-means++", max_iter: int = 300,
                 tol: float = 1e-4, random_state: int | None = None, device: str = "cpu",
                 chunk_rows: int = 65536) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.chunk_rows = chunk_rows

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: None = None) -> "KMeans":
        self.start(X)
        while not self.converged_ and self.n_iter_ < self.max_iter:
            self.iterate()
        return self

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X: np.ndarray) -> np.ndarray:
        labels, _ = self._assign(self._as_tensor(X))
        return labels.cpu().numpy()

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each sample to each centre, [N, k]."""
        data = self._as_tensor(X)
        return torch.cdist(data, self._centers).cpu().numpy()

    def score(self, X: np.ndarray, y: None = None) -> float:
        _, distances = self._assign(self._as_tensor(X))
        return -float(distances.sum())

    # -- incremental protocol ---------------------------------------------------------------
    def start(self, X: np.ndarray) -> "KMeans":
        """Validate ``X``, seed the centres, and get ready for :meth:`iterate`."""
        self._validate_params()
        self._X = self._as_tensor(X)
        if len(self._X) < self.n_clusters:
            raise ValueError(f"n_samples={len(self._X)} should be >= n_clusters={self.n_clusters}")
        self._generator = torch.Generator(device="cpu").manual_seed(
            0 if self.random_state is None else int(self.random_state))
        self._tol_abs = self.tol * float(self._X.var(dim=0).mean())
        self._centers = self._seed_centers(self._X)
        self.labels_ = None
        self.n_iter_ = 0
        self.converged_ = False
        return self

    def iterate(self) -> dict[str, float]:
        """One Lloyd iteration: assign every sample, then move each centre to its samples' mean."""
        labels, distances = self._assign(self._X)
        inertia = float(distances.sum())
        changed = len(labels) if self.labels_ is None else int((labels.cpu().numpy() != self.labels_).sum())
        counts = torch.bincount(labels, minlength=self.n_clusters)
        sums = torch.zeros_like(self._centers).index_add_(0, labels, self._X)
        new_centers = sums / counts.clamp(min=1).unsqueeze(1).to(sums.dtype)
        empty = (counts == 0).nonzero().flatten()
        if len(empty):
            # Relocate empty clusters to the samples worst served by their current centre.
            farthest = torch.topk(distances, len(empty)).indices
            new_centers[empty] = self._X[farthest]
        shift = float(((new_centers - self._centers) ** 2).sum())
        self._centers = new_centers
        self.labels_ = labels.cpu().numpy()
        self.inertia_ = inertia
        self.n_iter_ += 1
        self.converged_ = shift <= self._tol_abs or changed == 0
        return {"inertia": inertia, "center_shift": shift, "n_changed": float(changed)}

    @property
    def cluster_centers_(self) -> np.ndarray:
        return self._centers.cpu().numpy()

    def get_state(self) -> dict:
        labels = torch.empty(0, dtype=torch.int32) if self.labels_ is None else torch.from_numpy(
            self.labels_.astype(np.int32))
        return {"centers": self._centers.cpu(), "n_iter": self.n_iter_, "labels": labels}

    def set_state(self, state: dict) -> None:
        self._centers = state["centers"].to(self.device, torch.float32)
        self.n_iter_ = int(state["n_iter"])
        labels = state.get("labels")
        self.labels_ = labels.numpy().astype(np.int64) if labels is not None and len(labels) else None

    # -- internals --------------------------------------------------------------------------
    def _validate_params(self) -> None:
        if not isinstance(self.n_clusters, int) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer, got {self.n_clusters!r}")
        if self.init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++' or 'random', got {self.init!r}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter!r}")

    def _as_tensor(self, X: np.ndarray) -> torch.Tensor:
        data = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)
        if data.ndim != 2:
            raise ValueError(f"X must be 2-D [n_samples, n_features], got shape {tuple(data.shape)}")
        if not torch.isfinite(data).all():
            raise ValueError("X contains NaN or infinite values; impute or drop them first")
        return data

    def _assign(self, data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest centre per sample and its squared distance, computed chunk by chunk."""
        center_norms = (self._centers**2).sum(dim=1)
        labels = torch.empty(len(data), dtype=torch.long, device=data.device)
        distances = torch.empty(len(data), dtype=data.dtype, device=data.device)
        for start in range(0, len(data), self.chunk_rows):
            chunk = data[start:start + self.chunk_rows]
            squared = (chunk**2).sum(dim=1, keepdim=True) - 2 * chunk @ self._centers.T + center_norms
            best, index = squared.min(dim=1)
            labels[start:start + len(chunk)] = index
            distances[start:start + len(chunk)] = best.clamp(min=0)
        return labels, distances

    def _seed_centers(self, data: torch.Tensor) -> torch.Tensor:
        n = len(data)
        if self.init == "random":
            rows = torch.randperm(n, generator=self._generator)[: self.n_clusters]
            return data[rows.to(data.device)].clone()
        # k-means++ (Arthur & Vassilvitskii 2007): sample each new centre with probability
        # proportional to its squared distance from the nearest centre chosen so far.
        first = int(torch.randint(n, (1,), generator=self._generator))
        centers = [data[first]]
        nearest = ((data - data[first]) ** 2).sum(dim=1)
        for _ in range(1, self.n_clusters):
            weights = nearest.double().cpu()
            if float(weights.sum()) <= 0:  # fewer distinct points than clusters
                index = int(torch.randint(n, (1,), generator=self._generator))
            else:
                index = int(torch.multinomial(weights, 1, generator=self._generator))
            centers.append(data[index])
            nearest = torch.minimum(nearest, ((data - data[index]) ** 2).sum(dim=1))
        return torch.stack(centers).clone()
