"""Spectral clustering: k-means on the eigenvectors of a nearest-neighbour graph."""

from __future__ import annotations

from dataclasses import dataclass

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.config import param


@dataclass
class SpectralConfig:
    n_clusters: int = param(4, low=2, high=128, step=1, help="Number of clusters k.")
    n_neighbors: int = param(10, low=2, high=200, step=1,
                             help="Neighbours per point in the similarity graph. Too few: the graph falls apart "
                                  "into many pieces; too many: shapes blur together.")
    assign_labels: str = param("cluster_qr", choices=("cluster_qr", "kmeans", "discretize"),
                               help="How the spectral embedding is turned into clusters; cluster_qr is "
                                    "deterministic and has no parameters.")
    scaling: str = scaling_param()


@register
class SpectralAlgorithm(EstimatorAlgorithm):
    name = "spectral"
    title = "Spectral clustering"
    view_family = "clustering"
    Config = SpectralConfig
    default_steps = 1
    max_samples = 10_000
    summary = "Graph-based clustering: follows connected shapes (rings, moons) that k-means cuts through."
    explanation = r"""
Spectral clustering (Ng, Jordan & Weiss 2001) connects each row to its `n_neighbors` nearest
neighbours, giving a symmetric affinity matrix $W$ with degrees $d_i = \sum_j W_{ij}$. The
$k$ eigenvectors of the normalised Laplacian $L = I - D^{-1/2} W D^{-1/2}$ with the smallest
eigenvalues embed the rows so that densely connected groups become compact; those embeddings are
then split into $k$ clusters. It approximately minimises the **normalised cut**, the weight of graph
edges between clusters relative to each cluster's total degree.

**What to look for:** on `circles` and `moons` it recovers the shapes, where k-means cannot. The
eigen-decomposition is the slow part, so this run takes at most 10,000 rows.
"""

    def row_counts(self) -> dict[str, int]:
        return {**super().row_counts(), "n_neighbors": self.config.n_neighbors}

    def make_estimator(self, seed: int, device: str):
        from sklearn.cluster import SpectralClustering

        return SpectralClustering(self.config.n_clusters, affinity="nearest_neighbors",
                                  n_neighbors=self.config.n_neighbors, assign_labels=self.config.assign_labels,
                                  random_state=seed)
