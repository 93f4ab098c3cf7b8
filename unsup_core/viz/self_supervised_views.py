"""Views of self-supervised runs: loss, linear probe against the raw-pixel baseline, held-out embedding."""

from __future__ import annotations

import numpy as np

from unsup_core.viz.images import image_grid
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views
from unsup_core.viz.scatter import categorical_scatter


def _rows_of_images(rows: list[np.ndarray]) -> np.ndarray:
    """Stack equal-length image lists so each becomes one row of the grid."""
    return np.concatenate(rows)


@register_views("self_supervised")
def self_supervised_panels(view: RunView) -> list[Panel]:
    panels = [
        curves_panel(view, ["loss"], "Training loss", "loss"),
        curves_panel(view, ["probe_accuracy", "raw_probe_accuracy"], "Linear probe accuracy (held-out)", "probe",
                     "Logistic regression on frozen features (labels used only here), against the same probe "
                     "on raw pixels (dashed).", dashed=("raw_probe_accuracy",)),
    ]
    snapshot = view.snapshot
    if snapshot is None:
        return panels
    step = view.snapshot_step
    if "embedding" in snapshot:
        title = f"Held-out embedding at step {step} (PCA of the features)"
        panels.append(Panel("embedding", title, categorical_scatter(
            snapshot["embedding"], snapshot.get("embedding_labels"), title, label_names=view.label_names(),
            prefix="class", marker_size=5)))
    if "view_1" in snapshot:
        title = f"Augmentations at step {step} (rows: original, view 1, view 2)"
        grid = _rows_of_images([snapshot["originals"], snapshot["view_1"], snapshot["view_2"]])
        panels.append(Panel("augmentations", title, image_grid(grid, title, n_cols=len(snapshot["originals"])),
                            "The two views of an image are the positive pair the loss pulls together."))
    if "masked" in snapshot:
        title = f"Masked inputs at step {step} (rows: original, masked, reconstruction)"
        grid = _rows_of_images([snapshot["originals"], snapshot["masked"], snapshot["reconstructions"]])
        panels.append(Panel("reconstructions", title, image_grid(grid, title, n_cols=len(snapshot["originals"])),
                            "Grey squares are hidden from the encoder; only they count in the loss."))
    return panels
