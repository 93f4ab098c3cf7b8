"""Outlier scores for every row: Isolation Forest or the Local Outlier Factor.

:class:`OutlierDetector` is what every detector shares (the autoencoder's reconstruction error
too): the display sample and its PCA projection, grading against planted anomalies when the
dataset marks them, and one snapshot layout that the anomaly views, the run page's threshold
slider and the export read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.estimator_run import MAX_DISPLAY_POINTS, resolve_scaling, scaling_param, standardise
from unsup_core.analysis.anomaly import detection_metrics, most_anomalous, planted_anomalies, threshold_for_share
from unsup_core.config import param
from unsup_core.datasets import Dataset, DatasetError
from unsup_core.projection import PCAProjection
from unsup_core.snapshots import OutlierSnapshot

LOF_MAX_ROWS = 100_000


@dataclass
class OutlierConfig:
    method: str = param("isolation_forest", choices=("isolation_forest", "lof"),
                        help="Isolation Forest: rows that random splits isolate quickly (any size of data). "
                             "LOF: rows much less dense than their neighbours (up to 100,000 rows).")
    share: float = param(0.05, low=0.001, high=0.5, step=0.01,
                         help="Share of rows flagged as outliers (those with the highest scores).")
    n_estimators: int = param(200, low=10, high=2000, step=10, help="Isolation Forest: number of trees.")
    n_neighbors: int = param(20, low=2, high=500, step=1, help="LOF: neighbours that define the local density.")
    scaling: str = scaling_param()


class OutlierDetector(Algorithm):
    """Scores every row (higher: more unusual); flags the ``config.share`` with the highest scores."""

    family = "outliers"
    accepts = ("table", "points2d", "images")

    def prepare(self, data: Dataset, seed: int) -> np.ndarray:
        """Keep what the views need; returns the features the detector works on."""
        self.data, self.seed = data, seed
        self.planted = planted_anomalies(data)
        features = standardise(data.X) if resolve_scaling(self.config.scaling, data) == "standard" else data.X
        rng = np.random.default_rng(seed)
        n = data.n_samples
        self.display_rows = np.sort(rng.choice(n, MAX_DISPLAY_POINTS, replace=False)) if n > MAX_DISPLAY_POINTS \
            else np.arange(n)
        self.display_points = PCAProjection(seed=seed).fit(features).transform(features[self.display_rows])
        self.scores: np.ndarray | None = None
        self.threshold = float("nan")
        return features

    def score_metrics(self, scores: np.ndarray) -> dict[str, float]:
        """Keep ``scores`` and the threshold; the numbers to log (precision etc. with planted anomalies)."""
        self.scores = scores
        self.threshold = threshold_for_share(scores, self.config.share)
        values = {"threshold": self.threshold, "n_outliers": float((scores > self.threshold).sum())}
        if self.planted is not None:
            values.update(detection_metrics(scores, self.planted, self.threshold))
        return values

    def sample_metrics(self, scores: np.ndarray, rows: np.ndarray) -> dict[str, float]:
        """The numbers :meth:`score_metrics` logs, from the scores of a sample of rows (kept as they are)."""
        threshold = threshold_for_share(scores, self.config.share)
        values = {"threshold": threshold, "n_outliers": float((scores > threshold).mean() * self.data.n_samples)}
        if self.planted is not None:
            values.update(detection_metrics(scores, self.planted[rows], threshold))
        return values

    def scores_snapshot(self) -> OutlierSnapshot | None:
        """The scores' snapshot; None before the first scoring."""
        if self.scores is None:
            return None
        top = most_anomalous(self.scores)
        images = self.data.kind == "images"
        return OutlierSnapshot(
            points=self.display_points, scores=self.scores[self.display_rows].astype(np.float32),
            threshold=np.array(self.threshold), top_rows=top, display_rows=self.display_rows,
            row_outlier_score=self.scores.astype(np.float32),
            row_is_outlier=(self.scores > self.threshold).astype(np.int8),
            top_images=self.data.images(top).astype(np.float16) if images else None,
            top_values=None if images else self.data.X[top],
            feature_names=None if images else np.array(self.data.feature_names, dtype=str),
            planted=self.planted.astype(np.int8) if self.planted is not None else None)


@register
class OutlierScores(OutlierDetector):
    name = "outliers"
    title = "Isolation Forest / LOF outliers"
    view_family = "outliers"
    page_sections = ("threshold_explorer",)
    Config = OutlierConfig
    default_steps = 1
    summary = "An outlier score for every row (Isolation Forest or LOF); flags the most unusual ones."
    explanation = r"""
- **Isolation Forest** (Liu et al. 2008) grows random trees, each splitting a random feature at a
  random value until every row stands alone. Unusual rows are isolated after few splits. With
  $h(x)$ the mean depth at which $x$ is isolated and $c(n)$ the mean depth for $n$ rows, the score
  is $s(x) = 2^{-\,\mathbb{E}[h(x)] / c(n)}$: near 1 for outliers, about 0.5 or below for normal rows.
- **Local Outlier Factor** (Breunig et al. 2000) compares each row's local density with that of its
  `n_neighbors` neighbours,
  $\mathrm{LOF}(x) = \operatorname{mean}_{o \in N(x)} \frac{\mathrm{lrd}(o)}{\mathrm{lrd}(x)}$,
  about 1 inside clusters and well above 1 for isolated rows.

The `share` of rows with the highest scores is flagged. Neither method uses the clusters or labels.
On data with planted anomalies (`digits_anomalies`, `blobs_outliers`) the run grades itself:
`precision_at_k` is the share of planted anomalies among the k top-scored rows (k = how many were
planted), `average_precision` sums precision over every cut, `precision` and `recall` are at the
threshold. On `digits_anomalies` Isolation Forest finds nearly all of them (noise and inverted
digits have extreme pixel values, rotated ones put ink where digits have none), while LOF misses
most: the 18 inverted digits resemble each other, so to LOF they are a small dense cluster, not
outliers. A group of similar anomalies is LOF's blind spot; compare with `autoencoder_outliers`.

**What to look for:** flagged rows at the edge of the picture are extreme values; flagged rows
between clusters are ambiguous ones. Check a few in the table before removing anything.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        if self.config.method == "lof" and data.n_samples > LOF_MAX_ROWS:
            raise DatasetError(f"LOF is limited to {LOF_MAX_ROWS:,} rows and this data has {data.n_samples:,}: "
                               "use isolation_forest")
        self.features = self.prepare(data, seed)

    def step(self) -> dict[str, float]:
        started = time.perf_counter()
        if self.config.method == "isolation_forest":
            from sklearn.ensemble import IsolationForest

            forest = IsolationForest(n_estimators=self.config.n_estimators, random_state=self.seed)
            scores = -forest.fit(self.features).score_samples(self.features)
        else:
            from sklearn.neighbors import LocalOutlierFactor

            lof = LocalOutlierFactor(n_neighbors=min(self.config.n_neighbors, self.data.n_samples - 1))
            lof.fit(self.features)
            scores = -lof.negative_outlier_factor_
        self.finished = True
        return {"fit_seconds": time.perf_counter() - started, **self.score_metrics(scores)}

    def snapshot(self) -> dict[str, np.ndarray]:
        shape = self.scores_snapshot()
        return {} if shape is None else shape.as_arrays()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """A one-step fit has nothing to resume."""
