"""Image grids: samples, reconstructions and prototypes tiled into one picture."""

from __future__ import annotations

import math

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from unsup_core.viz.style import base_layout


def tile_images(images: np.ndarray, n_cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile [N, H, W] or [N, C, H, W] images (values in [0, 1]) into one [H', W'] or [H', W', C] array."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images.transpose(0, 2, 3, 1)  # channels last for display
        if images.shape[-1] == 1:
            images = images[..., 0]
    n = len(images)
    n_cols = n_cols or math.ceil(math.sqrt(n))
    n_rows = math.ceil(n / n_cols)
    height, width = images.shape[1:3]
    canvas = np.ones((n_rows * (height + pad) + pad, n_cols * (width + pad) + pad, *images.shape[3:]),
                     dtype=np.float32) * 0.5
    for index, image in enumerate(images):
        row, col = divmod(index, n_cols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        canvas[top:top + height, left:left + width] = image
    return np.clip(canvas, 0, 1)


def image_grid(images: np.ndarray, title: str, *, n_cols: int | None = None, height: int = 360) -> go.Figure:
    """A grid of images as one picture (sent as a PNG, so large grids stay light)."""
    canvas = (tile_images(images, n_cols) * 255).astype(np.uint8)
    figure = px.imshow(canvas, binary_string=True, color_continuous_scale="gray")
    figure.update_layout(**base_layout(title, height))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def paired_grid(inputs: np.ndarray, outputs: np.ndarray, title: str, *, pairs_per_row: int = 4) -> go.Figure:
    """Inputs and their reconstructions side by side: input, output, input, output, ..."""
    interleaved = np.stack([inputs, outputs], axis=1).reshape((-1, *inputs.shape[1:]))
    return image_grid(interleaved, title, n_cols=2 * pairs_per_row)
