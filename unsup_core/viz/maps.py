"""Figures of a SOM's map: values or categories per unit, samples on units, prototypes, planes.

Rectangular maps are heatmaps. Hexagonal maps are drawn as real hexagons: plotly fills one colour
per trace, so cells are grouped by colour level (continuous values) or by category, one trace each,
plus an invisible marker per unit that carries the hover text and the colour bar. Unit ``k`` sits at
grid cell ``divmod(k, cols)``; row 0 is drawn at the top, and on hexagonal maps every other column
is shifted by half a cell (minisom's layout, where all six neighbours are one unit apart).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.colors as pc
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unsup_core.snapshots import SOMSnapshot
from unsup_core.viz.images import image_trace
from unsup_core.viz.style import base_layout, category_colour

HEX_STEP = math.sqrt(3) / 2
HEX_RADIUS = 1 / math.sqrt(3)  # circumradius of a hexagon whose opposite sides are 1 apart
EMPTY_COLOUR = "#eeeeee"


@dataclass(frozen=True)
class MapLayout:
    """Where each unit is drawn: x to the right (columns), y downwards (rows)."""

    rows: int
    cols: int
    topology: str
    x: np.ndarray  # [K]
    y: np.ndarray  # [K]

    @classmethod
    def from_snapshot(cls, snapshot: SOMSnapshot) -> "MapLayout":
        rows, cols = (int(v) for v in snapshot.grid_shape)
        positions = np.asarray(snapshot.positions, dtype=np.float64)  # (along rows, along columns)
        return cls(rows, cols, str(snapshot.topology), positions[:, 1], positions[:, 0])

    @classmethod
    def from_grid(cls, grid) -> "MapLayout":
        return cls(grid.rows, grid.cols, grid.topology, grid.positions[:, 1], grid.positions[:, 0])

    @property
    def n_units(self) -> int:
        return self.rows * self.cols

    @property
    def hexagonal(self) -> bool:
        return self.topology == "hexagonal"

    def corners(self) -> tuple[np.ndarray, np.ndarray]:
        """Corner offsets of a cell, closed (first corner repeated)."""
        if self.hexagonal:
            angles = np.deg2rad(np.arange(0, 420, 60))  # flat-topped: corners at 0, 60, ... 360 degrees
            return HEX_RADIUS * np.cos(angles), HEX_RADIUS * np.sin(angles)
        return np.array([-.5, .5, .5, -.5, -.5]), np.array([-.5, -.5, .5, .5, -.5])

    def polygons(self, units: np.ndarray) -> tuple[list, list]:
        """The outlines of ``units`` as one path, separated by gaps, for a single filled trace.

        Rounded to 3 decimals: a map's figure is sent to the browser on every live refresh.
        """
        units = np.asarray(units, dtype=int)
        dx, dy = self.corners()
        gap = np.full((len(units), 1), np.nan)
        xs = np.hstack([np.round(self.x[units, None] + dx[None, :], 3), gap]).ravel().tolist()
        ys = np.hstack([np.round(self.y[units, None] + dy[None, :], 3), gap]).ravel().tolist()
        return [None if v != v else v for v in xs], [None if v != v else v for v in ys]

    def axes(self, figure: go.Figure) -> None:
        """Equal scales (cells keep their shape), row 0 at the top, no ticks."""
        pad = 0.7
        figure.update_xaxes(visible=False, range=[self.x.min() - pad, self.x.max() + pad])
        figure.update_yaxes(visible=False, range=[self.y.max() + pad, self.y.min() - pad], scaleanchor="x",
                            scaleratio=1)

    def aspect_height(self, width: int = 520, extra: int = 70) -> int:
        span_x = self.x.max() - self.x.min() + 1.4
        span_y = self.y.max() - self.y.min() + 1.4
        return int(min(720, max(260, width * span_y / span_x + extra)))


def unit_hover(layout: MapLayout, details: list[str] | None = None) -> list[str]:
    i, j = np.divmod(np.arange(layout.n_units), layout.cols)
    base = [f"unit {k} (row {i[k]}, col {j[k]})" for k in range(layout.n_units)]
    return base if details is None else [f"{b}<br>{d}" for b, d in zip(base, details)]


def _hex_value_traces(layout: MapLayout, values: np.ndarray, colorscale: str, levels: int, zmin: float,
                      zmax: float, hover: list[str], colorbar_title: str, show_scale: bool) -> list[go.BaseTraceType]:
    span = zmax - zmin if zmax > zmin else 1.0
    fraction = np.clip((values - zmin) / span, 0, 1)
    level = np.minimum((fraction * levels).astype(int), levels - 1)
    colours = pc.sample_colorscale(colorscale, [(lv + 0.5) / levels for lv in range(levels)])
    traces: list[go.BaseTraceType] = []
    for lv in np.unique(level):
        xs, ys = layout.polygons(np.flatnonzero(level == lv))
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=colours[lv],
                                 line={"width": 0.5, "color": "white"}, hoverinfo="skip", showlegend=False))
    traces.append(go.Scatter(
        x=layout.x, y=layout.y, mode="markers", hovertext=hover, hoverinfo="text", showlegend=False,
        marker={"size": 12, "opacity": 0, "color": values, "colorscale": colorscale, "cmin": zmin, "cmax": zmax,
                "showscale": show_scale, "colorbar": {"title": {"text": colorbar_title}, "thickness": 12}},
    ))
    return traces


def value_map(layout: MapLayout, values: np.ndarray, title: str, *, colorscale: str = "Viridis",
              colorbar_title: str = "", hover: list[str] | None = None, text: list[str] | None = None,
              levels: int = 16, height: int | None = None) -> go.Figure:
    """One number per unit, coloured (hexagons or heatmap cells)."""
    values = np.asarray(values, dtype=np.float64)
    hover = hover or unit_hover(layout, [f"{colorbar_title or 'value'}: {v:.4g}" for v in values])
    zmin, zmax = float(np.nanmin(values)), float(np.nanmax(values))
    figure = go.Figure()
    if layout.hexagonal:
        for trace in _hex_value_traces(layout, values, colorscale, levels, zmin, zmax, hover, colorbar_title, True):
            figure.add_trace(trace)
    else:
        grid = values.reshape(layout.rows, layout.cols)
        figure.add_trace(go.Heatmap(
            z=grid, x=np.arange(layout.cols), y=np.arange(layout.rows), colorscale=colorscale, zmin=zmin, zmax=zmax,
            text=np.asarray(hover).reshape(layout.rows, layout.cols), hoverinfo="text",
            colorbar={"title": {"text": colorbar_title}, "thickness": 12}, xgap=1, ygap=1))
    if text is not None:
        # Light text on the dark end of the scale, dark text on the light end.
        fraction = (values - zmin) / (zmax - zmin if zmax > zmin else 1.0)
        dark_is_high = colorscale.lower() in ("blues", "greys", "greens", "reds", "purples", "oranges")
        dark = fraction > 0.55 if dark_is_high else fraction < 0.45
        figure.add_trace(go.Scatter(x=layout.x, y=layout.y, mode="text", text=text, hoverinfo="skip",
                                    showlegend=False,
                                    textfont={"size": 9, "color": np.where(dark, "white", "#333333").tolist()}))
    figure.update_layout(**base_layout(title, height or layout.aspect_height()), plot_bgcolor="white")
    layout.axes(figure)
    return figure


def category_map(layout: MapLayout, categories: np.ndarray, title: str, *, names: list[str] | None = None,
                 hover: list[str] | None = None, text: list[str] | None = None, prefix: str = "cluster",
                 height: int | None = None) -> go.Figure:
    """One category per unit (-1: none), one colour per category with a legend entry each.

    Each unit's (invisible) marker carries the unit number as ``customdata``, so a click names the unit.
    """
    categories = np.asarray(categories).astype(int)
    hover = hover or unit_hover(layout)
    figure = go.Figure()
    for category in np.unique(categories):
        units = np.flatnonzero(categories == category)
        name = "no samples" if category < 0 else (
            str(names[category]) if names is not None and category < len(names) else f"{prefix} {category}")
        colour = EMPTY_COLOUR if category < 0 else category_colour(int(category))
        xs, ys = layout.polygons(units)
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=colour, name=name,
                                    legendgroup=name, line={"width": 0.5, "color": "white"}, hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=layout.x[units], y=layout.y[units], mode="markers", legendgroup=name,
                                    hovertext=[hover[u] for u in units], hoverinfo="text", showlegend=False,
                                    customdata=units, marker={"size": 12, "opacity": 0}))
    if text is not None:
        figure.add_trace(go.Scatter(x=layout.x, y=layout.y, mode="text", text=text, hoverinfo="skip",
                                    showlegend=False, textfont={"size": 9, "color": "black"}))
    figure.update_layout(**base_layout(title, height or layout.aspect_height()), plot_bgcolor="white")
    layout.axes(figure)
    return figure


def selected_units(points: list[dict], n_units: int) -> list[int]:
    """The units a browser reports as selected (clicked, boxed or lassoed) on a :func:`category_map`.

    Each unit's marker carries its number as ``customdata``; the points come from the browser, so
    anything that is not a unit of this map is ignored.
    """
    units = set()
    for point in points if isinstance(points, list) else []:
        unit = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(unit, list) and len(unit) == 1:  # some plotly versions wrap a scalar
            unit = unit[0]
        if isinstance(unit, bool) or not isinstance(unit, (int, float)) or not 0 <= unit < n_units:
            continue  # the range first: float() of a 400-digit integer would raise
        if isinstance(unit, int) or unit.is_integer():
            units.add(int(unit))
    return sorted(units)


def samples_on_map(layout: MapLayout, units: np.ndarray, labels: np.ndarray | None, title: str, *,
                   label_names: list[str] | None = None, seed: int = 0, height: int | None = None) -> go.Figure:
    """Each sample as a marker on its best unit (jittered inside the cell), coloured by its label."""
    units = np.asarray(units).astype(int)
    rng = np.random.default_rng(seed)
    radius = 0.32 * np.sqrt(rng.uniform(size=len(units)))
    angle = rng.uniform(0, 2 * np.pi, size=len(units))
    x = layout.x[units] + radius * np.cos(angle)
    y = layout.y[units] + radius * np.sin(angle)
    figure = go.Figure()
    xs, ys = layout.polygons(np.arange(layout.n_units))
    figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"width": 0.6, "color": "#cccccc"},
                                hoverinfo="skip", showlegend=False))
    labels = np.zeros(len(units), int) if labels is None else np.asarray(labels).astype(int)
    for label in np.unique(labels):
        mask = labels == label
        name = str(label_names[label]) if label_names is not None and label < len(label_names) else f"class {label}"
        figure.add_trace(go.Scattergl(x=x[mask], y=y[mask], mode="markers", name=name,
                                      marker={"size": 4, "color": category_colour(int(label)), "opacity": 0.8},
                                      hovertext=[f"{name} on unit {u}" for u in units[mask]], hoverinfo="text"))
    figure.update_layout(**base_layout(title, height or layout.aspect_height()), plot_bgcolor="white",
                         showlegend=len(np.unique(labels)) > 1)
    layout.axes(figure)
    return figure


def prototype_images(layout: MapLayout, images: np.ndarray, title: str, *, pad: int = 1,
                     height: int | None = None) -> go.Figure:
    """Every unit's weights drawn as an image at its place on the map (hexagonal columns offset)."""
    images = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    if images.ndim == 4:  # [K, C, H, W] -> channels last
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    h, w = images.shape[1:3]
    cell_h, cell_w = h + pad, w + pad
    top = np.rint((layout.y - layout.y.min()) * cell_h).astype(int) + pad
    left = np.arange(layout.n_units) % layout.cols * cell_w + pad
    canvas = np.full((top.max() + cell_h, left.max() + cell_w, *images.shape[3:]), 0.5, np.float32)
    for unit, image in enumerate(images):
        canvas[top[unit]:top[unit] + h, left[unit]:left[unit] + w] = image
    figure = go.Figure(image_trace((canvas * 255).astype(np.uint8)))
    ratio = canvas.shape[0] / canvas.shape[1]
    figure.update_layout(**base_layout(title, height or int(min(760, max(300, 540 * ratio + 60)))))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def unit_raster(layout: MapLayout, pixels_per_unit: int = 12) -> np.ndarray:
    """For each pixel of a picture of the map, the unit whose cell covers it (-1 outside every cell)."""
    pad = 0.6
    xs = np.arange(layout.x.min() - pad, layout.x.max() + pad, 1 / pixels_per_unit)
    ys = np.arange(layout.y.min() - pad, layout.y.max() + pad, 1 / pixels_per_unit)
    px, py = np.meshgrid(xs, ys)
    points = np.stack([px.ravel(), py.ravel()], axis=1)
    centres = np.stack([layout.x, layout.y], axis=1)
    owner = np.empty(len(points), dtype=np.int64)
    nearest = np.empty(len(points))
    for start in range(0, len(points), 20000):  # pixels in chunks: [chunk, K] distances
        d2 = ((points[start:start + 20000, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        owner[start:start + 20000] = d2.argmin(axis=1)
        nearest[start:start + 20000] = d2.min(axis=1)
    if layout.hexagonal:  # the nearest centre's hexagon is the pixel's cell, inside the map's outline
        inside = nearest <= HEX_RADIUS ** 2
    else:
        inside = (np.abs(points - centres[owner]) <= 0.5).all(axis=1)
    return np.where(inside, owner, -1).reshape(px.shape)


def component_planes(layout: MapLayout, weights: np.ndarray, feature_names: list[str], title: str, *,
                     max_planes: int = 36, columns: int = 6, colorscale: str = "RdBu_r") -> go.Figure:
    """One small map per feature: the units' weight for that feature, each on its own colour range.

    Drawn as pictures (one PNG per plane, the cells rasterised once), so dozens of planes stay light
    on a live page; each title gives the feature's range across the map.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n = min(weights.shape[1], max_planes)
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    raster = unit_raster(layout)
    colours = np.array([pc.hex_to_rgb(c) if c.startswith("#") else pc.unlabel_rgb(c)
                        for c in pc.sample_colorscale(colorscale, np.linspace(0, 1, 64))], dtype=np.uint8)
    titles = []
    # Each plane's title has two lines (name, range): leave them about 45 px above their plane.
    figure = make_subplots(rows=rows, cols=columns, horizontal_spacing=0.015,
                           vertical_spacing=min(0.3, 45 / (170 * rows)) if rows > 1 else 0.0,
                           subplot_titles=[" "] * n)
    for index in range(n):
        values = weights[:, index]
        low, high = float(values.min()), float(values.max())
        level = np.clip(((values - low) / (high - low if high > low else 1.0) * 63).round().astype(int), 0, 63)
        image = np.where((raster >= 0)[..., None], colours[level[np.maximum(raster, 0)]], 255).astype(np.uint8)
        trace = image_trace(image)
        trace.hoverinfo = "skip"
        row, col = divmod(index, columns)
        figure.add_trace(trace, row=row + 1, col=col + 1)
        titles.append(f"{_short(str(feature_names[index]))}<br><sup>{low:.3g} to {high:.3g}</sup>")
    for annotation, text in zip(figure.layout.annotations, titles):
        annotation.text = text
        annotation.font.size = 10
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor=None)
    suffix = f" (first {n} of {weights.shape[1]} features)" if weights.shape[1] > n else ""
    shared = base_layout(title + suffix, 90 + 170 * rows)
    # Below the figure's title, the first row's plane titles (two lines) need about 45 px more.
    figure.update_layout(**shared, plot_bgcolor="white")
    figure.update_layout(margin={"l": 10, "r": 10, "t": shared["margin"]["t"] + 48, "b": 10})
    return figure


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"
