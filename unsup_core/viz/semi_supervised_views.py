"""Views of semi-supervised runs: accuracy against the label budget, and the map of predictions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import SemiSupervisedSnapshot
from unsup_core.viz.panels import Panel, RunView, register_views
from unsup_core.viz.scatter import categorical_scatter
from unsup_core.viz.style import base_layout


def accuracy_vs_labels(labels_per_class: np.ndarray, semi: np.ndarray, supervised: np.ndarray) -> go.Figure:
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=labels_per_class, y=semi, mode="lines+markers", name="semi-supervised"))
    figure.add_trace(go.Scatter(x=labels_per_class, y=supervised, mode="lines+markers",
                                name="supervised (labelled points only)"))
    figure.update_layout(**base_layout("Accuracy on the unlabelled points"), xaxis_title="labels per class",
                         xaxis_type="log", yaxis_title="accuracy", yaxis_range=[0, 1.02])
    return figure


def prediction_map(points: np.ndarray, predicted: np.ndarray, true_labels: np.ndarray, labelled: np.ndarray,
                   title: str, label_names: list[str] | None) -> go.Figure:
    """Predicted classes by colour; the given labels as large diamonds; mistakes crossed out."""
    figure = categorical_scatter(points, predicted, title, label_names=label_names, prefix="class", marker_size=5)
    wrong = (predicted != true_labels) & ~labelled
    figure.add_trace(go.Scattergl(x=points[wrong, 0], y=points[wrong, 1], mode="markers", name="wrong",
                                  marker={"symbol": "x-thin", "size": 7, "line": {"width": 1.5, "color": "red"}}))
    figure.add_trace(go.Scatter(x=points[labelled, 0], y=points[labelled, 1], mode="markers", name="given labels",
                                marker={"symbol": "diamond", "size": 12, "color": "rgba(0,0,0,0)",
                                        "line": {"width": 2, "color": "black"}}))
    return figure


@register_views("semi_supervised")
def semi_supervised_panels(view: RunView) -> list[Panel]:
    panels = []
    metrics = view.metrics
    if {"labels_per_class", "accuracy_semi_supervised", "accuracy_supervised"} <= set(metrics):
        panels.append(Panel("accuracy-vs-labels", "Accuracy against labels per class", accuracy_vs_labels(
            metrics["labels_per_class"][1], metrics["accuracy_semi_supervised"][1],
            metrics["accuracy_supervised"][1]),
            "Both methods see the same labelled points; the semi-supervised one also sees where the rest lie."))
    if view.snapshot is not None:
        snapshot = SemiSupervisedSnapshot.from_arrays(view.snapshot)
        semi, supervised, per_class = snapshot.map_scores
        title = (f"Predictions with {int(per_class)} labels per class: semi-supervised {semi:.0%}, "
                 f"supervised {supervised:.0%} (PCA)")
        panels.append(Panel("prediction-map", title, prediction_map(
            snapshot.points, snapshot.predicted, snapshot.true_labels, snapshot.labelled, title,
            snapshot.label_name_list())))
    return panels
