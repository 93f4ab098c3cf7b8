"""Views of SOM runs: error curves, schedules, U-matrix, hit map, labels on the map, prototypes/planes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import SOMSnapshot
from unsup_core.viz.curves import downsample
from unsup_core.viz.maps import MapLayout, category_map, component_planes, prototype_images, samples_on_map, \
    unit_hover, value_map
from unsup_core.viz.panels import Panel, RunView, register_views
from unsup_core.viz.style import base_layout

MAX_TEXT_UNITS = 400  # label text on each cell up to this many units


def _error_panel(view: RunView, batch_name: str, data_name: str, title: str, key: str, caption: str) -> Panel | None:
    if batch_name not in view.metrics and data_name not in view.metrics:
        return None
    figure = go.Figure()
    if batch_name in view.metrics:
        steps, values = downsample(*view.metrics[batch_name])
        figure.add_trace(go.Scatter(x=steps, y=values, mode="lines", name="each step's batch",
                                    line={"width": 1, "color": "#9ecae1"}))
    if data_name in view.metrics:
        steps, values = view.metrics[data_name]
        figure.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name="whole data",
                                    line={"width": 2, "color": "#1f77b4"}, marker={"size": 4}))
    figure.update_layout(**base_layout(title), xaxis_title="step", yaxis_title=key.upper())
    return Panel(key, title, figure, caption)


def _schedule_panel(view: RunView) -> Panel | None:
    if "sigma" not in view.metrics:
        return None
    figure = go.Figure()
    steps, sigma = downsample(*view.metrics["sigma"])
    figure.add_trace(go.Scatter(x=steps, y=sigma, mode="lines", name="sigma (units)"))
    if "learning_rate" in view.metrics:
        steps, rate = downsample(*view.metrics["learning_rate"])
        figure.add_trace(go.Scatter(x=steps, y=rate, mode="lines", name="learning rate", yaxis="y2"))
    figure.update_layout(**base_layout("Schedules: neighbourhood radius and learning rate"), xaxis_title="step",
                         yaxis={"title": {"text": "sigma"}, "rangemode": "tozero"},
                         yaxis2={"title": {"text": "learning rate"}, "overlaying": "y", "side": "right",
                                 "rangemode": "tozero", "automargin": True})  # room for its ticks and title
    return Panel("schedules", "Schedules", figure,
                 "Sigma (how far an update spreads on the map) and the learning rate (how far it moves a unit) "
                 "both shrink over the run: first the map orders itself, then it settles.")


def _label_details(counts: np.ndarray, names: list[str] | None) -> tuple[np.ndarray, list[str], list[str]]:
    """Majority label per unit (-1 when the unit has no samples), hover details and cell text."""
    total = counts.sum(axis=1)
    majority = np.where(total > 0, counts.argmax(axis=1), -1)

    def name(c: int) -> str:
        return str(names[c]) if names is not None and c < len(names) else str(c)

    details, text = [], []
    for unit in range(len(counts)):
        if total[unit] == 0:
            details.append("no samples")
            text.append("")
            continue
        top = np.argsort(counts[unit])[::-1][:3]
        parts = ", ".join(f"{name(c)}: {counts[unit, c]}" for c in top if counts[unit, c] > 0)
        purity = counts[unit, majority[unit]] / total[unit]
        details.append(f"{total[unit]} samples; {parts} ({purity:.0%} {name(majority[unit])})")
        text.append(name(majority[unit]))
    return majority, details, text


def map_panels(snapshot: SOMSnapshot, step: int | None) -> list[Panel]:
    """The snapshot's map views (also used by the SOM page for a finished run)."""
    layout = MapLayout.from_snapshot(snapshot)
    at = f" at step {step}" if step is not None else ""
    names = snapshot.label_name_list()
    n_eval = int(snapshot.n_evaluated) if snapshot.n_evaluated is not None else 0
    panels = []
    umatrix = np.asarray(snapshot.umatrix)
    panels.append(Panel("u-matrix", f"U-matrix{at}", value_map(
        layout, umatrix, f"U-matrix{at}", colorscale="Viridis",
        colorbar_title="distance"),
        "Each unit's mean distance to its neighbours' weights. Dark valleys: regions of similar samples; "
        "bright ridges: borders between groups."))
    hits = np.asarray(snapshot.hits)
    hit_text = [str(h) for h in hits] if layout.n_units <= 144 else None
    panels.append(Panel("hit-map", f"Hit map{at}", value_map(
        layout, hits, f"Hit map{at}", colorscale="Blues", colorbar_title="samples", text=hit_text),
        f"How many of {n_eval:,} samples each unit wins. Units that win none sit between groups."))
    if snapshot.unit_clusters is not None:
        clusters = np.asarray(snapshot.unit_clusters)
        panels.append(Panel("som-clusters", f"{clusters.max() + 1} clusters of the map{at}", category_map(
            layout, clusters, f"{clusters.max() + 1} clusters of the map{at}"),
            "The units' weights clustered; every row takes the cluster of its best unit."))
    if snapshot.label_counts is not None:
        majority, details, text = _label_details(np.asarray(snapshot.label_counts), names)
        panels.append(Panel("labels-on-map", f"Majority label per unit{at}", category_map(
            layout, majority, f"Majority label per unit{at}", names=names, hover=unit_hover(layout, details),
            text=text if layout.n_units <= MAX_TEXT_UNITS and max(map(len, text)) <= 3 else None, prefix="class"),
            "The most frequent true label among each unit's samples (labels are never used for training)."))
    if snapshot.marker_units is not None:
        labels = snapshot.marker_labels
        panels.append(Panel("samples-on-map", f"Samples on the map{at}", samples_on_map(
            layout, snapshot.marker_units, labels, f"Samples on the map{at}", label_names=names),
            "Every sample drawn on its best-matching unit" + (", coloured by its label." if labels is not None
                                                              else ".")))
    weights = np.asarray(snapshot.weights, dtype=np.float64)
    original = weights * np.asarray(snapshot.feature_scale) + np.asarray(snapshot.feature_mean)
    if snapshot.image_shape is not None:
        shape = tuple(int(v) for v in snapshot.image_shape)
        panels.append(Panel("prototypes", f"Prototypes{at}", prototype_images(
            layout, original.reshape((-1, *shape)), f"Prototypes{at}: every unit's weights as an image"),
            "Each unit's weight vector drawn as an image, in its place on the map."))
    else:
        stored_names = snapshot.feature_names if snapshot.feature_names is not None else []
        feature_names = [str(n) for n in stored_names] or [f"x{i}" for i in range(original.shape[1])]
        panels.append(Panel("component-planes", f"Component planes{at}", component_planes(
            layout, original, feature_names, f"Component planes{at}"),
            "One small map per feature: the units' weight for it, in the data's units (each plane on its own "
            "colour range; hover for values). Similar planes mean correlated features."))
    return panels


@register_views("som")
def som_panels(view: RunView) -> list[Panel]:
    panels = [
        _error_panel(view, "qe_batch", "qe", "Quantization error", "qe",
                     "Mean distance from a sample to its best unit's weights: how closely the map fits the data."),
        _error_panel(view, "te_batch", "te", "Topographic error", "te",
                     "Share of samples whose best and second-best units are not neighbours: how well the map "
                     "keeps the data's neighbourhoods."),
        _schedule_panel(view),
    ]
    if view.snapshot is not None:
        panels += map_panels(SOMSnapshot.from_arrays(view.snapshot), view.snapshot_step)
    return panels
