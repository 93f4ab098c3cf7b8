"""Which figures a run shows: one view builder per view family, registered by the family's name.

Each algorithm declares its family (``Algorithm.view_family``: "clustering", "som", ...); a builder
gets a :class:`RunView` (metrics and the latest snapshot, read through its family's shape in
:mod:`unsup_core.snapshots`) and returns :class:`Panel`s; pages lay them
out and never need to know the algorithm. The "curves" family, and runs of algorithms no longer
registered, get their metric curves. Builders treat metrics and snapshot independently (either may be
empty), so a live page can rebuild the curves on every tick and the snapshot figures only when a new
snapshot arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from unsup_core.algorithms import UnknownAlgorithm, get_algorithm
from unsup_core.viz.curves import metric_curves

Series = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class Panel:
    key: str  # stable across updates, so the chart keeps its zoom
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass
class RunView:
    algorithm: str
    metrics: Series
    snapshot: dict[str, np.ndarray] | None = None
    snapshot_step: int | None = None
    extra: dict = field(default_factory=dict)


ViewBuilder = Callable[[RunView], list[Panel]]
_BUILDERS: dict[str, ViewBuilder] = {}


def register_views(family: str) -> Callable[[ViewBuilder], ViewBuilder]:
    """Decorator: ``builder`` draws the runs of every algorithm whose ``view_family`` is ``family``."""
    def decorate(builder: ViewBuilder) -> ViewBuilder:
        _BUILDERS[family] = builder
        return builder

    return decorate


def curves_panel(view: RunView, names: list[str], title: str, key: str, caption: str = "",
                 log_y: bool = False, dashed: tuple[str, ...] = ()) -> Panel | None:
    series = {name: view.metrics[name] for name in names if name in view.metrics}
    if not series:
        return None
    return Panel(key, title, metric_curves(series, title, log_y=log_y, dashed=dashed), caption)


@register_views("curves")
def default_panels(view: RunView) -> list[Panel]:
    return [Panel(f"metric-{name}", name, metric_curves({name: series}, name))
            for name, series in sorted(view.metrics.items())]


def view_family(algorithm: str) -> str:
    """The view family ``algorithm`` declares; "curves" for a name no longer registered (an old run)."""
    try:
        return get_algorithm(algorithm).view_family
    except UnknownAlgorithm:
        return "curves"


def build_panels(view: RunView) -> list[Panel]:
    family = view_family(view.algorithm)
    if family not in _BUILDERS:
        raise KeyError(f"{view.algorithm} declares view_family {family!r}, which no viz module registers")
    builder = _BUILDERS[family]
    return [panel for panel in builder(view) if panel is not None]


def metric_panels(algorithm: str, metrics: Series) -> list[Panel]:
    """Only the panels drawn from metric curves."""
    return build_panels(RunView(algorithm, metrics))


def snapshot_panels(algorithm: str, snapshot: dict[str, np.ndarray], step: int) -> list[Panel]:
    """Only the panels drawn from a snapshot."""
    return build_panels(RunView(algorithm, {}, snapshot, step))
