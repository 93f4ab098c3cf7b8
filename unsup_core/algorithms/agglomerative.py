"""Agglomerative (hierarchical) clustering, with the top of its merge tree kept for a dendrogram."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.config import param
from unsup_core.snapshots import ClusteringSnapshot

DENDROGRAM_LEAVES = 30


@dataclass
class AgglomerativeConfig:
    n_clusters: int = param(4, low=1, high=256, step=1, help="Where to cut the merge tree: the number of clusters.")
    linkage: str = param("ward", choices=("ward", "average", "complete"),
                         help="ward: merge the pair that least increases the within-cluster variance (compact, "
                              "even clusters); average / complete: mean / largest distance between members.")
    scaling: str = scaling_param()


def linkage_matrix(children: np.ndarray, distances: np.ndarray, n_samples: int) -> np.ndarray:
    """scikit-learn's merge tree as SciPy's linkage matrix [N-1, 4]: (child, child, height, size)."""
    sizes = np.zeros(len(children))
    for index, (left, right) in enumerate(children):
        sizes[index] = sum(1 if child < n_samples else sizes[child - n_samples] for child in (left, right))
    return np.column_stack([children, distances, sizes]).astype(np.float64)


def dendrogram_arrays(linkage: np.ndarray, n_clusters: int, leaves: int = DENDROGRAM_LEAVES) -> dict[str, np.ndarray]:
    """The last ``leaves`` merges as line segments, and the height where the tree is cut into k clusters."""
    from scipy.cluster.hierarchy import dendrogram

    tree = dendrogram(linkage, truncate_mode="lastp", p=leaves, no_plot=True)
    heights = linkage[:, 2]
    if 2 <= n_clusters <= len(heights):
        cut = (heights[-n_clusters] + heights[-n_clusters + 1]) / 2
    else:
        cut = heights[-1] * 1.05 if n_clusters <= 1 else 0.0
    return {"dendrogram_x": np.asarray(tree["icoord"], dtype=np.float32),
            "dendrogram_y": np.asarray(tree["dcoord"], dtype=np.float32),
            "dendrogram_leaves": np.asarray(tree["ivl"], dtype=str),
            "dendrogram_cut": np.float32(cut)}


@register
class AgglomerativeAlgorithm(EstimatorAlgorithm):
    name = "agglomerative"
    title = "Agglomerative (Ward) clustering"
    view_family = "clustering"
    Config = AgglomerativeConfig
    default_steps = 1
    max_samples = 10_000
    summary = "Hierarchical clustering: merge the two closest groups until k remain; draws the merge tree."
    explanation = r"""
Start with every row as its own cluster and repeatedly **merge the two closest clusters** until $k$
remain. "Closest" is the **linkage**:

- **ward**: the merge that least increases the total within-cluster sum of squares,
  $\Delta(A, B) = \frac{|A||B|}{|A|+|B|}\,\lVert \bar x_A - \bar x_B \rVert^2$;
- **average**: the mean distance between members of $A$ and $B$;
- **complete**: the largest distance between members of $A$ and $B$.

The merges form a tree (**dendrogram**); the height of each join is its linkage distance.
Cutting the tree at one height gives the clusters; the dashed line marks the cut for your $k$.

**What to look for:** a long vertical gap just above the cut means the $k$ clusters are well
separated; joins of similar height near the cut mean another $k$ is as defensible. The whole tree
needs all pairwise distances: memory grows with $N^2$, so this run takes at most 10,000 rows.
"""

    def make_estimator(self, seed: int, device: str):
        from sklearn.cluster import AgglomerativeClustering

        return AgglomerativeClustering(self.config.n_clusters, linkage=self.config.linkage, compute_distances=True)

    def clustering_snapshot(self) -> ClusteringSnapshot:
        shape = super().clustering_snapshot()
        if getattr(self.estimator, "children_", None) is None or self.data.n_samples <= 1:
            return shape
        linkage = linkage_matrix(self.estimator.children_, self.estimator.distances_, self.data.n_samples)
        return dataclasses.replace(shape, **dendrogram_arrays(linkage, self.config.n_clusters))
