"""Views of generative runs: loss terms, reconstructions, samples from fixed noise, latent map."""

from __future__ import annotations

from unsup_core.viz.images import image_grid, paired_grid
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views
from unsup_core.viz.scatter import categorical_scatter


@register_views("vae")
def vae_panels(view: RunView) -> list[Panel]:
    panels = [curves_panel(view, ["loss", "recon", "kl"], "Loss: reconstruction + beta * KL", "loss",
                           "Negative ELBO per sample. Recon falling while KL rises is the encoder "
                           "starting to use its latent code; KL near 0 means posterior collapse.")]
    snapshot = view.snapshot
    if snapshot is None:
        return panels
    step = view.snapshot_step
    panels.append(Panel("reconstructions", f"Reconstructions at step {step} (input | output)",
                        paired_grid(snapshot["recon_inputs"], snapshot["recon_outputs"],
                                    f"Reconstructions at step {step} (input | output)")))
    panels.append(Panel("samples", f"Samples from fixed noise at step {step}",
                        image_grid(snapshot["samples"], f"Samples from fixed noise at step {step}"),
                        "The same latent vectors every time: changes are the decoder learning."))
    latent_title = "Latent map (means of q(z|x)" + (", PCA)" if snapshot.get("latent_is_projected") else ")")
    panels.append(Panel("latent-map", latent_title, categorical_scatter(
        snapshot["latent"], snapshot.get("latent_labels"), latent_title,
        label_names=view.label_names(), prefix="class", marker_size=4)))
    return panels
