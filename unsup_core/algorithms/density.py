"""Density-based clustering: DBSCAN and HDBSCAN find clusters of any shape and call sparse points noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.analysis.knee import knee_index
from unsup_core.config import param

EPS_SAMPLE_ROWS = 5000


def knee_eps(X: np.ndarray, min_samples: int, seed: int = 0) -> float:
    """DBSCAN's eps from the knee of the sorted distances to each point's ``min_samples``-th neighbour.

    The query points are a sample, but their neighbours are searched among all rows, so the density
    (and the distance) is the data's own.
    """
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    queries = X[rng.choice(len(X), EPS_SAMPLE_ROWS, replace=False)] if len(X) > EPS_SAMPLE_ROWS else X
    neighbours = NearestNeighbors(n_neighbors=min(min_samples, len(X))).fit(X)
    distances = np.sort(neighbours.kneighbors(queries)[0][:, -1])
    eps = float(distances[knee_index(distances)])
    return eps if eps > 0 else float(distances[distances > 0].min(initial=1.0))


@dataclass
class DBSCANConfig:
    eps: float = param(0.0, low=0.0, high=1e6,
                       help="Neighbourhood radius, in the units of the (scaled) features. 0: automatic, the knee "
                            "of the sorted distances to each point's min_samples-th neighbour.")
    min_samples: int = param(5, low=2, high=1000, step=1,
                             help="Points (itself included) within eps that make a point a core point. "
                                  "Rule of thumb: twice the number of features; larger: fewer, denser clusters.")
    scaling: str = scaling_param()


@register
class DBSCANAlgorithm(EstimatorAlgorithm):
    name = "dbscan"
    title = "DBSCAN"
    view_family = "clustering"
    Config = DBSCANConfig
    default_steps = 1
    max_samples = 100_000
    summary = "Density-based clusters of any shape; points in sparse regions are labelled noise."
    explanation = r"""
DBSCAN (Ester et al. 1996) has no objective function and no $k$. A point with at least
`min_samples` points within distance $\varepsilon$ (itself included) is a **core point**. Core
points within $\varepsilon$ of each other belong to the same cluster; a non-core point within
$\varepsilon$ of a core point joins its cluster (**border point**); every other point is **noise**
(label $-1$, drawn grey).

With `eps` = 0 the radius is chosen for you: the distances from each point to its
`min_samples`-th neighbour are sorted, and $\varepsilon$ is the **knee** of that curve, where
distances start to grow fast (points beyond it are in sparse regions).

**What to look for:** on `moons` and `circles` DBSCAN follows the shapes that k-means cuts with
straight lines. Too small $\varepsilon$: most points are noise; too large: everything merges into
one cluster. Clusters of very different densities are hard for one $\varepsilon$: try HDBSCAN.
"""

    def make_estimator(self, seed: int, device: str):
        from sklearn.cluster import DBSCAN

        self.eps_used = self.config.eps or knee_eps(self.features, self.config.min_samples, seed)
        return DBSCAN(eps=self.eps_used, min_samples=self.config.min_samples)

    def step(self) -> dict[str, float]:
        return {**super().step(), "eps": self.eps_used}


@dataclass
class HDBSCANConfig:
    min_cluster_size: int = param(10, low=2, high=100000, step=1,
                                  help="The smallest group that counts as a cluster; smaller groups become noise.")
    min_samples: int = param(0, low=0, high=1000, step=1,
                             help="How conservative the density estimate is (0: same as min_cluster_size). "
                                  "Larger: more points declared noise.")
    scaling: str = scaling_param()


@register
class HDBSCANAlgorithm(EstimatorAlgorithm):
    name = "hdbscan"
    title = "HDBSCAN"
    view_family = "clustering"
    Config = HDBSCANConfig
    default_steps = 1
    max_samples = 50_000
    summary = "Hierarchical DBSCAN: density clusters at every scale, keeps the most stable ones; no eps to tune."
    explanation = r"""
HDBSCAN (Campello et al. 2013) runs DBSCAN for every radius at once. Each point's **core distance**
$c(x)$ is the distance to its `min_samples`-th neighbour; the **mutual reachability distance**
$d_m(a, b) = \max\{c(a), c(b), \lVert a - b\rVert\}$ pushes sparse points away from the rest. The
minimum spanning tree of $d_m$ gives a hierarchy of clusters as the radius shrinks; clusters smaller
than `min_cluster_size` are dropped, and the clusters that persist over the widest range of
densities (**stability** $\sum_{x}(\lambda_{\text{leave}}(x) - \lambda_{\text{birth}})$, with
$\lambda = 1/\text{distance}$) are kept. Everything else is noise (label $-1$).

**What to look for:** unlike DBSCAN it copes with clusters of different densities, and the number
of clusters comes out of the data. Raise `min_cluster_size` if it finds many tiny clusters.
"""

    def row_counts(self) -> dict[str, int]:
        counts = {**super().row_counts(), "min_cluster_size": self.config.min_cluster_size}
        if self.config.min_samples:  # 0: the same count as min_cluster_size
            counts["min_samples"] = self.config.min_samples
        return counts

    def make_estimator(self, seed: int, device: str):
        from sklearn.cluster import HDBSCAN

        return HDBSCAN(min_cluster_size=self.config.min_cluster_size, min_samples=self.config.min_samples or None,
                       copy=True)
