"""A SOM as a clusterer: cluster the prototypes, then every sample takes its best unit's cluster.

Clustering the few hundred prototypes instead of the samples is the two-level approach of Vesanto
and Alhoniemi (2000): cheap on any number of samples, and the map shows the clusters as regions.
With ``contiguous=True`` agglomerative clustering may only merge neighbouring units, so every
cluster is one connected region of the map.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.utils.validation import check_is_fitted

from unsup_core.algorithms.som_estimator import SOM
from unsup_core.algorithms.som_grid import MapGrid

CLUSTER_METHODS = ("agglomerative", "kmeans")


def cluster_prototypes(weights: np.ndarray, n_clusters: int, *, method: str = "agglomerative",
                       grid: MapGrid | None = None, contiguous: bool = False, random_state: int = 0) -> np.ndarray:
    """A cluster label per unit [K] from the units' weights [K, D].

    ``method``: "kmeans" (our torch k-means, k-means++ seeding) or "agglomerative" (Ward linkage);
    ``contiguous`` (agglomerative only, needs ``grid``): clusters are connected regions of the map.
    Labels are renumbered by first appearance in unit order, so unit 0 is in cluster 0.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_units = len(weights)
    if not 1 <= n_clusters <= n_units:
        raise ValueError(f"n_clusters must be between 1 and the number of units ({n_units}), got {n_clusters}")
    if method == "kmeans":
        from unsup_core.algorithms.kmeans_estimator import KMeans

        labels = KMeans(n_clusters, random_state=random_state).fit_predict(weights)
    elif method == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        connectivity = None
        if contiguous:
            if grid is None:
                raise ValueError("contiguous clusters need the map's grid")
            from scipy.sparse import coo_matrix

            a, b = grid.neighbour_pairs()
            connectivity = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_units, n_units)).tocsr()
        labels = AgglomerativeClustering(n_clusters, linkage="ward", connectivity=connectivity).fit_predict(weights)
    else:
        raise ValueError(f"method must be one of {CLUSTER_METHODS}, got {method!r}")
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(labels.max() + 1, dtype=np.int64)
    renumber[labels[np.sort(first)]] = np.arange(len(first))
    return renumber[labels]


def assignment_table(bmu: np.ndarray, grid: MapGrid, unit_clusters: np.ndarray | None = None,
                     labels: np.ndarray | None = None, label_names: list[str] | None = None):
    """One row per sample: its index, best unit, the unit's grid cell, cluster and (if any) label."""
    import pandas as pd

    bmu = np.asarray(bmu)
    table = pd.DataFrame({"sample": np.arange(len(bmu)), "neuron": bmu,
                          "row": grid.cells[bmu, 0], "col": grid.cells[bmu, 1]})
    if unit_clusters is not None:
        table["cluster"] = np.asarray(unit_clusters)[bmu]
    if labels is not None:
        table["label"] = np.asarray(labels)
        if label_names:
            table["label_name"] = [label_names[v] if 0 <= v < len(label_names) else str(v) for v in table["label"]]
    return table


class SOMClustering(ClusterMixin, BaseEstimator):
    """Cluster samples with a SOM: scikit-learn's API (``fit``, ``predict``, ``fit_predict``).

    ``som`` is the (unfitted) :class:`SOM` to train, default ``SOM()``; it is cloned at ``fit``
    with this estimator's ``random_state``, and its parameters are reachable as ``som__rows`` etc.
    Fitted attributes: ``som_`` (the trained map), ``unit_labels_`` [K] (cluster of each unit),
    ``labels_`` [N] (cluster of each training sample) and ``bmu_`` [N] (its best-matching unit).
    """

    def __init__(self, n_clusters: int = 8, *, method: str = "agglomerative", contiguous: bool = False,
                 random_state: int | None = 0, som: SOM | None = None) -> None:
        self.n_clusters = n_clusters
        self.method = method
        self.contiguous = contiguous
        self.random_state = random_state
        self.som = som

    def fit(self, X: np.ndarray, y: None = None) -> "SOMClustering":
        som = clone(self.som) if self.som is not None else SOM()
        self.som_ = som.set_params(random_state=self.random_state).fit(X)
        self.n_features_in_ = self.som_.n_features_in_
        self.unit_labels_ = cluster_prototypes(self.som_.weights_, self.n_clusters, method=self.method,
                                               grid=self.som_.grid, contiguous=self.contiguous,
                                               random_state=self.random_state or 0)
        self.bmu_ = self.som_.predict(X)
        self.labels_ = self.unit_labels_[self.bmu_]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        return self.unit_labels_[self.som_.predict(X)]

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        return self.fit(X).labels_


def assign_to_units(X: np.ndarray, weights: np.ndarray, feature_mean: np.ndarray | None = None,
                    feature_scale: np.ndarray | None = None) -> np.ndarray:
    """Best unit of every row of ``X`` (in the data's own units) given a map's weights [K, D].

    ``feature_mean``/``feature_scale`` undo the scaling the map was trained with (a run's snapshot
    keeps them), so the samples are compared with the weights in the training space.
    """
    import torch

    from unsup_core.algorithms.som_estimator import nearest_units

    X = np.asarray(X, dtype=np.float32)
    if feature_mean is not None:
        X = (X - np.asarray(feature_mean, np.float32)) / np.asarray(feature_scale, np.float32)
    best, _, _ = nearest_units(torch.as_tensor(X), torch.as_tensor(np.asarray(weights, np.float32)))
    return best.numpy()
