"""k-means as a live run: one Lloyd iteration per step."""

from __future__ import annotations

from dataclasses import dataclass

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.algorithms.kmeans_estimator import KMeans
from unsup_core.config import param


@dataclass
class KMeansConfig:
    n_clusters: int = param(8, low=1, high=256, step=1,
                            help="Number of clusters k. Try the number of classes you expect; "
                                 "the elbow of the inertia curve over k is a rule of thumb.")
    init: str = param("k-means++", choices=("k-means++", "random"),
                      help="k-means++ spreads the first centres apart and usually converges faster.")
    tol: float = param(1e-4, low=0.0, high=1.0, log=True,
                       help="Stop when centres move less than this (relative to the data variance).")
    scaling: str = scaling_param()


@register
class KMeansAlgorithm(EstimatorAlgorithm):
    name = "kmeans"
    title = "k-means"
    view_family = "clustering"
    Config = KMeansConfig
    default_steps = 100
    summary = "Lloyd's k-means: assign each point to its nearest centre, move centres to their means."
    explanation = r"""
k-means looks for $k$ centres $\mu_1, \dots, \mu_k$ that minimise the **inertia**, the sum of squared
distances from each point to its nearest centre:
$\;J = \sum_i \min_j \lVert x_i - \mu_j \rVert^2$.

Each step (Lloyd's algorithm) does two things, and neither can increase $J$:
1. **assign** every point to its nearest centre;
2. **update** every centre to the mean of the points assigned to it.

It stops when no point changes cluster. The first centres are drawn by *k-means++*: each new centre
is picked with probability proportional to its squared distance from the centres chosen so far.

**What to look for:** the inertia curve drops fast and flattens; points near a boundary switch
cluster in the first iterations. k-means assumes round clusters of similar size: on `moons` or
`circles` it cuts the shapes with straight lines whatever $k$ is. ARI/NMI compare the clusters with
the dataset's labels (1 = identical, ~0 = chance); the labels are never used for fitting.
"""

    def make_estimator(self, seed: int, device: str) -> KMeans:
        return KMeans(self.config.n_clusters, init=self.config.init, tol=self.config.tol,
                      max_iter=10**9, random_state=seed, device=device)
