"""Figures a newcomer meets first: labels that do not jumble, titles that do not overlap, plain words."""

import numpy as np

from unsup_core.device import describe_device
from unsup_core.viz.anomaly import anomaly_histogram
from unsup_core.viz.compare import overlaid_curves
from unsup_core.viz.maps import MapLayout, component_planes


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
    assert figure.layout.legend.y <= -0.25 and figure.layout.margin.b >= 80


def test_one_thread_is_said_in_the_singular(monkeypatch):
    import torch

    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert describe_device("cpu") == "CPU (1 thread)"
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    assert describe_device("cpu") == "CPU (4 threads)"
