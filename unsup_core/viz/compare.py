"""Several runs side by side: overlaid curves, final metrics, and what differs in their configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from unsup_core.viz.curves import downsample
from unsup_core.viz.style import base_layout, category_colour


def overlaid_curves(metric: str, series_by_run: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """One line per run for ``metric``, in the same colours in every chart."""
    figure = go.Figure()
    for index, (label, (steps, values)) in enumerate(series_by_run.items()):
        steps, values = downsample(np.asarray(steps), np.asarray(values, dtype=float))
        figure.add_trace(go.Scatter(x=steps, y=values, mode="lines", name=label,
                                    line={"color": category_colour(index)}))
    figure.update_layout(**base_layout(metric, 360), xaxis_title="step")
    return figure


def final_metrics_table(last_by_run: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Rows: runs; columns: every metric any of them logged (last value)."""
    return pd.DataFrame.from_dict(last_by_run, orient="index").sort_index(axis=1)


def config_diff(configs: dict[str, dict]) -> pd.DataFrame:
    """Rows: settings whose values differ between runs; columns: runs. Empty when all agree."""
    keys = sorted({key for config in configs.values() for key in config})
    rows = {}
    for key in keys:
        values = [configs[label].get(key, "-") for label in configs]
        if len({repr(value) for value in values}) > 1:
            rows[key] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(configs))
