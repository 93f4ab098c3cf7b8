"""One adapter that runs any scikit-learn-style clusterer through the training protocol.

Estimators with ``start``/``iterate`` (our iterative ones) advance one iteration per step so the
clustering can be watched; any other estimator is fitted in a single step. The views get a fixed
2-D projection of a fixed subsample, the current labels, and the centres when the model has them.
Every snapshot also carries ``row_cluster``, the cluster of every sample (-1: noise), which is
what exports and cluster profiles read.
"""

from __future__ import annotations

import time
from abc import abstractmethod

import numpy as np

from unsup_core.algorithms.base import Algorithm
from unsup_core.config import param
from unsup_core.datasets import Dataset, DatasetError
from unsup_core.metrics import adjusted_rand_index, normalized_mutual_info
from unsup_core.projection import PCAProjection
from unsup_core.snapshots import ClusteringSnapshot

MAX_DISPLAY_POINTS = 5000


def standardise(X: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per column; constant columns are left at zero."""
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def scaling_param():
    """The ``scaling`` field every clustering config shares."""
    return param("auto", choices=("auto", "standard", "none"),
                 help="Standardise each feature so none dominates by its units. auto: standardise "
                      "built-in tables, keep pixels, 2-D points and your prepared files as they are.")


def resolve_scaling(scaling: str, data: Dataset) -> str:
    if scaling == "auto":
        return "standard" if data.kind == "table" and not data.preprocessed else "none"
    return scaling


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Labels in the smallest integer type that holds them (a million rows in 2 MB, not 8)."""
    return labels.astype(np.int16 if len(labels) == 0 or labels.max() < 2**15 else np.int32)


class EstimatorAlgorithm(Algorithm):
    """Base for clusterers: subclasses give a ``Config`` and :meth:`make_estimator`.

    ``max_samples`` caps the rows for methods whose memory grows with N^2 (pairwise distances):
    above it the run stops at once with a message instead of exhausting the machine.
    """

    family = "clustering"
    accepts = ("table", "points2d", "images")
    assigns_clusters = True

    @abstractmethod
    def make_estimator(self, seed: int, device: str):
        """A fresh estimator configured from ``self.config``."""

    def row_counts(self) -> dict[str, int]:
        # k-means and its kin stop deep inside scikit-learn on a table with fewer rows than clusters.
        for field in ("n_clusters", "n_components"):
            if getattr(self.config, field, None) is not None:
                return {field: getattr(self.config, field)}
        return {}

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        if self.max_samples is not None and data.n_samples > self.max_samples:
            raise DatasetError(
                f"{self.name} keeps all pairwise distances, so it is limited to {self.max_samples:,} rows and this "
                f"data has {data.n_samples:,}: use a sample (max_rows) or mini-batch k-means / Gaussian mixture")
        self.check_row_counts(data)
        self.data = data
        scaling = resolve_scaling(getattr(self.config, "scaling", "none"), data)
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
            started = time.perf_counter()
            self.estimator.fit(self.features)
            self.finished = True
            values = {"fit_seconds": time.perf_counter() - started}
        labels = self.current_labels()
        values["n_clusters_found"] = float(len(np.unique(labels[labels >= 0])))
        if (labels < 0).any():
            values["noise_fraction"] = float((labels < 0).mean())
        if self.data.has_labels:
            values["ari"] = float(adjusted_rand_index(self.data.y, labels))
            values["nmi"] = float(normalized_mutual_info(self.data.y, labels))
        return values

    def current_labels(self) -> np.ndarray:
        labels = getattr(self.estimator, "labels_", None)
        return np.full(self.data.n_samples, -1) if labels is None else np.asarray(labels)

    def centers(self) -> np.ndarray | None:
        """Cluster centres [k, D] in feature space, when the model has them (k-means, mixtures)."""
        for attribute in ("cluster_centers_", "means_"):
            centers = getattr(self.estimator, attribute, None)
            if centers is not None:
                return np.asarray(centers)
        return None

    def snapshot(self) -> dict[str, np.ndarray]:
        return self.clustering_snapshot().as_arrays()

    def clustering_snapshot(self) -> ClusteringSnapshot:
        labels, data, centers = self.current_labels(), self.data, self.centers()
        return ClusteringSnapshot(
            points=self.display_points, labels=labels[self.display_rows], row_cluster=compact_labels(labels),
            true_labels=data.y[self.display_rows] if data.has_labels else None,
            label_names=np.array(data.label_names) if data.label_names else None,
            centers=self.projection.transform(centers) if centers is not None else None,
            center_images=self._cluster_mean_images(labels) if data.kind == "images" and (labels >= 0).any()
            else None)

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
