"""Clustering agreement scores computed from a contingency table (numpy only, O(N + K^2))."""

from __future__ import annotations

import numpy as np


def contingency_table(labels_true: np.ndarray, labels_pred: np.ndarray) -> np.ndarray:
    """Counts [n_true_classes, n_pred_clusters] of samples per (class, cluster) pair."""
    labels_true = np.asarray(labels_true)
    labels_pred = np.asarray(labels_pred)
    if labels_true.shape != labels_pred.shape or labels_true.ndim != 1:
        raise ValueError("labels_true and labels_pred must be 1-D arrays of the same length")
    _, true_codes = np.unique(labels_true, return_inverse=True)
    _, pred_codes = np.unique(labels_pred, return_inverse=True)
    n_pred = pred_codes.max() + 1 if len(pred_codes) else 0
    flat = np.bincount(true_codes * n_pred + pred_codes, minlength=(true_codes.max() + 1) * n_pred)
    return flat.reshape(-1, n_pred)


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def adjusted_rand_index(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Hubert & Arabie's ARI: 1 for identical partitions, about 0 for random ones."""
    table = contingency_table(labels_true, labels_pred)
    n = table.sum()
    if n < 2:
        return 1.0
    sum_cells = _pairs(table)
    sum_rows, sum_cols = _pairs(table.sum(axis=1)), _pairs(table.sum(axis=0))
    expected = sum_rows * sum_cols / (n * (n - 1) / 2)
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:  # both partitions trivial (one cluster, or all singletons)
        return 1.0
    return (sum_cells - expected) / (maximum - expected)


def normalized_mutual_info(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Mutual information divided by the arithmetic mean of the two entropies (scikit-learn's default)."""
    table = contingency_table(labels_true, labels_pred).astype(np.float64)
    n = table.sum()
    joint = table / n
    p_true, p_pred = joint.sum(axis=1), joint.sum(axis=0)
    nonzero = joint > 0
    mutual = (joint[nonzero] * np.log(joint[nonzero] / np.outer(p_true, p_pred)[nonzero])).sum()
    entropy_true = -(p_true[p_true > 0] * np.log(p_true[p_true > 0])).sum()
    entropy_pred = -(p_pred[p_pred > 0] * np.log(p_pred[p_pred > 0])).sum()
    if entropy_true == 0 and entropy_pred == 0:
        return 1.0
    denominator = (entropy_true + entropy_pred) / 2
    return float(max(mutual, 0.0) / denominator) if denominator > 0 else 0.0
