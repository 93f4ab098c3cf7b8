"""Views of generative runs: VAE panels, and the pieces every generative model shares (sample quality
curves, sample grids, latent interpolations).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import VAESnapshot
from unsup_core.viz.images import image_grid, paired_grid, path_grid
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views
from unsup_core.viz.scatter import categorical_scatter
from unsup_core.viz.style import base_layout


def _dash_reference(panel: Panel | None, name: str) -> Panel | None:
    """Draw the real images' score as a dashed level across the whole curve (it is one number)."""
    if panel is not None:
        steps = [step for trace in panel.figure.data for step in (trace.x if trace.x is not None else [])]
        for trace in panel.figure.data:
            if trace.name == name and trace.y is not None and len(trace.y):
                # With one score so far the level has no length: a marker keeps it visible.
                mode = "lines" if min(steps) < max(steps) else "lines+markers"
                trace.update(x=[min(steps), max(steps)], y=[trace.y[-1]] * 2, mode=mode, line={"dash": "dash"})
        values = [value for trace in panel.figure.data for value in (trace.y if trace.y is not None else [])
                  if np.isfinite(value) and value > 0]
        if panel.figure.layout.yaxis.type == "log" and values and max(values) >= 10 * min(values):
            # Label powers of ten only where the curves cross one; within a decade that would leave no label.
            panel.figure.update_yaxes(dtick=1)
    return panel


def quality_panels(view: RunView) -> list[Panel | None]:
    """Classifier-based scores of samples over training, with held-out real images as the dashed reference."""
    return [
        _dash_reference(curves_panel(
            view, ["score_is", "score_is_real", "score_classes"],
            "Sample quality (higher is better)", "quality-is",
            "From a small classifier trained on the real images: the Inception-like score "
            "exp(E KL(p(y|x) || p(y))) is high when samples are recognisable and varied; classes covered "
            "counts the classes that are the top prediction of enough samples. Dashed: the score of "
            "held-out real images."), "score_is_real"),
        _dash_reference(curves_panel(
            view, ["score_fid", "score_fid_real"],
            "Fréchet distance to real images (lower is better)", "quality-fid",
            "Distance between Gaussians fitted to the classifier's features of samples and of training "
            "images (an FID computed with our classifier). Dashed: held-out real images.", log_y=True),
            "score_fid_real"),
    ]


def samples_panel(samples: np.ndarray, step: int | None, what: str = "Samples from fixed noise",
                  caption: str = "The same noise vectors every time: changes are the model learning.") -> Panel:
    title = f"{what} at step {step}"
    return Panel("samples", title, image_grid(samples, title), caption)


def interpolation_panels(paths: dict[str, np.ndarray | None], step: int | None, between: str,
                         ends: np.ndarray | None = None) -> list[Panel]:
    """Linear and spherical paths between the same pairs, one row per pair; ``paths`` maps mode to [P, T, ...]."""
    panels = []
    for mode, images in paths.items():
        if images is not None:
            title = f"Interpolation ({mode}) between {between} at step {step}"
            panels.append(Panel(f"interpolation-{mode}", title, path_grid(images, title, ends=ends)))
    if panels:
        panels[-1].caption = ("Each row walks from one code to another; a smooth morph means the space "
                              "between them decodes to plausible images. Spherical paths keep the norm of "
                              "Gaussian noise, where linear ones pass closer to the origin.")
    return panels


def kl_bars(kl_per_dim: np.ndarray, title: str) -> go.Figure:
    figure = go.Figure(go.Bar(x=[f"z{j}" for j in range(len(kl_per_dim))], y=kl_per_dim, marker_color="#1f77b4"))
    figure.update_layout(**base_layout(title), yaxis_title="nats", xaxis_title="latent dimension")
    return figure


@register_views("vae")
def vae_panels(view: RunView) -> list[Panel]:
    panels = [curves_panel(view, ["loss", "recon", "kl"], "Loss: reconstruction + beta * KL", "loss",
                           "Negative ELBO per sample. Recon falling while KL rises is the encoder "
                           "starting to use its latent code; KL near 0 means posterior collapse."),
              *quality_panels(view)]
    if view.snapshot is None:
        return panels
    snapshot, step = VAESnapshot.from_arrays(view.snapshot), view.snapshot_step
    panels.append(Panel("reconstructions", f"Reconstructions at step {step} (input | output)",
                        paired_grid(snapshot.recon_inputs, snapshot.recon_outputs,
                                    f"Reconstructions at step {step} (input | output)")))
    panels.append(samples_panel(snapshot.samples, step))
    latent_title = "Latent map (means of q(z|x)" + (", PCA)" if snapshot.latent_is_projected else ")")
    panels.append(Panel("latent-map", latent_title, categorical_scatter(
        snapshot.latent, snapshot.latent_labels, latent_title,
        label_names=snapshot.label_name_list(), prefix="class", marker_size=4)))
    if snapshot.kl_per_dim is not None:
        title = f"KL per latent dimension at step {step}"
        panels.append(Panel("kl-per-dim", title, kl_bars(snapshot.kl_per_dim, title),
                            "How much information each dimension carries. Dimensions near 0 are unused "
                            "(collapsed to the prior)."))
    if snapshot.traversal is not None:
        dims = ", ".join(f"z{d}" for d in snapshot.traversal_dims)
        title = f"Latent traversals at step {step} (rows: {dims}; -3 to +3)"
        panels.append(Panel("traversal", title, path_grid(snapshot.traversal, title),
                            "Each row changes one latent dimension from -3 to +3 prior standard deviations, "
                            "the others fixed at one image's code; rows are the most used dimensions first."))
    panels += interpolation_panels({"linear": snapshot.interpolation_linear,
                                    "spherical": snapshot.interpolation_spherical},
                                   step, "two encoded images", ends=snapshot.interpolation_inputs)
    return panels
