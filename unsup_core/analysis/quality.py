"""How good is a clustering: silhouettes per row and cluster, and agreement with a label column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.metrics import adjusted_rand_index, contingency_table, normalized_mutual_info

SILHOUETTE_ROWS = 3000


@dataclass
class Silhouettes:
    """Silhouette s = (b - a) / max(a, b) of sampled rows; noise rows are left out."""

    values: np.ndarray  # [M]
    clusters: np.ndarray  # [M]
    mean: float

    def cluster_means(self) -> dict[int, float]:
        return {int(c): float(self.values[self.clusters == c].mean()) for c in np.unique(self.clusters)}


def silhouettes(X: np.ndarray, labels: np.ndarray, *, max_rows: int = SILHOUETTE_ROWS,
                seed: int = 0) -> Silhouettes | None:
    """Silhouettes of at most ``max_rows`` clustered rows (the computation is quadratic in rows)."""
    from sklearn.metrics import silhouette_samples

    rows = np.flatnonzero(np.asarray(labels) >= 0)
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    clusters = np.asarray(labels)[rows]
    if not 2 <= len(np.unique(clusters)) < len(rows):
        return None
    values = silhouette_samples(X[rows], clusters)
    return Silhouettes(values, clusters, float(values.mean()))


@dataclass
class Agreement:
    """Clusters against a label column: ARI, NMI and the counts per (label, cluster)."""

    ari: float
    nmi: float
    counts: np.ndarray  # [n_labels, n_clusters]
    label_names: list[str]
    cluster_names: list[str]


def agreement(y: np.ndarray, labels: np.ndarray, label_names: list[str] | None = None) -> Agreement:
    """ARI and NMI (noise counted as a cluster of its own) and the confusion table."""
    y, labels = np.asarray(y), np.asarray(labels)
    present_labels, present_clusters = np.unique(y), np.unique(labels)
    names = [label_names[i] if label_names and 0 <= i < len(label_names) else str(i) for i in present_labels]
    clusters = ["noise" if c < 0 else f"cluster {c}" for c in present_clusters]
    return Agreement(adjusted_rand_index(y, labels), normalized_mutual_info(y, labels),
                     contingency_table(y, labels), names, clusters)
