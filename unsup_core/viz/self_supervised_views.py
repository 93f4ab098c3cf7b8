"""Views of self-supervised runs: loss, linear probe against the raw-pixel baseline, held-out embedding."""

from __future__ import annotations

import numpy as np

from unsup_core.snapshots import SelfSupervisedSnapshot
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
    if view.snapshot is None:
        return panels
    snapshot = SelfSupervisedSnapshot.from_arrays(view.snapshot)
    step = view.snapshot_step
    if snapshot.embedding is not None:
        title = f"Held-out embedding at step {step} (PCA of the features)"
        panels.append(Panel("embedding", title, categorical_scatter(
            snapshot.embedding, snapshot.embedding_labels, title, label_names=snapshot.label_name_list(),
            prefix="class", marker_size=5)))
    if snapshot.view_1 is not None:
        title = f"Augmentations at step {step} (rows: original, view 1, view 2)"
        grid = _rows_of_images([snapshot.originals, snapshot.view_1, snapshot.view_2])
        panels.append(Panel("augmentations", title, image_grid(grid, title, n_cols=len(snapshot.originals)),
                            "The two views of an image are the positive pair the loss pulls together."))
    if snapshot.masked is not None:
        title = f"Masked inputs at step {step} (rows: original, masked, reconstruction)"
        grid = _rows_of_images([snapshot.originals, snapshot.masked, snapshot.reconstructions])
        panels.append(Panel("reconstructions", title, image_grid(grid, title, n_cols=len(snapshot.originals)),
                            "Grey squares are hidden from the encoder; only they count in the loss."))
    return panels
