"""SOM as clustering: train a map, cluster its prototypes, give every row its best unit's cluster.

A separate registry entry (not a field of ``som``) because it is a clusterer: it sets
``assigns_clusters`` and puts ``row_cluster`` in its snapshots, so the Your data page, the export
and ARI/NMI treat it like k-means. The map, its training and its views are the ``som`` run's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.som import SOMAlgorithm, SOMConfig
from unsup_core.algorithms.som_clustering import CLUSTER_METHODS, assign_to_units, cluster_prototypes
from unsup_core.config import param
from unsup_core.metrics import adjusted_rand_index, normalized_mutual_info
from unsup_core.snapshots import SOMSnapshot


@dataclass
class SOMClusteringConfig(SOMConfig):
    n_clusters: int = param(4, low=1, high=100, step=1,
                            help="Clusters of the map's units; every row gets the cluster of its best unit.")
    cluster_method: str = param("agglomerative", choices=CLUSTER_METHODS,
                                help="agglomerative (Ward) or k-means on the units' weights.")
    contiguous: bool = param(True, help="agglomerative only: each cluster is one connected region of the map.")


@register
class SOMClusteringAlgorithm(SOMAlgorithm):
    name = "som_clustering"
    title = "SOM clustering"
    family = "clustering"
    assigns_clusters = True
    view_family = "som"
    page_sections = ()  # it clusters the map itself: no "map as a clustering" tools
    Config = SOMClusteringConfig
    summary = "SOM as clustering: a self-organizing map whose prototypes are grouped into clusters."
    explanation = SOMAlgorithm.explanation + r"""
**As clustering.** After (and while) the map trains, its units' weights are clustered into
`n_clusters` groups (Ward's agglomerative clustering, optionally `contiguous` so each cluster is
one region of the map, or k-means); each row gets the cluster of its best-matching unit. With
many more units than clusters this is a two-level clustering: the map first summarises the data
into prototypes, then the prototypes are grouped, which copes with clusters of uneven shape
better than k-means on the rows.
"""

    def setup(self, data, device: str = "cpu", seed: int = 0) -> None:
        super().setup(data, device, seed)
        n_units = self.config.rows * self.config.cols
        if self.config.n_clusters > n_units:
            from unsup_core.datasets import DatasetError

            raise DatasetError(f"n_clusters ({self.config.n_clusters}) cannot exceed the map's "
                               f"{n_units} units: use fewer clusters or a larger map")
        self._clusters = None

    def row_clusters(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit clusters [K], each row's best unit [N], each row's cluster [N]) for the current map."""
        if self._clusters is None or self._clusters[0] != self.som.n_updates_:
            weights = self.som.weights_.astype(np.float32)
            units = cluster_prototypes(weights, self.config.n_clusters, method=self.config.cluster_method,
                                       grid=self.som.grid, contiguous=self.config.contiguous
                                       and self.config.cluster_method == "agglomerative")
            best = assign_to_units(self.features, weights)
            self._clusters = (self.som.n_updates_, (units, best, units[best]))
        return self._clusters[1]

    def step(self) -> dict:
        metrics = super().step()
        if self.finished and self.data.has_labels:
            clusters = self.row_clusters()[2]
            metrics["ari"] = adjusted_rand_index(self.data.y, clusters)
            metrics["nmi"] = normalized_mutual_info(self.data.y, clusters)
        return metrics

    def som_snapshot(self) -> SOMSnapshot:
        units, best, clusters = self.row_clusters()
        return dataclasses.replace(super().som_snapshot(), unit_clusters=units, row_som_unit=best.astype(np.int32),
                                   row_cluster=clusters.astype(np.int16))
