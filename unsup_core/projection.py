"""Linear 2-D projection for drawing high-dimensional points and centroids in the same plane."""

from __future__ import annotations

import numpy as np


class PCAProjection:
    """PCA fitted by SVD on at most ``max_fit_rows`` rows; identity-like (zero-padded) for data with <= 2 features."""

    def __init__(self, n_components: int = 2, max_fit_rows: int = 20000, seed: int = 0) -> None:
        self.n_components = n_components
        self.max_fit_rows = max_fit_rows
        self.seed = seed

    def fit(self, X: np.ndarray) -> "PCAProjection":
        if len(X) > self.max_fit_rows:  # sample first: a float64 copy of a million rows is not needed
            rows = np.random.default_rng(self.seed).choice(len(X), self.max_fit_rows, replace=False)
            X = np.asarray(X)[rows]
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        if X.shape[1] <= self.n_components:
            # Always n_components axes: a one-feature table is drawn along x, at y = 0, not as a crash.
            self.components_ = np.eye(self.n_components, X.shape[1])
        else:
            _, _, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
            # Fix each axis' sign so the picture does not flip between runs or snapshots.
            signs = np.sign(vt[:, np.argmax(np.abs(vt), axis=1)].diagonal())
            self.components_ = vt[: self.n_components] * signs[: self.n_components, None]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_.T).astype(np.float32)
