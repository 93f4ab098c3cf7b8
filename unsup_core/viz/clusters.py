"""Figures for understanding clusters: the cluster map with row hover, silhouettes, sizes, labels, tree."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from unsup_core.analysis.profiles import ClusterProfiles, readable
from unsup_core.viz.style import base_layout, category_colour

MAX_HOVER_COLUMNS = 8
MAX_HOVER_CHARS = 80  # per name and value: a cell of a user's file may hold a megabyte
# Above this many points a 2-D map is drawn with WebGL (Scattergl), which pans and hovers 100,000 points
# smoothly; below it, SVG: crisp, and a browser allows only a few WebGL canvases per page.
WEBGL_MIN_POINTS = 5_000


def cluster_name(cluster: int) -> str:
    return "noise" if cluster < 0 else f"cluster {cluster}"


def _hover_name(name: object) -> str:
    """A column name fit for a hovertemplate: cut, HTML-escaped, and no ``%{`` for plotly to fill in."""
    return html.escape(str(name)[:MAX_HOVER_CHARS]).replace("%{", "%")


def _hover_values(values: pd.Series) -> pd.Series:
    """A user's cells as hover text: cut to MAX_HOVER_CHARS, then HTML-escaped (no links, no styles).
    Each distinct value is escaped once: text columns of 100,000 rows hold few of them."""
    cut = values.astype(str).str.slice(0, MAX_HOVER_CHARS)
    distinct = pd.unique(cut)
    return cut.map(dict(zip(distinct, map(html.escape, distinct))))


def _hover_text(part: pd.DataFrame, names: list) -> np.ndarray:
    """'name: value' lines of text columns, one string per row. Built column-wise and handed over as an
    array: plotly checks a list's strings one by one."""
    text = pd.Series("", index=part.index)
    for position, name in enumerate(names):
        text = text + ("<br>" if position else "") + f"{_hover_name(name)}: " + _hover_values(part[name])
    return text.to_numpy(dtype=str)


def _hover(hover: pd.DataFrame | None, mask: np.ndarray, rows: np.ndarray | None) -> dict:
    """customdata (numbers, sent as binary) and text (the other columns) with a template for both.

    Columns keep their order where they can: text columns before the first number (a label the page
    puts first) come right after the row number, through ``hovertext``; the other text columns come last.
    """
    if hover is None:
        return {}
    part = hover.iloc[np.flatnonzero(mask)]
    columns = list(hover.columns[:MAX_HOVER_COLUMNS])
    numeric = [name for name in columns if pd.api.types.is_numeric_dtype(hover[name])]
    leading = columns[:columns.index(numeric[0])] if numeric else []
    other = [name for name in columns if name not in numeric and name not in leading]
    row_numbers = np.flatnonzero(mask) if rows is None else rows[mask]
    # Values are shown to 4 significant digits: float32 halves what a 100,000-row map sends, and keeps
    # row numbers exact below 2**24.
    exact = np.float32 if row_numbers.max(initial=0) < 2**24 else np.float64
    custom = np.column_stack([row_numbers + 1] + [part[name].to_numpy(np.float64) for name in numeric]).astype(exact)
    lines = ["row %{customdata[0]}"] + (["%{hovertext}"] if leading else []) + [
        f"{_hover_name(name)}: %{{customdata[{i + 1}]:,.4~g}}" for i, name in enumerate(numeric)]
    result = {"customdata": custom}
    if leading:
        result["hovertext"] = _hover_text(part, leading)
    if other:
        result["text"] = _hover_text(part, other)
        lines.append("%{text}")
    result["hovertemplate"] = "<br>".join(lines)
    return result


def cluster_map(coordinates: np.ndarray, clusters: np.ndarray | None, title: str, *,
                hover: pd.DataFrame | None = None, rows: np.ndarray | None = None,
                axis_names: tuple[str, ...] = ("1", "2", "3"), names: list[str] | None = None) -> go.Figure:
    """Rows on a 2-D or 3-D map, one trace per cluster (in the order of ``np.unique(clusters)``); hovering
    shows the row's values. 2-D maps of ``WEBGL_MIN_POINTS`` or more points are drawn with WebGL.

    ``hover``: one table row per point (the original values); ``rows``: the row numbers to show.
    ``names``: legend names per cluster id (default 'cluster i', 'noise' for -1).
    """
    coordinates = np.asarray(coordinates, dtype=np.float32)
    clusters = np.zeros(len(coordinates), dtype=int) if clusters is None else np.asarray(clusters).astype(int)
    three_d = coordinates.shape[1] >= 3
    many = len(coordinates) > 20_000
    scatter_2d = go.Scattergl if len(coordinates) >= WEBGL_MIN_POINTS else go.Scatter
    figure = go.Figure()
    for cluster in np.unique(clusters):
        mask = clusters == cluster
        name = names[cluster] if names is not None and 0 <= cluster < len(names) else cluster_name(cluster)
        marker = {"color": category_colour(cluster), "size": (2 if many else 3) if three_d else (3 if many else 5),
                  "opacity": 0.6 if many else 0.8}
        extra = {**_hover(hover, mask, rows), "name": name, "mode": "markers", "marker": marker}
        if three_d:
            figure.add_trace(go.Scatter3d(x=coordinates[mask, 0], y=coordinates[mask, 1], z=coordinates[mask, 2],
                                          **extra))
        else:
            figure.add_trace(scatter_2d(x=coordinates[mask, 0], y=coordinates[mask, 1], **extra))
    figure.update_layout(**base_layout(title, 560))
    if three_d:
        figure.update_layout(scene={"xaxis_title": axis_names[0], "yaxis_title": axis_names[1],
                                    "zaxis_title": axis_names[2]})
    else:
        figure.update_layout(xaxis_title=axis_names[0], yaxis_title=axis_names[1])
    return figure


def selected_positions(clusters: np.ndarray, points: list[dict]) -> np.ndarray:
    """The map positions of points a browser reports as selected on a :func:`cluster_map` of ``clusters``.

    Each point names its trace (``curve_number``, one per cluster) and its index in that trace. They
    come from the browser, so anything that is not a point of the map is ignored.
    """
    members = [np.flatnonzero(np.asarray(clusters) == cluster) for cluster in np.unique(clusters)]
    positions = set()
    for point in points if isinstance(points, list) else []:
        curve, index = (point.get(name) if isinstance(point, dict) else None
                        for name in ("curve_number", "point_index"))
        if isinstance(curve, int) and isinstance(index, int) and 0 <= curve < len(members) \
                and 0 <= index < len(members[curve]):
            positions.add(int(members[curve][index]))
    return np.array(sorted(positions), dtype=np.int64)


def score_map(coordinates: np.ndarray, scores: np.ndarray, title: str, *, hover: pd.DataFrame | None = None,
              rows: np.ndarray | None = None, score_name: str = "outlier score") -> go.Figure:
    """Rows on a 2-D map coloured by a continuous score (brighter: higher)."""
    mask = np.ones(len(coordinates), dtype=bool)
    figure = go.Figure(go.Scattergl(
        x=coordinates[:, 0], y=coordinates[:, 1], mode="markers", name=score_name, **_hover(hover, mask, rows),
        marker={"color": scores, "colorscale": "Viridis", "size": 4, "colorbar": {"title": {"text": score_name}}}))
    figure.update_layout(**base_layout(title, 480))
    return figure


def cluster_sizes(sizes: pd.Series, title: str = "Cluster sizes") -> go.Figure:
    labels = [cluster_name(int(c)) for c in sizes.index]
    colours = [category_colour(int(c)) for c in sizes.index]
    figure = go.Figure(go.Bar(x=labels, y=sizes.to_numpy(), marker={"color": colours},
                              text=[f"{v:,} ({v / sizes.sum():.0%})" for v in sizes.to_numpy()], textposition="auto"))
    figure.update_layout(**base_layout(title, 260), yaxis_title="rows", showlegend=False)
    return figure


def silhouette_figure(values: np.ndarray, clusters: np.ndarray, title: str) -> go.Figure:
    """The classic silhouette plot: each cluster's rows sorted by silhouette, as horizontal bars."""
    figure = go.Figure()
    offset = 0
    for cluster in np.unique(clusters):
        ordered = np.sort(values[clusters == cluster])
        positions = offset + np.arange(len(ordered))
        colour = category_colour(int(cluster))
        figure.add_trace(go.Scatter(x=ordered, y=positions, mode="lines", fill="tozerox", fillcolor=colour,
                                    line={"width": 0.5, "color": colour},
                                    name=f"{cluster_name(int(cluster))} (mean {ordered.mean():.2f})"))
        offset += len(ordered) + max(5, len(values) // 100)
    figure.add_vline(x=float(values.mean()), line_dash="dash", line_color="black",
                     annotation_text=f"mean {values.mean():.2f}")
    figure.update_layout(**base_layout(title, 460), xaxis_title="silhouette", yaxis_visible=False,
                         xaxis_range=[min(-0.1, float(values.min())), 1])
    return figure


def confusion_heatmap(counts: np.ndarray, label_names: list[str], cluster_names: list[str], title: str) -> go.Figure:
    """Rows per (label, cluster), coloured by the share of each label row."""
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure = go.Figure(go.Heatmap(z=shares, x=cluster_names, y=label_names, text=counts, texttemplate="%{text:,}",
                                  colorscale="Blues", zmin=0, zmax=1, colorbar={"title": {"text": "share of label"}},
                                  hovertemplate="label %{y}, %{x}: %{text:,} rows<extra></extra>"))
    figure.update_layout(**base_layout(title, max(300, 60 + 28 * len(label_names))), yaxis_autorange="reversed",
                         xaxis_title="cluster", yaxis_title="label")
    return figure


def dendrogram_figure(x: np.ndarray, y: np.ndarray, leaves: np.ndarray, cut: float, title: str) -> go.Figure:
    """SciPy's dendrogram segments ([M, 4] x and y), the leaf labels, and the cut as a dashed line."""
    figure = go.Figure()
    for xs, ys in zip(x, y):
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#4c78a8", "width": 1.5},
                                    hoverinfo="skip", showlegend=False))
    if cut > 0:
        figure.add_hline(y=cut, line_dash="dash", line_color="#d62728", annotation_text="cut")
    ticks = 5 + 10 * np.arange(len(leaves))
    figure.update_layout(**base_layout(title, 380), yaxis_title="merge distance",
                         xaxis={"tickmode": "array", "tickvals": ticks, "ticktext": [str(leaf) for leaf in leaves],
                                "tickangle": -90})
    return figure


def profile_heatmap(profiles: ClusterProfiles, title: str, max_features: int = 30) -> go.Figure:
    """Features (rows) by cluster (columns): colour = effect in standard deviations, text = the cluster mean.

    With many features, the ``max_features`` with the largest effect anywhere are shown.
    """
    effects = profiles.effects.T
    strongest = effects.abs().max(axis=1).sort_values(ascending=False).index[:max_features]
    effects = effects.loc[[name for name in effects.index if name in set(strongest)]]
    means = profiles.means.T.loc[effects.index]
    text = [[readable(value, "=" in name) if np.isfinite(value) else "" for value in row]
            for name, row in zip(means.index, means.to_numpy())]
    overall = [readable(profiles.overall_mean[name], "=" in name) for name in effects.index]
    figure = go.Figure(go.Heatmap(
        z=effects.to_numpy().clip(-2.5, 2.5), x=[cluster_name(int(c)) for c in effects.columns],
        y=[f"{name} (all: {value})" for name, value in zip(effects.index, overall)], text=text,
        texttemplate="%{text}", colorscale="RdBu", reversescale=True, zmid=0, zmin=-2.5, zmax=2.5,
        colorbar={"title": {"text": "sd from<br>overall"}},
        hovertemplate="%{y}<br>%{x}: mean %{text}<br>%{z:+.2f} sd from the overall mean<extra></extra>"))
    figure.update_layout(**base_layout(title, max(320, 80 + 26 * len(effects))), yaxis_autorange="reversed")
    return figure
