"""Choosing the number of clusters: score k-means (and a Gaussian mixture) for each k, then recommend.

Scores per k, each computed on the same rows:

- inertia: within-cluster sum of squares; always falls with k, look for the elbow;
- silhouette: mean over rows of (b - a) / max(a, b), a = mean distance to the own cluster,
  b = to the nearest other cluster; in [-1, 1], higher is better;
- Davies-Bouldin: mean over clusters of the worst (s_i + s_j) / d(c_i, c_j); lower is better;
- Calinski-Harabasz: between- over within-cluster dispersion, times (N - k) / (k - 1); higher is better;
- BIC of a Gaussian mixture: -2 log L + p log N; lower is better. The mixture is fitted on the
  continuous columns only: a Gaussian on a 0/1 (one-hot) column collapses onto its two values and
  the likelihood, and so the BIC, grows without bound.

The recommendation takes the k with the best k-means silhouette (the one score that judges both
tightness and separation), prefers the mixture when its clusters score clearly better at that k,
and says in one sentence which other criteria agree.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from unsup_core.analysis.knee import knee_index

SILHOUETTE_ROWS = 3000
WEAK_SILHOUETTE = 0.25
MIXTURE_MARGIN = 0.02  # the mixture must beat k-means' silhouette by this much to be recommended
CRITERIA = ("inertia", "silhouette", "davies_bouldin", "calinski_harabasz", "bic")


@dataclass
class KScores:
    k: int
    inertia: float
    silhouette: float
    davies_bouldin: float
    calinski_harabasz: float
    bic: float = float("nan")
    mixture_silhouette: float = float("nan")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Recommendation:
    algorithm: str  # "kmeans" or "gmm"
    k: int
    reason: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _silhouette(X: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    if not 2 <= len(np.unique(labels)) < len(X):
        return float("nan")
    return float(silhouette_score(X, labels, sample_size=min(len(X), SILHOUETTE_ROWS), random_state=seed))


def score_k(X: np.ndarray, k: int, *, seed: int = 0, mixture: bool = True, device: str = "cpu") -> KScores:
    """Fit k-means (and a Gaussian mixture) with ``k`` clusters on X [N, D] and score the partitions."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    from unsup_core.algorithms.kmeans_estimator import KMeans

    model = KMeans(k, random_state=seed, device=device).fit(X)
    labels = model.labels_
    separated = len(np.unique(labels)) >= 2
    scores = KScores(
        k=k, inertia=float(model.inertia_), silhouette=_silhouette(X, labels, seed),
        davies_bouldin=float(davies_bouldin_score(X, labels)) if separated else float("nan"),
        calinski_harabasz=float(calinski_harabasz_score(X, labels)) if separated else float("nan"),
    )
    continuous = continuous_columns(X)
    if mixture and len(continuous):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        values = X[:, continuous]
        # Full covariances need about D^2 / 2 numbers per cluster: diagonal ones beyond 20 features.
        covariance = "full" if values.shape[1] <= 20 else "diag"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gmm = GaussianMixture(k, covariance_type=covariance, random_state=seed, reg_covar=1e-5).fit(values)
        scores.bic = float(gmm.bic(values))
        scores.mixture_silhouette = _silhouette(X, gmm.predict(values), seed)
    return scores


def continuous_columns(X: np.ndarray) -> np.ndarray:
    """Indices of the columns with more than two distinct values (not 0/1 indicators)."""
    return np.array([j for j in range(X.shape[1]) if len(np.unique(X[:, j])) > 2], dtype=int)


def _best(scores: list[KScores], criterion: str) -> int | None:
    values = np.array([getattr(s, criterion) for s in scores], dtype=np.float64)
    if np.isnan(values).all():
        return None
    if criterion == "inertia":
        return scores[knee_index(values)].k
    pick = np.nanargmin if criterion in ("davies_bouldin", "bic") else np.nanargmax
    return scores[int(pick(values))].k


CRITERION_NAMES = {"inertia": "the inertia elbow", "davies_bouldin": "Davies-Bouldin",
                   "calinski_harabasz": "Calinski-Harabasz", "bic": "the mixture's BIC"}


def recommend(scores: list[KScores]) -> Recommendation:
    """The k and algorithm to start from, with the evidence in one sentence."""
    if not scores:
        raise ValueError("no k was scored")
    best = {criterion: _best(scores, criterion) for criterion in CRITERIA}
    if best["silhouette"] is None:
        k = best["inertia"] or scores[0].k
        return Recommendation("kmeans", k, f"k-means with k = {k}: the inertia curve bends there "
                                           "(the silhouette could not be computed on this data).")
    k = best["silhouette"]
    chosen = next(s for s in scores if s.k == k)
    others = [s for s in scores if s.k != k and np.isfinite(s.silhouette)]
    runner_up = max(others, key=lambda s: s.silhouette) if others else None
    use_mixture = np.isfinite(chosen.mixture_silhouette) and \
        chosen.mixture_silhouette > chosen.silhouette + MIXTURE_MARGIN
    algorithm = "gmm" if use_mixture else "kmeans"
    agree = [CRITERION_NAMES[c] for c in ("inertia", "davies_bouldin", "calinski_harabasz", "bic") if best[c] == k]
    disagree = [f"{CRITERION_NAMES[c]} prefers {best[c]}" for c in ("inertia", "davies_bouldin", "bic")
                if best[c] is not None and best[c] != k]
    sentence = (f"{'a Gaussian mixture' if use_mixture else 'k-means'} with k = {k}: the silhouette is highest "
                f"there ({chosen.silhouette:.2f}"
                + (f"; next best {runner_up.silhouette:.2f} at k = {runner_up.k}" if runner_up else "") + ")")
    if use_mixture:
        sentence += f", and the mixture's clusters score better still ({chosen.mixture_silhouette:.2f})"
    if agree:
        sentence += f"; {_join(agree)} agree{'s' if len(agree) == 1 else ''}"
    if disagree:
        sentence += f"; {_join(disagree)}"
    if chosen.silhouette < WEAK_SILHOUETTE:
        sentence += "; but the structure is weak (silhouette below 0.25), so read the clusters as a partition " \
                    "of the data rather than natural groups"
    return Recommendation(algorithm, k, sentence + ".")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
