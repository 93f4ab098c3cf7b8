"""Image grids: samples, reconstructions and prototypes tiled into one picture."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from unsup_core.viz.style import base_layout


def as_unit_float(images: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1]: uint8 arrays (0-255, as snapshots store them) are rescaled."""
    images = np.asarray(images)
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)


def tile_images(images: np.ndarray, n_cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile [N, H, W] or [N, C, H, W] images (floats in [0, 1] or uint8) into one [H', W'] or [H', W', C] array."""
    images = as_unit_float(images)
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


def image_trace(canvas: np.ndarray) -> go.Image:
    """uint8 [H, W] (grey) or [H, W, 3] (RGB) as an image trace carrying one PNG.

    What ``px.imshow(canvas, binary_string=True)`` draws, for a few ms instead of 100-250 ms per
    image (plotly express's machinery), which a live page pays at every new snapshot.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(canvas, dtype=np.uint8)).save(buffer, format="PNG")
    return go.Image(source="data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"),
                    hovertemplate="x: %{x}<br>y: %{y}<extra></extra>")


def image_grid(images: np.ndarray, title: str, *, n_cols: int | None = None, height: int = 360) -> go.Figure:
    """A grid of images as one picture (sent as a PNG, so large grids stay light)."""
    canvas = (tile_images(images, n_cols) * 255).astype(np.uint8)
    figure = go.Figure(image_trace(canvas))
    figure.update_layout(**base_layout(title, height))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def paired_grid(inputs: np.ndarray, outputs: np.ndarray, title: str, *, pairs_per_row: int = 4) -> go.Figure:
    """Inputs and their reconstructions side by side: input, output, input, output, ..."""
    interleaved = np.stack([inputs, outputs], axis=1).reshape((-1, *inputs.shape[1:]))
    return image_grid(interleaved, title, n_cols=2 * pairs_per_row)


def path_grid(paths: np.ndarray, title: str, *, ends: np.ndarray | None = None) -> go.Figure:
    """One row per path [P, S, H, W]; with ``ends`` [P, 2, H, W] the two real inputs frame each row."""
    rows = as_unit_float(paths)
    if ends is not None:
        ends = as_unit_float(ends)
        rows = np.concatenate([ends[:, :1], rows, ends[:, 1:]], axis=1)
    height = int(np.clip(80 + 55 * len(rows), 240, 560))
    return image_grid(rows.reshape((-1, *rows.shape[2:])), title, n_cols=rows.shape[1], height=height)
