"""k-means as a live run: one Lloyd iteration per step."""

from __future__ import annotations

from dataclasses import dataclass

from unsup_core.algorithms import register
from unsup_core.algorithms.estimator_run import EstimatorAlgorithm
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
    scaling: str = param("auto", choices=("auto", "standard", "none"),
                         help="Standardise each feature so none dominates by its units. "
                              "auto: standardise tables, keep pixels and 2-D points as they are.")


@register
class KMeansAlgorithm(EstimatorAlgorithm):
    name = "kmeans"
    Config = KMeansConfig
    default_steps = 100
    summary = "Lloyd's k-means: assign each point to its nearest centre, move centres to their means."

    def make_estimator(self, seed: int, device: str) -> KMeans:
        return KMeans(self.config.n_clusters, init=self.config.init, tol=self.config.tol,
                      max_iter=10**9, random_state=seed, device=device)
