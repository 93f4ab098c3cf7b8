"""Figures for outlier scores: where they sit, how they are distributed, what a threshold catches."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.analysis.anomaly import Detection, precision_recall_curve
from unsup_core.viz.clusters import score_map
from unsup_core.viz.style import base_layout

NORMAL_COLOUR, PLANTED_COLOUR, THRESHOLD_COLOUR = "#4c78a8", "#e45756", "#d62728"


def anomaly_histogram(scores: np.ndarray, threshold: float, title: str, *, planted: np.ndarray | None = None,
                      score_name: str = "outlier score") -> go.Figure:
    """The scores' distribution (log count) with the threshold; planted anomalies stacked in their own colour."""
    edges = np.histogram_bin_edges(scores, bins=60)
    bins = {"start": float(edges[0]), "end": float(edges[-1]), "size": float(edges[1] - edges[0]) or 1.0}
    figure = go.Figure()
    if planted is None:
        figure.add_trace(go.Histogram(x=scores, xbins=bins, marker={"color": NORMAL_COLOUR}, name="rows"))
    else:
        figure.add_trace(go.Histogram(x=scores[~planted], xbins=bins, marker={"color": NORMAL_COLOUR}, name="normal"))
        figure.add_trace(go.Histogram(x=scores[planted], xbins=bins, marker={"color": PLANTED_COLOUR},
                                      name="planted anomaly"))
    figure.add_vline(x=threshold, line_dash="dash", line_color=THRESHOLD_COLOUR, annotation_text="flagged above")
    # Anomalies are rare by definition: a log count keeps a bar of 2 rows visible beside one of 700.
    figure.update_layout(**base_layout(title), barmode="stack", xaxis_title=score_name,
                         yaxis={"title": {"text": "rows (log scale)"}, "type": "log", "dtick": 1}, showlegend=planted is not None)
    return figure


def anomaly_map(points: np.ndarray, scores: np.ndarray, title: str, *, planted: np.ndarray | None = None,
                flagged: np.ndarray | None = None) -> go.Figure:
    """Rows on a 2-D projection coloured by score; flagged rows ringed, planted anomalies marked x."""
    figure = score_map(points, scores, title)
    if flagged is not None and flagged.any():
        figure.add_trace(go.Scattergl(x=points[flagged, 0], y=points[flagged, 1], mode="markers", name="flagged",
                                      marker={"size": 10, "color": "rgba(0,0,0,0)",
                                              "line": {"color": THRESHOLD_COLOUR, "width": 1.5}}))
    if planted is not None and planted.any():
        figure.add_trace(go.Scattergl(x=points[planted, 0], y=points[planted, 1], mode="markers",
                                      name="planted anomaly", marker={"symbol": "x", "size": 6, "color": "black"}))
    figure.update_layout(showlegend=True)
    return figure


def precision_recall_figure(scores: np.ndarray, planted: np.ndarray, threshold: float, at_threshold: Detection,
                            title: str = "Planted anomalies: precision and recall") -> go.Figure:
    """Precision against recall over every cut of the ranking, the current threshold marked."""
    _, precision, recall = precision_recall_curve(scores, planted)
    figure = go.Figure(go.Scatter(x=recall, y=precision, mode="lines", name="every threshold",
                                  line={"color": NORMAL_COLOUR}))
    figure.add_trace(go.Scatter(x=[at_threshold.recall], y=[at_threshold.precision], mode="markers",
                                name=f"threshold {threshold:.3g}", marker={"size": 12, "color": THRESHOLD_COLOUR}))
    figure.update_layout(**base_layout(title), xaxis_title="recall (planted anomalies flagged)",
                         yaxis_title="precision (flagged rows that are planted)",
                         xaxis={"range": [0, 1.02]}, yaxis={"range": [0, 1.05]})
    return figure


def top_rows_table(values: np.ndarray, feature_names: list[str], rows: np.ndarray, scores: np.ndarray,
                   title: str, *, planted: np.ndarray | None = None, max_columns: int = 12) -> go.Figure:
    """The most anomalous rows of a table: row number, score, planted or not, and their values."""
    shown = feature_names[:max_columns]
    header = ["row", "score"] + (["planted"] if planted is not None else []) + shown
    columns = [rows.tolist(), [f"{score:.4g}" for score in scores]]
    if planted is not None:
        columns.append(["yes" if value else "" for value in planted])
    columns += [[f"{value:.4g}" for value in values[:, index]] for index in range(len(shown))]
    figure = go.Figure(go.Table(header={"values": header}, cells={"values": columns}))
    figure.update_layout(**base_layout(title, 120 + 22 * len(rows)))
    return figure
