"""2-D scatter views: cluster assignments with centres, and latent maps coloured by label."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.viz.style import base_layout, category_colour


def _label_text(label: int, label_names: list[str] | None, prefix: str) -> str:
    if label < 0:
        return "noise"
    if label_names is not None and label < len(label_names):
        return str(label_names[label])
    return f"{prefix} {label}"


def categorical_scatter(points: np.ndarray, labels: np.ndarray | None, title: str, *,
                        label_names: list[str] | None = None, prefix: str = "cluster",
                        marker_size: int = 5) -> go.Figure:
    """Points [N, 2] as WebGL markers, one trace per label so the legend can toggle them."""
    figure = go.Figure()
    labels = np.zeros(len(points), dtype=int) if labels is None else np.asarray(labels).astype(int)
    for label in np.unique(labels):
        mask = labels == label
        figure.add_trace(go.Scattergl(
            x=points[mask, 0], y=points[mask, 1], mode="markers",
            name=_label_text(label, label_names, prefix),
            marker={"size": marker_size, "color": category_colour(label), "opacity": 0.75},
        ))
    figure.update_layout(**base_layout(title, 420))
    return figure


def cluster_scatter(points: np.ndarray, labels: np.ndarray, title: str, *,
                    centers: np.ndarray | None = None) -> go.Figure:
    """Cluster assignments on a 2-D projection, with centres drawn as crosses."""
    figure = categorical_scatter(points, labels, title)
    if centers is not None and len(centers):
        figure.add_trace(go.Scatter(
            x=centers[:, 0], y=centers[:, 1], mode="markers", name="centres",
            marker={"symbol": "x", "size": 14, "color": "black", "line": {"width": 2, "color": "white"}},
        ))
    return figure
