"""One adapter that runs any scikit-learn-style clusterer through the training protocol.

Estimators with ``start``/``iterate`` (our iterative ones) advance one iteration per step so the
clustering can be watched; any other estimator is fitted in a single step. The views get a fixed
2-D projection of a fixed subsample, the current labels, and the centres when the model has them.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from unsup_core.algorithms.base import Algorithm
from unsup_core.datasets import Dataset
from unsup_core.metrics import adjusted_rand_index, normalized_mutual_info
from unsup_core.projection import PCAProjection

MAX_DISPLAY_POINTS = 5000


def standardise(X: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per column; constant columns are left at zero."""
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


class EstimatorAlgorithm(Algorithm):
    """Base for clusterers: subclasses give a ``Config`` and :meth:`make_estimator`."""

    family = "clustering"
    accepts = ("table", "points2d", "images")

    @abstractmethod
    def make_estimator(self, seed: int, device: str):
        """A fresh estimator configured from ``self.config``."""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        self.data = data
        scaling = getattr(self.config, "scaling", "none")
        if scaling == "auto":
            scaling = "standard" if data.kind == "table" else "none"
        self.features = standardise(data.X) if scaling == "standard" else data.X
        self.estimator = self.make_estimator(seed, device)
        self.incremental = hasattr(self.estimator, "iterate")
        rng = np.random.default_rng(seed)
        n = data.n_samples
        self.display_rows = np.sort(rng.choice(n, MAX_DISPLAY_POINTS, replace=False)) if n > MAX_DISPLAY_POINTS \
            else np.arange(n)
        self.projection = PCAProjection(seed=seed).fit(self.features)
        self.display_points = self.projection.transform(self.features[self.display_rows])
        if self.incremental:
            self.estimator.start(self.features)

    def step(self) -> dict[str, float]:
        if self.incremental:
            values = self.estimator.iterate()
            self.finished = bool(self.estimator.converged_)
        else:
            self.estimator.fit(self.features)
            self.finished = True
            values = {}
        labels = self.current_labels()
        values["n_clusters_found"] = float(len(np.unique(labels[labels >= 0])))
        if self.data.has_labels:
            values["ari"] = float(adjusted_rand_index(self.data.y, labels))
            values["nmi"] = float(normalized_mutual_info(self.data.y, labels))
        return values

    def current_labels(self) -> np.ndarray:
        labels = getattr(self.estimator, "labels_", None)
        return np.full(self.data.n_samples, -1) if labels is None else np.asarray(labels)

    def snapshot(self) -> dict[str, np.ndarray]:
        labels = self.current_labels()
        arrays = {"points": self.display_points, "labels": labels[self.display_rows]}
        if self.data.has_labels:
            arrays["true_labels"] = self.data.y[self.display_rows]
        if self.data.label_names:
            arrays["label_names"] = np.array(self.data.label_names)
        centers = getattr(self.estimator, "cluster_centers_", None)
        if centers is not None:
            arrays["centers"] = self.projection.transform(centers)
        if self.data.kind == "images" and (labels >= 0).any():
            arrays["center_images"] = self._cluster_mean_images(labels)
        return arrays

    def _cluster_mean_images(self, labels: np.ndarray) -> np.ndarray:
        """Each cluster's mean image in the original pixel space (readable even when scaled)."""
        clusters = np.unique(labels[labels >= 0])
        means = [self.data.X[labels == c].mean(axis=0) for c in clusters]
        return np.stack(means).reshape((-1, *self.data.image_shape)).astype(np.float32)

    def state_dict(self) -> dict:
        return self.estimator.get_state() if self.incremental else {}

    def load_state_dict(self, state: dict) -> None:
        if self.incremental and state:
            self.estimator.set_state(state)
