"""Reading outlier scores: the threshold, the most unusual rows, and how well planted anomalies are found.

A score is "higher = more unusual" for every detector here. When a dataset marks its planted
anomalies (labels ``normal`` / ``planted anomaly``, see :mod:`unsup_core.datasets.anomalies`), the
scores are graded against them; the detectors themselves never see those labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unsup_core.datasets import Dataset
from unsup_core.datasets.anomalies import ANOMALY_LABELS

N_MOST_ANOMALOUS = 24


def planted_anomalies(data: Dataset) -> np.ndarray | None:
    """A boolean mask of the planted anomalies, or None when the dataset does not mark them."""
    if data.y is None or list(data.label_names or []) != ANOMALY_LABELS:
        return None
    return np.asarray(data.y) == 1


def threshold_for_share(scores: np.ndarray, share: float) -> float:
    """The score above which about ``share`` of the rows lie."""
    return float(np.quantile(scores, 1.0 - share))


def most_anomalous(scores: np.ndarray, n: int = N_MOST_ANOMALOUS) -> np.ndarray:
    """Row indices of the ``n`` highest scores, highest first (ties: lower row first)."""
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores, dtype=np.float64)))
    return order[:n]


@dataclass(frozen=True)
class Detection:
    """What a threshold does to the planted anomalies."""

    flagged: int
    true_positives: int
    planted: int

    @property
    def precision(self) -> float:
        """Share of flagged rows that are planted anomalies (1.0 when nothing is flagged)."""
        return self.true_positives / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        """Share of planted anomalies that are flagged."""
        return self.true_positives / self.planted if self.planted else 0.0


def detection_at(scores: np.ndarray, planted: np.ndarray, threshold: float) -> Detection:
    flagged = np.asarray(scores) > threshold
    return Detection(int(flagged.sum()), int((flagged & planted).sum()), int(planted.sum()))


def precision_at_k(scores: np.ndarray, planted: np.ndarray, k: int | None = None) -> float:
    """Share of planted anomalies among the ``k`` top-scored rows (default k = number planted)."""
    k = int(planted.sum()) if k is None else k
    return float(planted[most_anomalous(scores, k)].mean()) if k else 0.0


def average_precision(scores: np.ndarray, planted: np.ndarray) -> float:
    """Area under the precision-recall curve (rank-based, as scikit-learn's average_precision_score)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    hits = planted[order].astype(np.float64)
    if hits.sum() == 0:
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    # Tied scores form one threshold: only the last row of each tie group counts as a cut point.
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    last_of_tie = np.append(sorted_scores[1:] != sorted_scores[:-1], True)
    recall_gain = np.diff(np.concatenate([[0.0], np.cumsum(hits)[last_of_tie]])) / hits.sum()
    return float((recall_gain * precision[last_of_tie]).sum())


def precision_recall_curve(scores: np.ndarray, planted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, precision, recall) for flagging the top 1, 2, ... rows."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    hits = np.cumsum(planted[order])
    flagged = np.arange(1, len(order) + 1)
    return np.asarray(scores)[order], hits / flagged, hits / max(int(planted.sum()), 1)


def detection_metrics(scores: np.ndarray, planted: np.ndarray, threshold: float) -> dict[str, float]:
    """The numbers a run logs when the data has planted anomalies."""
    at_threshold = detection_at(scores, planted, threshold)
    return {"precision_at_k": precision_at_k(scores, planted), "average_precision": average_precision(scores, planted),
            "precision": at_threshold.precision, "recall": at_threshold.recall}


def scores_table(dataset: str, options: dict, scores: np.ndarray, threshold: float):
    """The dataset's rows (a file's own rows) with ``outlier_score`` and ``is_outlier`` at ``threshold``."""
    from unsup_core.analysis.export import labelled_rows, source_table

    table, source_rows = source_table(dataset, options)
    scores = np.asarray(scores)
    return labelled_rows(table, source_rows, [{"row_outlier_score": scores,
                                               "row_is_outlier": (scores > threshold).astype(np.int8)}])
