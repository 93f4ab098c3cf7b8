"""Choose k for me: a run that scores one number of clusters per step, then recommends one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.estimator_run import resolve_scaling, scaling_param, standardise
from unsup_core.analysis.k_selection import KScores, recommend, score_k
from unsup_core.config import param, ConfigError
from unsup_core.datasets import Dataset
from unsup_core.snapshots import KSelectionSnapshot


@dataclass
class ChooseKConfig:
    k_min: int = param(2, low=2, high=100, step=1, help="Smallest number of clusters to try.")
    k_max: int = param(10, low=2, high=100, step=1, help="Largest number of clusters to try.")
    sample_rows: int = param(20000, low=100, high=1_000_000, step=100,
                             help="Fit on a random sample of at most this many rows: the best k hardly changes "
                                  "and the sweep stays quick on large files.")
    mixtures: bool = param(True, help="Also fit a Gaussian mixture for each k (gives BIC; slower on many features).")
    scaling: str = scaling_param()


@register
class ChooseK(Algorithm):
    name = "choose_k"
    title = "Choose k for me"
    family = "model selection"
    accepts = ("table", "points2d", "images")
    view_family = "choose_k"
    Config = ChooseKConfig
    default_steps = 9
    summary = "Choose k for me: scores k-means and a Gaussian mixture for each k and recommends one."
    explanation = r"""
Each step fits k-means (and a Gaussian mixture) with one more cluster, on the same sample of rows,
and scores the result:

- **inertia** $\sum_i \lVert x_i - \mu_{c(i)} \rVert^2$ always falls as $k$ grows; the **elbow**,
  where it stops falling fast, is a rule of thumb;
- **silhouette** $s_i = \frac{b_i - a_i}{\max(a_i, b_i)}$, with $a_i$ the mean distance to the own
  cluster and $b_i$ to the nearest other one, averaged over rows; 1 is perfect, 0 overlapping;
- **Davies-Bouldin** $\frac1k \sum_i \max_{j \ne i} \frac{s_i + s_j}{d(\mu_i, \mu_j)}$ (lower is better);
- **Calinski-Harabasz** $\frac{\operatorname{tr} B_k}{\operatorname{tr} W_k}\cdot\frac{N-k}{k-1}$,
  between- over within-cluster dispersion (higher is better);
- **BIC** of the mixture, $-2\log L + p \log N$ (lower is better).

The recommendation takes the $k$ with the best silhouette, the one score that weighs both tight
and well-separated clusters, and switches to the mixture when its clusters score clearly better.

**What to look for:** criteria that agree make a strong case; a silhouette below 0.25 at best means
the data has no clear groups, and any $k$ is a way of cutting it, not a discovery.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        if self.config.k_max < self.config.k_min:
            raise ConfigError(f"k_max={self.config.k_max} is below k_min={self.config.k_min}")
        features = data.X
        rng = np.random.default_rng(seed)
        if len(features) > self.config.sample_rows:
            features = features[np.sort(rng.choice(len(features), self.config.sample_rows, replace=False))]
        if resolve_scaling(self.config.scaling, data) == "standard":
            features = standardise(features)
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.ks = [k for k in range(self.config.k_min, self.config.k_max + 1) if k < len(self.features)]
        if not self.ks:
            raise ConfigError(f"{len(self.features)} rows are too few to try k from {self.config.k_min}")
        self.device, self.seed = device, seed
        self.scores: list[KScores] = []

    def step(self) -> dict[str, float]:
        scores = score_k(self.features, self.ks[len(self.scores)], seed=self.seed, mixture=self.config.mixtures,
                         device=self.device)
        self.scores.append(scores)
        self.finished = len(self.scores) == len(self.ks)
        return {name: float(value) for name, value in scores.as_dict().items() if np.isfinite(value)}

    def snapshot(self) -> dict[str, np.ndarray]:
        curves = {name: np.array([getattr(s, name) for s in self.scores], dtype=np.float64)
                  for name in KScores.__dataclass_fields__}
        if not self.scores:
            return KSelectionSnapshot(**curves).as_arrays()
        recommendation = recommend(self.scores)
        return KSelectionSnapshot(**curves, recommended_k=np.array(recommendation.k),
                                  recommended_algorithm=np.array(recommendation.algorithm),
                                  reason=np.array(recommendation.reason)).as_arrays()

    def state_dict(self) -> dict:
        return {"scores": [s.as_dict() for s in self.scores]}

    def load_state_dict(self, state: dict) -> None:
        self.scores = [KScores(**values) for values in state["scores"]]
        self.finished = len(self.scores) == len(self.ks)
