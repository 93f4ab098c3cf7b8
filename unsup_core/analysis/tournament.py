"""A clustering tournament: algorithms x k x preparations, scored without labels, one recommendation.

Candidates: k-means, Gaussian mixtures (full, tied and diagonal covariances), Ward, spectral clustering
(k = 2..k_max) and HDBSCAN (k comes out of the data), each on several preparations of the same
measurements: standard or robust scaling, a log of the skewed positive columns, PCA whitening.
Every candidate is scored by criteria that never see labels:

- silhouette (higher is better), Davies-Bouldin (lower), Calinski-Harabasz (higher), each in the
  candidate's own prepared space;
- BIC of the mixtures, moved back to the units of the raw measurements by the Jacobian of the
  preparation (log p_raw(x) = log p_prep(y) + log |det dy/dx|), so mixtures on different
  preparations compete on one scale;
- stability: the mean ARI between the clustering and the same method refitted on bootstrap
  resamples (every row assigned), for the front runners.

How they are combined is :mod:`unsup_core.analysis.tournament_rule`, chosen from the benchmark.
Single-threaded on purpose: hundreds of small fits run faster than thread pools fighting over cores.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from unsup_core.datasets.prepare import pca_whiten, scale_columns

K_MAX = 8
SAMPLE_ROWS = 2000  # rows scored; above this a seeded sample is scored and every row assigned at the end
STABILITY_RESAMPLES = 4
STABILITY_FINALISTS = 8
SPECTRAL_NEIGHBOURS = 10
SKEWNESS_FOR_LOG = 1.0
MIXTURE_COVARIANCES = ("full", "tied", "diag")
MIXTURE_RESTARTS = 1
ALGORITHM_NAMES = {"kmeans": "k-means", "gmm": "Gaussian mixture", "agglomerative": "Ward",
                   "spectral": "spectral clustering", "hdbscan": "HDBSCAN"}


@dataclass(frozen=True)
class Recipe:
    """One preparation of the measurements: the fields of the file dataset's Preparation it stands for."""

    scaling: str = "standard"
    log: bool = False
    whiten: bool = False

    @property
    def name(self) -> str:
        return " + ".join([*(["log"] if self.log else []), self.scaling, *(["whitened"] if self.whiten else [])])


@dataclass
class Candidate:
    """One contestant: an algorithm with its config on one preparation, its labels [n] and its scores."""

    algorithm: str
    k: int
    recipe: Recipe
    config: dict
    labels: np.ndarray = field(repr=False)
    scores: dict = field(default_factory=dict)
    parameters: int = 0  # free parameters of a mixture (0 for the other algorithms)

    @property
    def title(self) -> str:
        name = ALGORITHM_NAMES[self.algorithm]
        if self.algorithm == "gmm":
            name += f" ({self.config['covariance_type']})"
        return f"{name}, k = {self.k}, {self.recipe.name}"

    def as_dict(self) -> dict:
        return {"algorithm": self.algorithm, "k": self.k, "preparation": self.recipe.name,
                "config": self.config, "title": self.title,
                "scores": {name: round(float(value), 6) for name, value in self.scores.items()
                           if np.isfinite(value)}}


# -- preparations ------------------------------------------------------------------------------------
def skewed_positive(X: np.ndarray) -> np.ndarray:
    """Indices of the non-negative columns with skewness above 1: a log makes their tails tame."""
    centred = X - X.mean(axis=0)
    std = X.std(axis=0)
    skewness = np.where(std > 0, (centred ** 3).mean(axis=0) / np.where(std > 0, std, 1) ** 3, 0.0)
    several_values = np.array([len(np.unique(column)) > 2 for column in X.T], dtype=bool)
    return np.flatnonzero((skewness > SKEWNESS_FOR_LOG) & (X.min(axis=0) >= 0) & several_values)


def recipes(log_possible: bool) -> list[Recipe]:
    plain = [Recipe("standard"), Recipe("robust"), Recipe("standard", whiten=True)]
    return plain + ([Recipe("standard", log=True), Recipe("robust", log=True)] if log_possible else [])


def apply_recipe(X_raw: np.ndarray, recipe: Recipe, log_columns: np.ndarray) -> tuple[np.ndarray, float]:
    """The prepared matrix (as the file dataset's ``prepare`` makes it) and log |det dy/dx| summed over rows."""
    values = np.array(X_raw, dtype=np.float64)
    log_jacobian = 0.0
    if recipe.log and len(log_columns):
        part = values[:, log_columns]
        log_jacobian -= float(np.log1p(np.abs(part)).sum())
        values[:, log_columns] = np.sign(part) * np.log1p(np.abs(part))
    before = values.std(axis=0)
    values = scale_columns(values, recipe.scaling)
    after = values.std(axis=0)
    moving = (before > 0) & (after > 0)
    log_jacobian += len(values) * float(np.log(after[moving] / before[moving]).sum())
    if recipe.whiten:
        sign, log_det = np.linalg.slogdet(np.atleast_2d(np.cov(values.T)))
        values = pca_whiten(values).astype(np.float64)
        log_jacobian = log_jacobian - 0.5 * len(values) * log_det if sign > 0 else float("nan")
    return values, log_jacobian


# -- scores ------------------------------------------------------------------------------------------
def pairwise_distances(X: np.ndarray) -> np.ndarray:
    squared = (X ** 2).sum(axis=1)
    return np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * X @ X.T, 0.0))


def silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean over rows of (b - a) / max(a, b) from precomputed distances; noise (-1) rows left out."""
    kept = labels >= 0
    labels, distances = labels[kept], distances[np.ix_(kept, kept)]
    clusters, codes = np.unique(labels, return_inverse=True)
    if not 2 <= len(clusters) < len(labels):
        return float("nan")
    members = np.eye(len(clusters))[codes]
    sizes = members.sum(axis=0)
    sums = distances @ members  # [n, k]: summed distance from each row to each cluster
    own = sizes[codes]
    a = sums[np.arange(len(labels)), codes] / np.maximum(own - 1, 1)
    means = sums / sizes
    means[np.arange(len(labels)), codes] = np.inf
    b = means.min(axis=1)
    values = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(values.mean())


def partition_scores(X: np.ndarray, distances: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz of one partition of X [n, D] (noise rows left out)."""
    kept = labels >= 0
    scores = {"silhouette": silhouette(distances, labels), "noise_fraction": float(1 - kept.mean())}
    X, labels = X[kept], labels[kept]
    clusters, codes = np.unique(labels, return_inverse=True)
    k, n = len(clusters), len(labels)
    if not 2 <= k < n:
        return scores
    members = np.eye(k)[codes]
    sizes = members.sum(axis=0)
    centres = (members.T @ X) / sizes[:, None]
    offsets = X - centres[codes]
    within = float((offsets ** 2).sum())
    between = float((sizes * ((centres - X.mean(axis=0)) ** 2).sum(axis=1)).sum())
    scores["calinski_harabasz"] = between / max(within, 1e-12) * (n - k) / (k - 1)
    spread = (members.T @ np.sqrt((offsets ** 2).sum(axis=1))) / sizes  # mean distance to the own centre
    separation = pairwise_distances(centres)
    np.fill_diagonal(separation, np.inf)
    scores["davies_bouldin"] = float(((spread[:, None] + spread[None, :]) / np.maximum(separation, 1e-12))
                                     .max(axis=1).mean())
    return scores


# -- the contestants ---------------------------------------------------------------------------------
def fit_labels(algorithm: str, config: dict, X: np.ndarray, seed: int) -> tuple[np.ndarray, object]:
    """Labels [n] of one candidate refitted on X, and the fitted model (for assigning other rows)."""
    from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, SpectralClustering
    from sklearn.mixture import GaussianMixture

    if algorithm == "kmeans":
        model = KMeans(config["n_clusters"], n_init=4, random_state=seed).fit(X)
        return model.labels_, model
    if algorithm == "gmm":
        model = _mixture(GaussianMixture, config, X, seed)
        return model.predict(X), model
    if algorithm == "agglomerative":
        return AgglomerativeClustering(config["n_clusters"], linkage="ward").fit_predict(X), None
    if algorithm == "spectral":
        model = SpectralClustering(config["n_clusters"], affinity="nearest_neighbors", random_state=seed,
                                   n_neighbors=min(config["n_neighbors"], len(X) - 1), assign_labels="cluster_qr")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "graph is not fully connected" on a resample
            return model.fit_predict(X), None
    if algorithm == "hdbscan":
        return HDBSCAN(min_cluster_size=config["min_cluster_size"], copy=True).fit_predict(X), None
    raise ValueError(f"unknown tournament algorithm {algorithm!r}")


def mixture_parameters(covariance: str, k: int, d: int) -> int:
    """Free parameters of a k-component Gaussian mixture in d dimensions (means, covariances, weights)."""
    per_covariance = {"full": k * d * (d + 1) // 2, "tied": d * (d + 1) // 2, "diag": k * d, "spherical": k}
    return k * d + per_covariance[covariance] + k - 1


def _mixture(mixture_class, config: dict, X: np.ndarray, seed: int):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mixture_class(config["n_components"], covariance_type=config["covariance_type"], random_state=seed,
                             reg_covar=1e-5, n_init=MIXTURE_RESTARTS).fit(X)


def assign(model, X_fit: np.ndarray, labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Labels for the rows X: the model's own prediction, else the nearest cluster mean of X_fit."""
    if model is not None:
        return model.predict(X)
    clusters = np.unique(labels[labels >= 0])
    if not len(clusters):
        return np.zeros(len(X), dtype=int)
    means = np.stack([X_fit[labels == c].mean(axis=0) for c in clusters])
    squared = (X ** 2).sum(axis=1)[:, None] - 2 * X @ means.T + (means ** 2).sum(axis=1)[None, :]
    return clusters[np.argmin(squared, axis=1)]


def contestants(X: np.ndarray, recipe: Recipe, ks: list[int], seed: int) -> list[Candidate]:
    """Every algorithm x k on one prepared matrix; trees and spectral embeddings are computed once per recipe."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.cluster import HDBSCAN, KMeans
    from sklearn.mixture import GaussianMixture

    found = []
    for k in ks:
        model = KMeans(k, n_init=4, random_state=seed).fit(X)
        found.append(Candidate("kmeans", k, recipe, {"n_clusters": k}, model.labels_))
    for covariance in MIXTURE_COVARIANCES:
        for k in [1, *ks]:
            config = {"n_components": k, "covariance_type": covariance}
            try:
                model = _mixture(GaussianMixture, config, X, seed)
            except ValueError:  # a component collapsed onto too few rows: this k does not fit
                continue
            responsibilities = model.predict_proba(X)
            candidate = Candidate("gmm", k, recipe, config, responsibilities.argmax(axis=1),
                                  parameters=mixture_parameters(covariance, k, X.shape[1]))
            candidate.scores["bic_prepared"] = float(model.bic(X))
            # ICL (Biernacki et al. 2000): BIC plus twice the entropy of the soft assignments, so
            # components that overlap (one non-Gaussian group covered by several) are penalised.
            candidate.scores["entropy"] = float(-(responsibilities * np.log(np.maximum(responsibilities, 1e-300))).sum())
            found.append(candidate)
    tree = linkage(X, method="ward")
    for k in ks:
        found.append(Candidate("agglomerative", k, recipe, {"n_clusters": k, "linkage": "ward"},
                               fcluster(tree, k, criterion="maxclust") - 1))
    found += _spectral(X, recipe, ks, seed)
    size = max(8, len(X) // 25)
    labels = HDBSCAN(min_cluster_size=size, copy=True).fit_predict(X)
    n_found = len(np.unique(labels[labels >= 0]))
    if 2 <= n_found <= max(ks, default=2):
        found.append(Candidate("hdbscan", n_found, recipe, {"min_cluster_size": size}, labels))
    return found


def _spectral(X: np.ndarray, recipe: Recipe, ks: list[int], seed: int) -> list[Candidate]:
    """Spectral clustering for every k from one embedding: the first k eigenvectors, split by cluster_qr."""
    from sklearn.cluster._spectral import cluster_qr
    from sklearn.manifold import spectral_embedding
    from sklearn.neighbors import kneighbors_graph

    if not ks or len(X) <= max(ks) + 1:
        return []
    neighbours = min(SPECTRAL_NEIGHBOURS, len(X) - 1)
    graph = kneighbors_graph(X, neighbours, include_self=True)
    affinity = 0.5 * (graph + graph.T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "graph is not fully connected": the embedding says so
        maps = spectral_embedding(affinity, n_components=max(ks), drop_first=False, random_state=seed)
    return [Candidate("spectral", k, recipe, {"n_clusters": k, "n_neighbors": neighbours}, cluster_qr(maps[:, :k]))
            for k in ks]


def stability(candidate: Candidate, X: np.ndarray, seed: int, resamples: int = STABILITY_RESAMPLES) -> float:
    """Mean ARI between the candidate's labels and its refits on bootstrap resamples (all rows assigned)."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    agreements = []
    for _ in range(resamples):
        rows = np.unique(rng.integers(0, len(X), len(X)))
        try:
            labels, model = fit_labels(candidate.algorithm, candidate.config, X[rows], seed)
        except ValueError:
            agreements.append(0.0)
            continue
        agreements.append(adjusted_rand_score(candidate.labels, assign(model, X[rows], labels, X)))
    return float(np.mean(agreements))


# -- the tournament as rounds, so a run can report progress between them -----------------------------
@dataclass
class Tournament:
    """The state of one tournament on a raw measurement table X_raw [N, D] with its column names.

    Rounds: one per preparation (fit and score every contestant), then stability of the finalists.
    :meth:`result` then gives the leaderboard and the recommendation.
    """

    X_raw: np.ndarray
    feature_names: list[str]
    k_max: int = K_MAX
    seed: int = 0
    sample_rows: int = SAMPLE_ROWS
    n_finalists: int = STABILITY_FINALISTS
    loggable: list[bool] | None = None  # columns a log may touch (measurements, not one-hot 0/1 columns)
    standard_only: bool = False  # only standard scaling (data whose preparation a run cannot choose)
    candidates: list[Candidate] = field(default_factory=list)

    def __post_init__(self) -> None:
        X = np.asarray(self.X_raw, dtype=np.float64)
        rng = np.random.default_rng(self.seed)
        self.rows = np.sort(rng.choice(len(X), self.sample_rows, replace=False)) if len(X) > self.sample_rows \
            else np.arange(len(X))
        self.X_scored = X[self.rows]
        self.log_columns = skewed_positive(self.X_scored) if len(self.X_scored) > 2 else np.array([], dtype=int)
        if self.loggable is not None:
            self.log_columns = np.array([j for j in self.log_columns if self.loggable[j]], dtype=int)
        self.recipes = [Recipe("standard")] if self.standard_only else recipes(bool(len(self.log_columns)))
        self.ks = [k for k in range(2, self.k_max + 1) if k < len(self.X_scored)]
        self.prepared: dict[Recipe, np.ndarray] = {}
        self.rounds_done = 0

    @property
    def n_rounds(self) -> int:
        return len(self.recipes) + 1

    @property
    def finished(self) -> bool:
        return self.rounds_done >= self.n_rounds

    def play_round(self) -> str:
        """Play the next round; returns what it did, in a few words."""
        from threadpoolctl import threadpool_limits

        # Many small fits: one thread each is faster than BLAS/OpenMP pools fighting over two cores.
        with threadpool_limits(limits=1):
            return self._play_round()

    def _play_round(self) -> str:
        if self.rounds_done < len(self.recipes):
            recipe = self.recipes[self.rounds_done]
            self._score_recipe(recipe)
            done = f"scored {recipe.name}"
        else:
            self._score_stability()
            done = "stability of the finalists"
        self.rounds_done += 1
        return done

    def _score_recipe(self, recipe: Recipe) -> None:
        X, log_jacobian = apply_recipe(self.X_scored, recipe, self.log_columns)
        self.prepared[recipe] = X
        distances = pairwise_distances(X)
        for candidate in contestants(X, recipe, self.ks, self.seed):
            candidate.scores.update(partition_scores(X, distances, candidate.labels))
            if "bic_prepared" in candidate.scores:
                candidate.scores["bic"] = candidate.scores["bic_prepared"] - 2 * log_jacobian
                candidate.scores["icl"] = candidate.scores["bic"] + 2 * candidate.scores["entropy"]
            self.candidates.append(candidate)

    def _score_stability(self) -> None:
        from unsup_core.analysis.tournament_rule import finalists

        for candidate in finalists(self.candidates, self.n_finalists):
            candidate.scores["stability"] = stability(candidate, self.prepared[candidate.recipe], self.seed)

    def play(self, on_round: Callable[[int, str], None] | None = None) -> "TournamentResult":
        while not self.finished:
            done = self.play_round()
            if on_round:
                on_round(self.rounds_done, done)
        return self.result()

    def result(self) -> "TournamentResult":
        from unsup_core.analysis.tournament_rule import rank

        ranked, recommendation, reason = rank(self.candidates)
        return TournamentResult(ranked, recommendation, reason, self._options(recommendation),
                                list(self.feature_names), len(self.X_raw), len(self.rows), self._moves(recommendation),
                                [self.feature_names[j] for j in self.log_columns])

    def _options(self, winner: Candidate) -> dict:
        return preparation_options(winner.recipe, [self.feature_names[j] for j in self.log_columns])

    def _moves(self, winner: Candidate) -> dict[int, np.ndarray]:
        """Labels for each k of the winner's algorithm and preparation (how memberships move as k grows)."""
        family = [c for c in self.candidates if c.algorithm == winner.algorithm and c.recipe == winner.recipe
                  and c.config.get("covariance_type") == winner.config.get("covariance_type")]
        if winner.algorithm == "hdbscan":
            family = [c for c in self.candidates if c.algorithm == "kmeans" and c.recipe == winner.recipe]
        return {c.k: c.labels for c in sorted(family, key=lambda c: c.k)}

    def assign_all(self, winner: Candidate) -> np.ndarray:
        """The winner's cluster for every row of X_raw (fitted on the scored rows)."""
        if len(self.rows) == len(self.X_raw):
            return winner.labels
        X_all, _ = apply_recipe(self.X_raw, winner.recipe, self.log_columns)
        X_fit = self.prepared[winner.recipe]
        if winner.k == 1:
            return np.zeros(len(X_all), dtype=int)
        labels, model = fit_labels(winner.algorithm, winner.config, X_fit, self.seed)
        return assign(model, X_fit, labels, X_all)


@dataclass
class TournamentResult:
    leaderboard: list[Candidate]  # best first
    recommendation: Candidate
    reason: str  # one sentence
    dataset_options: dict  # the preparation fields that repeat the winner's matrix (features aside)
    features: list[str]
    n_rows: int
    n_scored: int
    moves: dict[int, np.ndarray]  # k -> labels of the scored rows, for the Sankey view
    log_columns: list[str] = field(default_factory=list)  # the columns a "log" preparation transforms

    def as_dict(self, top: int = 20) -> dict:
        winner = self.recommendation
        return {
            "rows": self.n_rows, "rows_scored": self.n_scored, "features": self.features,
            "candidates": len(self.leaderboard),
            "leaderboard": [{**candidate.as_dict(),
                             "dataset_options": preparation_options(candidate.recipe, self.log_columns)}
                            for candidate in self.leaderboard[:top]],
            "recommendation": {"algorithm": winner.algorithm, "k": winner.k, "config": dict(winner.config),
                               "dataset_options": dict(self.dataset_options), "title": winner.title,
                               "no_structure": winner.k == 1, "reason": self.reason},
        }


def preparation_options(recipe: Recipe, log_columns: list[str]) -> dict:
    """The file dataset's preparation fields that make a recipe's matrix again (features aside)."""
    return {"scaling": recipe.scaling, "missing": "median", "log_columns": list(log_columns) if recipe.log else [],
            "whiten": recipe.whiten, "one_hot": True, "max_rows": 0}


def run_tournament(X_raw: np.ndarray, feature_names: list[str], **settings) -> TournamentResult:
    """The whole tournament on X_raw [N, D] (raw, imputed measurements) in one call."""
    return Tournament(np.asarray(X_raw), list(feature_names), **settings).play()


