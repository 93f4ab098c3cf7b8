"""Views of autoregressive runs (PixelCNN): likelihood in bits per dimension, samples, the conditionals
the model used while sampling, and an animation of sampling pixel by pixel.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import PixelCNNSnapshot
from unsup_core.viz.generative_views import quality_panels, samples_panel
from unsup_core.viz.images import as_unit_float, image_grid, image_trace, paired_grid, tile_images
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views
from unsup_core.viz.style import base_layout

MAX_FRAMES = 64
UNKNOWN = np.array([0.16, 0.19, 0.35], dtype=np.float32)  # pixels not drawn yet: dark blue
CURRENT = np.array([0.85, 0.15, 0.15], dtype=np.float32)  # tint of the pixel being drawn


def sampling_frame(samples: np.ndarray, probabilities: np.ndarray, n_drawn: int) -> np.ndarray:
    """RGB images [N, 3, H, W] after ``n_drawn`` pixels in raster order: drawn pixels in grey, the
    next one red with brightness p(x_i = 1 | x_<i), the rest dark blue."""
    samples, probabilities = as_unit_float(samples), as_unit_float(probabilities)
    n, height, width = samples.shape
    order = np.arange(height * width).reshape(height, width)
    rgb = np.broadcast_to(UNKNOWN[:, None, None], (n, 3, height, width)).copy()
    drawn = order < n_drawn
    rgb[:, :, drawn] = samples[:, None, drawn]
    if n_drawn < height * width:
        row, col = divmod(n_drawn, width)
        rgb[:, :, row, col] = 0.25 + 0.75 * probabilities[:, None, row, col] * CURRENT[None, :]
    return rgb


def sampling_animation(samples: np.ndarray, probabilities: np.ndarray, title: str, *,
                       max_frames: int = MAX_FRAMES, n_cols: int | None = None) -> go.Figure:
    """A plotly animation (play button and slider) of drawing ``samples`` [N, H, W] pixel by pixel."""
    n_pixels = samples.shape[1] * samples.shape[2]
    stride = max(1, math.ceil(n_pixels / max_frames))
    counts = list(range(0, n_pixels, stride)) + [n_pixels]

    def picture(n_drawn: int) -> go.Image:
        canvas = (tile_images(sampling_frame(samples, probabilities, n_drawn), n_cols) * 255).astype(np.uint8)
        return image_trace(canvas)

    frames = [go.Frame(data=[picture(count)], name=str(count)) for count in counts]
    figure = go.Figure(data=[frames[0].data[0]], frames=frames)
    slider_steps = [{"args": [[str(count)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}],
                     "label": str(count), "method": "animate"} for count in counts]
    play = {"args": [None, {"frame": {"duration": 120, "redraw": True}, "fromcurrent": True}],
            "label": "Play", "method": "animate"}
    pause = {"args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
             "label": "Pause", "method": "animate"}
    figure.update_layout(**base_layout(title, 460))
    # The buttons get a row of their own and the slider (with its "pixels drawn" label) the row below,
    # offset in pixels: side by side, a narrow panel's buttons covered the label.
    figure.update_layout(
        updatemenus=[{"type": "buttons", "buttons": [play, pause], "direction": "left", "x": 0, "y": 0,
                      "xanchor": "left", "yanchor": "top", "pad": {"t": 6}, "showactive": False}],
        sliders=[{"steps": slider_steps, "active": 0, "x": 0, "len": 1, "y": 0, "yanchor": "top", "pad": {"t": 40},
                  "currentvalue": {"prefix": "pixels drawn: "}}])
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


@register_views("pixelcnn")
def pixelcnn_panels(view: RunView) -> list[Panel]:
    panels = [curves_panel(view, ["nll_bits_per_dim", "heldout_bits_per_dim"],
                           "Negative log-likelihood (bits per pixel)", "nll",
                           "Exact -log2 p(x) / D on the training batch and on held-out images. 1 bit is a coin "
                           "flip per pixel; held-out rising while training falls means overfitting."),
              *quality_panels(view)]
    if view.snapshot is None:
        return panels
    snapshot, step = PixelCNNSnapshot.from_arrays(view.snapshot), view.snapshot_step
    panels.append(samples_panel(snapshot.samples, step, "Samples drawn pixel by pixel",
                                "Drawn with the same random numbers every time: changes are the model learning."))
    title = f"p(pixel on | pixels before it) while sampling at step {step}"
    panels.append(Panel("sampling-probabilities", title, image_grid(snapshot.sample_probabilities, title),
                        "White: the model was sure the pixel is on; grey: unsure. Each sample pixel was "
                        "drawn from this probability."))
    title = f"Predictions on held-out images at step {step}"
    panels.append(Panel("predictions", title, paired_grid(snapshot.inputs, snapshot.predictions, title),
                        "Each image next to p(pixel on) given its true previous pixels: one network pass gives "
                        "every conditional at once when the pixels are known, which is what training sees."))
    title = f"Sampling pixel by pixel at step {step} (press Play)"
    panels.append(Panel("sampling-animation", title,
                        sampling_animation(snapshot.samples, snapshot.sample_probabilities, title),
                        "Grey: pixels drawn so far; red: the pixel being drawn, brighter when the model gave it a "
                        "higher probability of being on; blue: not drawn yet."))
    return panels
