"""Live views of outlier detectors (Isolation Forest, LOF, autoencoder reconstruction error)."""

from __future__ import annotations

import numpy as np

from unsup_core.analysis.anomaly import detection_at
from unsup_core.snapshots import OutlierSnapshot
from unsup_core.viz.anomaly import anomaly_histogram, anomaly_map, precision_recall_figure, top_rows_table
from unsup_core.viz.images import image_grid, paired_grid
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views

DETECTION_CURVES = ["precision_at_k", "average_precision", "precision", "recall"]


def score_panels(snapshot: OutlierSnapshot, threshold: float) -> list[Panel]:
    """Histogram, map, precision-recall and the most anomalous rows for one threshold.

    Shared by the live views (the run's own threshold) and the run page's threshold slider.
    """
    scores = snapshot.row_outlier_score.astype(np.float64)
    planted = snapshot.planted.astype(bool) if snapshot.planted is not None else None
    flagged = int((scores > threshold).sum())
    caption = f"{flagged:,} of {len(scores):,} rows score above {threshold:.4g} and are flagged."
    panels = [Panel("outlier-histogram", "Distribution of outlier scores", anomaly_histogram(
        scores, threshold, "Distribution of outlier scores", planted=planted), caption)]
    if planted is not None:
        detection = detection_at(scores, planted, threshold)
        panels.append(Panel("outlier-precision-recall", "Planted anomalies: precision and recall",
                            precision_recall_figure(scores, planted, threshold, detection),
                            f"At this threshold: precision {detection.precision:.2f} ({detection.true_positives} "
                            f"of {detection.flagged} flagged rows are planted), recall {detection.recall:.2f} "
                            f"(of {detection.planted} planted)."))
    return panels


def map_panel(snapshot: OutlierSnapshot, threshold: float) -> Panel:
    points = snapshot.points
    display_scores = snapshot.scores.astype(np.float64)
    planted = None
    if snapshot.planted is not None and snapshot.display_rows is not None:
        planted = snapshot.planted[snapshot.display_rows].astype(bool)
    return Panel("outlier-map", "Outlier scores (PCA projection)", anomaly_map(
        points, display_scores, "Outlier scores (PCA projection)", planted=planted, flagged=display_scores > threshold),
        "Brighter: more unusual. Red rings: flagged rows" + ("; black x: planted anomalies." if planted is not None
                                                             else "."))


def most_anomalous_panel(snapshot: OutlierSnapshot) -> Panel | None:
    rows = snapshot.top_rows
    if rows is None:
        return None
    scores = snapshot.row_outlier_score[rows]
    planted = snapshot.planted[rows].astype(bool) if snapshot.planted is not None else None
    title = f"The {len(rows)} most anomalous rows"
    planted_note = f" {int(planted.sum())} of them are planted anomalies." if planted is not None else ""
    if snapshot.top_reconstructions is not None:
        rebuilt = snapshot.top_reconstructions
        figure = paired_grid(snapshot.top_images[:len(rebuilt)], rebuilt, title + ": input, reconstruction")
        return Panel("outlier-top", title, figure, "Highest score first, each next to what the autoencoder made "
                     f"of it.{planted_note}")
    if snapshot.top_images is not None:
        return Panel("outlier-top", title, image_grid(snapshot.top_images, title, n_cols=8),
                     f"Highest score first, left to right.{planted_note}")
    names = [str(name) for name in snapshot.feature_names] if snapshot.feature_names is not None else []
    return Panel("outlier-top", title, top_rows_table(snapshot.top_values, names, rows, scores, title,
                                                      planted=planted), f"Highest score first.{planted_note}")


@register_views("outliers")
def outlier_panels(view: RunView) -> list[Panel]:
    """Scores on a map, their histogram and the most anomalous rows: one-step detectors have no curves."""
    if view.snapshot is None or "row_outlier_score" not in view.snapshot:
        return []
    snapshot = OutlierSnapshot.from_arrays(view.snapshot)
    threshold = float(snapshot.threshold)
    panels = [map_panel(snapshot, threshold), *score_panels(snapshot, threshold)]
    top = most_anomalous_panel(snapshot)
    return panels + ([top] if top else [])


@register_views("trained_outliers")
def trained_outlier_panels(view: RunView) -> list[Panel]:
    """A detector that trains (the autoencoder): its loss and detection curves, then the outlier views."""
    curves = [panel for panel in (
        curves_panel(view, ["loss"], "Reconstruction loss (trimmed mean squared error)", "outlier-loss"),
        curves_panel(view, DETECTION_CURVES, "Finding the planted anomalies", "outlier-detection",
                     "precision_at_k: share of planted anomalies among the k top-scored rows, k = how many "
                     "were planted."),
    ) if panel is not None]
    return curves + outlier_panels(view)
