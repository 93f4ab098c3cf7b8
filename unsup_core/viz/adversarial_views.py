"""Views of GAN runs: each loss term, the GAN Lab picture on 2-D data, samples and interpolations on images."""

from __future__ import annotations

from unsup_core.snapshots import AdversarialSnapshot
from unsup_core.viz.gan_lab import gan_lab_figure
from unsup_core.viz.generative_views import interpolation_panels, quality_panels, samples_panel
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views


def mode_panels(view: RunView) -> list[Panel | None]:
    return [
        curves_panel(view, ["modes_covered"], "Modes covered", "modes-covered",
                     "Modes that get at least a quarter of their share of the fixed samples within 3 standard "
                     "deviations of their centre. A drop means mode collapse."),
        curves_panel(view, ["high_quality"], "Fraction of samples on a mode", "high-quality",
                     "Generated points within 3 standard deviations of some mode's centre."),
    ]


def snapshot_panels(view: RunView, *, field_label: str, probability: bool) -> list[Panel]:
    if view.snapshot is None:
        return []
    snapshot, step = AdversarialSnapshot.from_arrays(view.snapshot), view.snapshot_step
    if snapshot.is_gan_lab:
        title = f"Real vs generated points and {field_label} at step {step}"
        return [Panel("gan-lab", title, gan_lab_figure(snapshot, title, field_label=field_label,
                                                       probability=probability),
                      f"Green: real points; purple: generated from fixed noise. Background: {field_label}. "
                      "Arrows: where the generator's loss pushes its points. Circles: modes (dotted red "
                      "when not covered).")]
    paths = {"linear": snapshot.interpolation_linear, "spherical": snapshot.interpolation_spherical}
    return [samples_panel(snapshot.samples, step), *interpolation_panels(paths, step, "two noise vectors")]


@register_views("adversarial")
def gan_panels(view: RunView) -> list[Panel]:
    return [
        curves_panel(view, ["d_loss", "g_loss"], "Losses: discriminator and generator", "losses",
                     "d_loss = -E[log D(x)] - E[log(1 - D(G(z)))], g_loss = -E[log D(G(z))]. At equilibrium "
                     "d_loss = 2 log 2 = 1.39 and g_loss = log 2 = 0.69; they oscillate rather than fall."),
        curves_panel(view, ["d_real", "d_fake"], "Discriminator output on real and generated samples", "d-output",
                     "Mean D(x) on a real batch and on a generated batch; both near 0.5 when D cannot tell."),
        *mode_panels(view), *quality_panels(view),
        *snapshot_panels(view, field_label="D(x)", probability=True),
    ]


@register_views("wgan")
def wgan_gp_panels(view: RunView) -> list[Panel]:
    return [
        curves_panel(view, ["wasserstein"], "Critic's estimate of the Wasserstein distance", "wasserstein",
                     "E[C(x)] - E[C(G(z))] on the last critic batch: it should fall as the samples improve."),
        curves_panel(view, ["critic_loss", "g_loss"], "Losses: critic and generator", "losses",
                     "critic_loss = E[C(G(z))] - E[C(x)] + lambda * penalty; g_loss = -E[C(G(z))]."),
        curves_panel(view, ["gradient_penalty"], "Gradient penalty", "gradient-penalty",
                     "E[(||grad C(x_hat)|| - 1)^2] on random interpolates: small when the critic is close "
                     "to 1-Lipschitz."),
        *mode_panels(view), *quality_panels(view),
        *snapshot_panels(view, field_label="critic C(x)", probability=False),
    ]
