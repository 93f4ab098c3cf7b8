"""Figures a newcomer meets first: labels that do not jumble, titles that do not overlap, plain words."""

import re

import numpy as np
import pytest

from tests.test_every_algorithm import NAMES, run_panels
from unsup_core.device import describe_device
from unsup_core.snapshots import KSelectionSnapshot
from unsup_core.viz.anomaly import anomaly_histogram
from unsup_core.viz.autoregressive_views import sampling_animation
from unsup_core.viz.compare import overlaid_curves
from unsup_core.viz.maps import MapLayout, component_planes
from unsup_core.viz.scatter import cluster_scatter
from unsup_core.viz.selection_views import k_selection_figure

# Run pages draw two figures to a row: on a 1024 px window each is about 430 px wide.
NARROW_PANEL_PX = 430
# An average character of plotly's sans-serif fonts is about half an em wide (0.49 measured in Chromium).
CHAR_EM = 0.55
PLOTLY_TITLE_SIZE = 17  # plotly's default, when a figure sets none


def text_px(text: str, font_size: float) -> float:
    return len(re.sub(r"<[^>]+>", "", text)) * CHAR_EM * font_size


def narrow_panel_problems(figure) -> list[str]:
    """What would touch or overlap on a 430 px panel, read from the layout (no browser)."""
    layout = figure.layout
    problems = []
    size = layout.title.font.size or PLOTLY_TITLE_SIZE
    lines = (layout.title.text or "").split("<br>")
    problems += [f"title line {line!r} is ~{text_px(line, size):.0f} px" for line in lines
                 if text_px(line, size) > NARROW_PANEL_PX - 30]
    if layout.title.text and layout.margin.t < len(lines) * 1.25 * size + 10:
        problems.append(f"{len(lines)} title lines in a top margin of {layout.margin.t} px")
    # Streamlit's plotly template leaves axes without automargin: a title is then drawn over the ticks.
    for name in [key for key in layout.to_plotly_json() if re.fullmatch(r"[xy]axis\d*", key)]:
        axis = layout[name]
        if axis.visible is not False and axis.title.text and not axis.automargin:
            problems.append(f"{name} has a title but no automargin")
    # Images, tables and Sankey diagrams have no legend entry (and no showlegend).
    shown = [trace for trace in figure.data if getattr(trace, "showlegend", False) is not False and trace.name]
    if layout.showlegend is not False and (len(shown) > 1 or any(trace.showlegend for trace in shown)):
        legend = layout.legend
        # Anchored to the figure's bottom edge, plotly adds the legend's height below the x axis's ticks and
        # title; at a paper position (y=-0.15) it lands on them.
        if (legend.orientation, legend.yref, legend.y, legend.yanchor) != ("h", "container", 0, "bottom"):
            problems.append(f"legend at {legend.yref or 'paper'} y={legend.y}, yanchor={legend.yanchor}")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_every_run_figure_fits_a_narrow_panel(name):
    problems = {panel.key: narrow_panel_problems(panel.figure) for panel in run_panels(name)}
    assert not {key: found for key, found in problems.items() if found}


def test_a_long_title_wraps_and_its_margin_grows():
    points = np.random.default_rng(0).normal(size=(50, 2))
    title = "Predictions with 5 labels per class: semi-supervised 91%, supervised 93% (PCA)"
    figure = cluster_scatter(points, np.arange(50) % 3, title)
    one_line = cluster_scatter(points, np.arange(50) % 3, "Clusters")
    assert figure.layout.title.text.count("<br>") >= 1 and not narrow_panel_problems(figure)
    assert figure.layout.margin.t > one_line.layout.margin.t


def test_choosing_k_titles_fit_their_columns():
    k = np.arange(2, 9)
    curve = np.linspace(1, 2, len(k))
    scores = KSelectionSnapshot.from_arrays({"k": k, "inertia": curve, "silhouette": curve, "davies_bouldin": curve,
                                             "calinski_harabasz": curve, "bic": curve, "mixture_silhouette": curve})
    figure = k_selection_figure(scores, 3, "Scores for each number of clusters k")
    plot_px = NARROW_PANEL_PX - figure.layout.margin.l - figure.layout.margin.r
    columns = {round(figure.layout[name].domain[0], 3): figure.layout[name].domain
               for name in ("xaxis", "xaxis2", "xaxis3", "xaxis4", "xaxis5")}
    for title in figure.layout.annotations:
        domain = next(domain for domain in columns.values() if domain[0] <= title.x <= domain[1])
        widest = max(text_px(line, title.font.size) for line in title.text.split("<br>"))
        assert widest <= (domain[1] - domain[0]) * plot_px + 15, title.text
    assert not narrow_panel_problems(figure)


def test_the_sampling_animation_buttons_and_slider_take_separate_rows():
    samples = np.zeros((4, 6, 6), np.float32)
    figure = sampling_animation(samples, np.full_like(samples, 0.5), "Sampling pixel by pixel")
    buttons, slider = figure.layout.updatemenus[0], figure.layout.sliders[0]
    assert buttons.y == slider.y and buttons.yanchor == slider.yanchor == "top"
    assert slider.pad.t - (buttons.pad.t or 0) >= 30  # a button is about 30 px tall


def test_the_outlier_histogram_labels_only_powers_of_ten():
    scores = np.random.default_rng(0).exponential(size=1000)
    figure = anomaly_histogram(scores, 2.0, "scores")
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.dtick == 1


def test_component_plane_titles_have_room_above_their_planes():
    rows, cols = 4, 4
    positions = np.array([(r, c) for r in range(rows) for c in range(cols)], dtype=float)
    layout = MapLayout(rows, cols, "rectangular", positions[:, 1], positions[:, 0])
    weights = np.random.default_rng(0).normal(size=(rows * cols, 12))
    figure = component_planes(layout, weights, [f"feature {i}" for i in range(12)], "planes")
    height = figure.layout.height
    gap = figure.layout.yaxis.domain[0] - figure.layout.yaxis7.domain[1]  # row 1's bottom to row 2's top
    assert gap * height >= 40  # a two-line title (name, range) is about 30 px


def test_compare_legends_sit_below_the_axis_title():
    series = {f"vae/digits 20261202-{i}": (np.arange(10), np.arange(10.0)) for i in range(4)}
    figure = overlaid_curves("loss", series)
    assert figure.layout.xaxis.title.text == "step" and not narrow_panel_problems(figure)


def test_one_thread_is_said_in_the_singular(monkeypatch):
    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert describe_device("cpu") == "CPU (1 thread)"
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    assert describe_device("cpu") == "CPU (4 threads)"
