"""2-D or 3-D embeddings to look at the data with: PCA, t-SNE, UMAP (one fit, as one step)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.estimator_run import resolve_scaling, scaling_param, standardise
from unsup_core.config import param
from unsup_core.datasets import Dataset
from unsup_core.snapshots import EmbeddingSnapshot

# How many rows each method embeds when max_rows is 0: PCA is linear and instant, t-SNE costs
# minutes beyond a few thousand rows on a laptop CPU, UMAP sits in between.
AUTOMATIC_ROWS = {"pca": 100_000, "umap": 20_000, "tsne": 5_000}
# t-SNE and UMAP see at most this many PCA components: their neighbour searches cost time per feature,
# and beyond ~50 components wide data adds mostly noise (the usual advice of both methods' authors).
NON_LINEAR_MAX_FEATURES = 50


@dataclass
class EmbeddingConfig:
    method: str = param("pca", choices=("pca", "tsne", "umap"),
                        help="pca: linear, fast, keeps large distances; t-SNE and UMAP: non-linear, keep "
                             "neighbourhoods (clusters separate well) but distances between clusters mean little.")
    n_components: int = param(2, low=2, high=3, step=1, help="2-D or 3-D.")
    max_rows: int = param(0, low=0, high=1_000_000, step=1000,
                          help="Embed a random sample of at most this many rows. 0: automatic "
                               "(PCA 100,000, UMAP 20,000, t-SNE 5,000).")
    perplexity: float = param(30.0, low=2.0, high=100.0, step=1.0,
                              help="t-SNE: roughly the number of neighbours each point keeps close.")
    n_neighbors: int = param(15, low=2, high=200, step=1,
                             help="UMAP: neighbourhood size; larger keeps more of the global layout.")
    min_dist: float = param(0.1, low=0.0, high=1.0, step=0.05,
                            help="UMAP: how tightly points may pack; smaller gives denser clusters.")
    scaling: str = scaling_param()


@register
class Embedding(Algorithm):
    name = "embedding"
    title = "PCA / t-SNE / UMAP map"
    family = "embedding"
    accepts = ("table", "points2d", "images")
    view_family = "embedding"
    Config = EmbeddingConfig
    default_steps = 1
    summary = "Map the rows to 2-D or 3-D points to look at: PCA, t-SNE or UMAP."
    explanation = r"""
- **PCA** projects the centred data $X$ onto the top eigenvectors of its covariance
  $\frac1N X^\top X$: the directions of largest variance. It is linear, so distances and cluster
  sizes keep their meaning; the share of variance the axes explain is logged.
- **t-SNE** (van der Maaten & Hinton 2008) matches neighbour probabilities: with
  $p_{j|i} \propto \exp(-\lVert x_i - x_j\rVert^2 / 2\sigma_i^2)$ ($\sigma_i$ set by the perplexity),
  symmetrised to $p_{ij}$, and $q_{ij} \propto (1 + \lVert y_i - y_j \rVert^2)^{-1}$ in the map, it
  minimises $\mathrm{KL}(P\,\|\,Q) = \sum_{ij} p_{ij}\log\frac{p_{ij}}{q_{ij}}$.
- **UMAP** (McInnes et al. 2018) builds a fuzzy $k$-nearest-neighbour graph and lays it out by
  minimising the cross-entropy between its edge weights and the map's
  $(1 + a\lVert y_i - y_j\rVert^{2b})^{-1}$.

**What to look for:** t-SNE and UMAP separate clusters well, but the gaps between clusters and
their sizes are not to scale; check what you see against PCA. The embedding is computed once and
reused for every clustering of the same prepared data.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        self.data, self.seed = data, seed
        limit = self.config.max_rows or AUTOMATIC_ROWS[self.config.method]
        rng = np.random.default_rng(seed)
        n = data.n_samples
        self.rows = np.sort(rng.choice(n, limit, replace=False)) if n > limit else np.arange(n)
        features = data.X[self.rows]
        self.features = standardise(features) if resolve_scaling(self.config.scaling, data) == "standard" else features
        self.coordinates: np.ndarray | None = None

    def _fit(self) -> tuple[np.ndarray, dict[str, float]]:
        config, features = self.config, self.features
        dimensions = min(config.n_components, features.shape[1]) if config.method == "pca" else config.n_components
        if config.method == "pca":
            from sklearn.decomposition import PCA

            pca = PCA(dimensions, random_state=self.seed)
            coordinates = pca.fit_transform(features)
            # Fewer features than axes (one measurement): the missing axes are zero, so it draws on a line.
            padding = np.zeros((len(coordinates), config.n_components - dimensions), coordinates.dtype)
            return np.hstack([coordinates, padding]), {"explained_variance": float(pca.explained_variance_ratio_.sum())}
        features = self._reduced(features)
        if config.method == "tsne":
            from sklearn.manifold import TSNE

            tsne = TSNE(dimensions, perplexity=min(config.perplexity, (len(features) - 1) / 3), init="pca" if features.shape[1] >= dimensions else "random",
                        learning_rate="auto", random_state=self.seed)
            return tsne.fit_transform(features), {"kl_divergence": float(tsne.kl_divergence_)}
        from unsup_core.algorithms.umap_compile import fit_lock, import_umap

        umap = import_umap()
        reducer = umap.UMAP(n_components=dimensions, n_neighbors=min(config.n_neighbors, len(features) - 1),
                            min_dist=config.min_dist, random_state=self.seed)
        with fit_lock:
            return reducer.fit_transform(features), {}

    def _reduced(self, features: np.ndarray) -> np.ndarray:
        """``features`` [N, D] cut to at most NON_LINEAR_MAX_FEATURES principal components, for t-SNE/UMAP."""
        if features.shape[1] <= NON_LINEAR_MAX_FEATURES or len(features) <= NON_LINEAR_MAX_FEATURES:
            return features
        from sklearn.decomposition import PCA

        return PCA(NON_LINEAR_MAX_FEATURES, random_state=self.seed).fit_transform(features)

    def step(self) -> dict[str, float]:
        started = time.perf_counter()
        coordinates, values = self._fit()
        self.coordinates = np.asarray(coordinates, dtype=np.float32)
        self.finished = True
        return {**values, "fit_seconds": time.perf_counter() - started, "rows": float(len(self.rows))}

    def snapshot(self) -> dict[str, np.ndarray]:
        method = np.array(self.config.method)
        if self.coordinates is None:
            return EmbeddingSnapshot(method=method).as_arrays()
        return EmbeddingSnapshot(
            method=method, row_subset=self.rows.astype(np.int32), coordinates=self.coordinates,
            true_labels=self.data.y[self.rows] if self.data.has_labels else None,
            label_names=np.array(self.data.label_names) if self.data.label_names else None).as_arrays()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """A one-step fit has nothing to resume."""
