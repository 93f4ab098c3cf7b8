"""A first look at a dataset: images as a grid, points and tables as a labelled scatter."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.datasets import Dataset
from unsup_core.projection import PCAProjection
from unsup_core.viz.images import image_grid
from unsup_core.viz.scatter import categorical_scatter

PREVIEW_IMAGES = 48
PREVIEW_POINTS = 3000


def dataset_preview(data: Dataset, seed: int = 0) -> go.Figure:
    rng = np.random.default_rng(seed)
    if data.kind == "images":
        rows = rng.choice(data.n_samples, min(PREVIEW_IMAGES, data.n_samples), replace=False)
        return image_grid(data.images(np.sort(rows)), f"{data.name}: {len(rows)} random images", n_cols=8,
                          height=420)
    rows = np.sort(rng.choice(data.n_samples, min(PREVIEW_POINTS, data.n_samples), replace=False))
    points = data.X[rows]
    title = f"{data.name}: {len(rows):,} points"
    if data.n_features > 2:
        points = PCAProjection(seed=seed).fit(data.X).transform(points)
        title += " (first two principal components)"
    elif data.n_features == 1:  # a table with one measurement: its values along x, each row at its own height
        points = np.column_stack([points[:, 0], rows])
    figure = categorical_scatter(points, None if data.y is None else data.y[rows], title,
                                 label_names=data.label_names, prefix="class")
    if data.n_features == 1:
        figure.update_layout(xaxis_title=data.feature_names[0], yaxis_title="row")
    return figure
