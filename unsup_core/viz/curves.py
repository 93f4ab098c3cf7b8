"""Metric curves: pure functions from (steps, values) series to plotly figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.viz.style import base_layout

MAX_CURVE_POINTS = 1500
SPARSE_POINTS = 60


def downsample(steps: np.ndarray, values: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Mean of equal-width step buckets, always keeping the last point, so long runs stay light."""
    if len(steps) <= max_points:
        return steps, values
    edges = np.linspace(0, len(steps), max_points, endpoint=False).astype(int)
    counts = np.diff(np.append(edges, len(steps)))
    sums = np.add.reduceat(np.nan_to_num(values), edges)
    bucket_steps = steps[np.minimum(edges + counts - 1, len(steps) - 1)]
    bucket_values = sums / counts
    bucket_values[-1] = values[-1]
    return bucket_steps, bucket_values


def metric_curves(series: dict[str, tuple[np.ndarray, np.ndarray]], title: str, *,
                  y_title: str = "", log_y: bool = False, dashed: tuple[str, ...] = ()) -> go.Figure:
    """One line per metric name over training steps; ``dashed`` names (baselines) are drawn dashed."""
    figure = go.Figure()
    for name, (steps, values) in series.items():
        steps, values = downsample(np.asarray(steps), np.asarray(values, dtype=float))
        # Sparse series (scores every few hundred steps, a few k-means iterations) need markers:
        # a single point drawn as a line is invisible.
        mode = "lines+markers" if len(steps) <= SPARSE_POINTS else "lines"
        figure.add_trace(go.Scatter(x=steps, y=values, mode=mode, name=name,
                                    line={"dash": "dash"} if name in dashed else None))
    figure.update_layout(**base_layout(title), xaxis_title="step", yaxis_title=y_title,
                         yaxis_type="log" if log_y else "linear", showlegend=len(series) > 1)
    drawn = [np.asarray(steps) for steps, _ in series.values() if len(steps)]
    first_step = min((int(steps.min()) for steps in drawn), default=0)
    last_step = max((int(steps.max()) for steps in drawn), default=0)
    if last_step < 10 or last_step - first_step < 10:  # plotly would put ticks at half steps (299.5 around one score)
        figure.update_xaxes(dtick=1)
    return figure


def mark_step(figure: go.Figure, step: int) -> go.Figure:
    """A dotted vertical line at ``step`` on a figure over training steps (the snapshot being shown)."""
    if (figure.layout.xaxis.title.text or "") == "step":
        figure.add_shape(_vertical_line(step, {"dash": "dot", "width": 1, "color": "grey"}))
    return figure


def _vertical_line(step: int, line: dict) -> dict:
    # A plain shape: add_vline does the same with subplot bookkeeping that costs 10x more per tick.
    return {"type": "line", "x0": step, "x1": step, "xref": "x", "y0": 0, "y1": 1, "yref": "paper", "line": line}


CHANGE_COLOUR = "#e67e22"


def change_label(name: str, value: float) -> str:
    """'lr 0.0003': what a hyperparameter change set, compactly."""
    return f"{name} {value:g}"


def mark_changes(figure: go.Figure, changes: list[tuple[int, str, float]]) -> go.Figure:
    """A labelled vertical line at each step where hyperparameters changed, on a figure over training steps.

    ``changes`` holds (step, name, value); changes at one step share one line and one label.
    """
    if (figure.layout.xaxis.title.text or "") != "step":
        return figure
    labels: dict[int, list[str]] = {}
    for step, name, value in changes:
        labels.setdefault(int(step), []).append(change_label(name, value))
    for step, texts in sorted(labels.items()):
        figure.add_shape(_vertical_line(step, {"width": 1.5, "color": CHANGE_COLOUR}))
        figure.add_annotation(x=step, xref="x", y=1, yref="paper", text=", ".join(texts), showarrow=False,
                              xanchor="left", yanchor="top", font={"size": 10, "color": CHANGE_COLOUR})
    return figure
