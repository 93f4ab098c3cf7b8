"""Mini-batch k-means as a live run: one epoch of small-batch centre updates per step."""

from __future__ import annotations

from dataclasses import dataclass

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm, scaling_param
from unsup_core.algorithms.kmeans_estimator import MiniBatchKMeans
from unsup_core.config import param


@dataclass
class MiniBatchKMeansConfig:
    n_clusters: int = param(8, low=1, high=256, step=1, help="Number of clusters k.")
    batch_size: int = param(4096, low=64, high=65536, step=64,
                            help="Samples per centre update. Larger: steadier centres, slower epochs.")
    init: str = param("k-means++", choices=("k-means++", "random"),
                      help="k-means++ spreads the first centres apart (seeded on a sample of the rows).")
    tol: float = param(1e-3, low=0.0, high=1.0, log=True,
                       help="Stop when an epoch moves the centres, or improves the inertia, by less than this "
                            "(relative).")
    scaling: str = scaling_param()


@register
class MiniBatchKMeansAlgorithm(EstimatorAlgorithm):
    name = "minibatch_kmeans"
    title = "Mini-batch k-means"
    view_family = "clustering"
    Config = MiniBatchKMeansConfig
    default_steps = 100
    summary = "k-means for large data: centres learn from small random batches, a few passes suffice."
    explanation = r"""
Mini-batch k-means (Sculley 2010) minimises the same **inertia** as k-means,
$J = \sum_i \min_j \lVert x_i - \mu_j \rVert^2$, but moves the centres after every small random
batch $B$ instead of after a full pass. For each centre $j$ that received $n_j$ points of the batch,
with mean $\bar x_j$, and $N_j$ points in all so far:

$$
\mu_j \leftarrow \mu_j + \frac{n_j}{N_j}\,(\bar x_j - \mu_j).
$$

The step $n_j / N_j$ shrinks as a centre accumulates points, so centres settle. One step of this run
is one **epoch** (every row visited once, in a new random order), followed by an exact assignment of
all rows, so the inertia curve is the true objective.

**What to look for:** on large data the inertia is close to Lloyd's k-means after two or three
epochs, each costing about two full passes over the rows. Increase `batch_size` if the centres
jitter between epochs.
"""

    def make_estimator(self, seed: int, device: str) -> MiniBatchKMeans:
        return MiniBatchKMeans(self.config.n_clusters, init=self.config.init, batch_size=self.config.batch_size,
                               tol=self.config.tol, max_iter=10**9, random_state=seed, device=device)
