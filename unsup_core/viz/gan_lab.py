"""The GAN Lab picture (after Kahng et al. 2019) for 2-D data: the discriminator's view of the plane,
real and generated points, and where the generator's loss pushes each generated point.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import AdversarialSnapshot
from unsup_core.viz.style import base_layout

ARROW_FRACTION = 0.08  # the longest arrow spans this fraction of the plot's width
REAL_COLOUR, GENERATED_COLOUR = "#2ca02c", "#9467bd"


def _arrow_segments(starts: np.ndarray, directions: np.ndarray, extent: float) -> tuple[list, list]:
    """Line segments start -> start + scaled direction, separated by None (one trace for all)."""
    longest = np.linalg.norm(directions, axis=1).max() if len(directions) else 0.0
    scale = ARROW_FRACTION * extent / longest if longest > 0 else 0.0
    ends = starts + directions * scale
    xs, ys = [], []
    for start, end in zip(starts, ends):
        xs += [float(start[0]), float(end[0]), None]
        ys += [float(start[1]), float(end[1]), None]
    return xs, ys


def gan_lab_figure(snapshot: AdversarialSnapshot, title: str, *, field_label: str, probability: bool) -> go.Figure:
    """Heatmap of ``field`` over the plane with real points, generated points, arrows and modes.

    ``probability``: the field is a discriminator probability (colour range fixed to [0, 1]);
    otherwise a critic's unbounded score, coloured around its own range.
    """
    field_x, field_y = snapshot.field_x, snapshot.field_y
    figure = go.Figure()
    heatmap = {"zmin": 0.0, "zmax": 1.0} if probability else {}
    hover = f"x=%{{x:.2f}}<br>y=%{{y:.2f}}<br>{field_label}=%{{z:.3f}}<extra></extra>"
    figure.add_trace(go.Heatmap(x=field_x, y=field_y, z=snapshot.field, colorscale="RdBu", opacity=0.55,
                                name=field_label, colorbar={"title": {"text": field_label}}, hovertemplate=hover,
                                **heatmap))
    real, generated = snapshot.real, snapshot.generated
    figure.add_trace(go.Scattergl(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                  marker={"size": 4, "color": REAL_COLOUR, "opacity": 0.7}))
    figure.add_trace(go.Scattergl(x=generated[:, 0], y=generated[:, 1], mode="markers", name="generated",
                                  marker={"size": 4, "color": GENERATED_COLOUR, "opacity": 0.8}))
    extent = float(field_x[-1] - field_x[0])
    xs, ys = _arrow_segments(snapshot.arrows_from, snapshot.arrows, extent)
    figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="generator's push",
                                line={"color": "black", "width": 1}, hoverinfo="skip"))
    if snapshot.mode_centres is not None:
        for centre, radius, covered in zip(snapshot.mode_centres, snapshot.mode_radii, snapshot.mode_covered):
            figure.add_shape(type="circle", x0=centre[0] - radius, x1=centre[0] + radius, y0=centre[1] - radius,
                             y1=centre[1] + radius, line={"color": "black" if covered else "#d62728", "width": 1.5,
                                                          "dash": "solid" if covered else "dot"})
    figure.update_layout(**base_layout(title, 480))
    figure.update_xaxes(range=[float(field_x[0]), float(field_x[-1])], constrain="domain")
    figure.update_yaxes(range=[float(field_y[0]), float(field_y[-1])], scaleanchor="x", scaleratio=1)
    return figure
