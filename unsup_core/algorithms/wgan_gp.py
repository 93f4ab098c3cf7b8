"""Wasserstein GAN with gradient penalty (Gulrajani et al. 2017), on images or 2-D points.

The critic C (no sigmoid) estimates the Wasserstein-1 distance W = max_{||C||_L <= 1} E[C(x)] - E[C(G(z))].
Instead of clipping weights, the 1-Lipschitz constraint is encouraged by penalising the critic's
gradient norm on random interpolates x_hat = e*x + (1-e)*G(z), e ~ U[0, 1]:

    L_C = E[C(G(z))] - E[C(x)] + lambda * E[(||grad C(x_hat)||_2 - 1)^2],    L_G = -E[C(G(z))],

with n_critic critic steps per generator step and Adam(lr=1e-4, betas=(0, 0.9)) as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from unsup_core.algorithms import register
from unsup_core.algorithms.adversarial import AdversarialAlgorithm
from unsup_core.algorithms.base import Adjustable
from unsup_core.algorithms.gan_networks import (IMAGE_SIZES, conv_discriminator, conv_generator,
                                                point_discriminator, point_generator)
from unsup_core.algorithms.optimizers import adam
from unsup_core.config import param

POINT_HIDDEN_LAYERS = 3


@dataclass
class WGANGPConfig:
    latent_dim: int = param(64, low=1, high=256, step=1, help="Size of the noise vector z ~ N(0, I).")
    n_critic: int = param(5, low=1, high=20, step=1, help="Critic updates per generator update (paper: 5).")
    gradient_penalty_weight: float = param(10.0, low=0.0, high=1000.0, step=1.0,
                                           help="lambda, the weight of the gradient penalty (paper: 10).")
    learning_rate: float = param(1e-4, low=1e-5, high=1e-2, log=True,
                                 help="Adam step size for both networks (paper: 1e-4, betas 0 and 0.9).")
    batch_size: int = param(64, low=8, high=4096, step=8, help="Real and generated samples per update.")
    hidden_dim: int = param(256, low=8, high=1024, step=8,
                            help="2-D points only: units in each of the 3 hidden layers of both networks.")
    base_channels: int = param(32, low=8, high=256, step=8,
                               help="Images only: channels of the critic's first layer, doubled at each step.")
    image_size: int = param(16, choices=IMAGE_SIZES, help="Images only: resized to this square size.")
    eval_every: int = param(250, low=0, high=100_000, step=10,
                            help="Score fixed samples every this many steps: modes covered (ring8/blobs) or "
                                 "classifier-based quality (labelled images); 0 = never.")


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """E[(||grad_x C(x)||_2 - 1)^2] at x = mix*real + (1-mix)*fake, ``mix`` [B] in [0, 1].

    ``create_graph`` keeps the gradient differentiable, so the penalty itself trains the critic.
    """
    mix = mix.view(-1, *([1] * (real.dim() - 1)))
    interpolates = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)
    return ((gradients.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


@register
class WGANGP(AdversarialAlgorithm):
    name = "wgan_gp"
    title = "WGAN-GP"
    accepts = ("images", "points2d")
    view_family = "wgan"
    Config = WGANGPConfig
    default_steps = 2000
    adjustables = (
        Adjustable("lr_generator", "learning_rate", "generator learning rate", optimizer="generator_optimizer"),
        Adjustable("lr_critic", "learning_rate", "critic learning rate", optimizer="discriminator_optimizer"),
    )
    summary = "WGAN-GP: a critic estimates the Wasserstein distance; a gradient penalty keeps it 1-Lipschitz."
    explanation = r"""
The **critic** $C$ scores samples with an unbounded number (no sigmoid: it is not a classifier).
By the Kantorovich-Rubinstein duality, the Wasserstein-1 distance between the data and the
generator's distribution is $W = \max_{\|C\|_L \le 1} \mathbb{E}_x[C(x)] - \mathbb{E}_z[C(G(z))]$, the
best separation any 1-Lipschitz function can achieve. The 1-Lipschitz constraint is encouraged with
a **gradient penalty** at random points $\hat{x} = \epsilon x + (1-\epsilon) G(z)$, $\epsilon \sim U[0,1]$
between real and generated samples. Each step makes `n_critic` critic updates, then one generator update:

$$
\mathcal{L}_C = \mathbb{E}_z[C(G(z))] - \mathbb{E}_x[C(x)]
+ \lambda\,\mathbb{E}_{\hat{x}}\big[(\|\nabla_{\hat{x}} C(\hat{x})\|_2 - 1)^2\big] \;\text{(critic\_loss)},
\qquad \mathcal{L}_G = -\mathbb{E}_z[C(G(z))] \;\text{(g\_loss)}.
$$

**What to look for.** `wasserstein` $= \mathbb{E}[C(x)] - \mathbb{E}[C(G(z))]$ is the critic's estimate
of the distance: unlike GAN losses it should fall fairly steadily as samples improve, which makes
it a usable progress curve. `gradient_penalty` should stay small (the critic is close to
1-Lipschitz); if it grows, lower the learning rate or raise $\lambda$. On `ring8`, compare with the
plain GAN: the critic gives useful gradients everywhere, so **mode collapse** is rarer (watch
`modes_covered`); the heatmap shows $C(x)$, high where the critic thinks data is. On images,
samples improve more slowly per step than DCGAN's (5 critic steps each) but training is steadier.
"""

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        config = self.config
        if not self.is_images:
            return (point_generator(config.latent_dim, config.hidden_dim, POINT_HIDDEN_LAYERS),
                    point_discriminator(config.hidden_dim, POINT_HIDDEN_LAYERS))
        channels = self.sample_shape[0]
        return (conv_generator(config.latent_dim, channels, config.image_size, config.base_channels),
                conv_discriminator(channels, config.image_size, config.base_channels, norm="layer"))

    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        betas = (0.0, 0.9)
        return (adam(self.generator.parameters(), lr=self.config.learning_rate, betas=betas),
                adam(self.discriminator.parameters(), lr=self.config.learning_rate, betas=betas))

    def train_step(self) -> dict[str, torch.Tensor]:
        critic = self.discriminator
        for _ in range(self.config.n_critic):
            real = self.real_batch()
            with torch.no_grad():  # the critic's steps need no gradient through G
                fake = self.generator(self.sample_noise(len(real)))
            critic_real, critic_fake = critic(real).mean(), critic(fake).mean()
            mix = torch.rand(len(real), generator=self.noise, device=self.device)
            penalty = gradient_penalty(critic, real, fake, mix)
            critic_loss = critic_fake - critic_real + self.config.gradient_penalty_weight * penalty
            self.discriminator_optimizer.zero_grad(set_to_none=True)
            critic_loss.backward()
            self.discriminator_optimizer.step()

        g_loss = -critic(self.generator(self.sample_noise(self.batches.batch_size))).mean()
        self.generator_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.generator_optimizer.step()
        return {"critic_loss": critic_loss.detach(), "g_loss": g_loss.detach(),
                "wasserstein": (critic_real - critic_fake).detach(), "gradient_penalty": penalty.detach()}

    def field_values(self, scores: torch.Tensor) -> torch.Tensor:
        return scores

    def generator_loss(self, scores: torch.Tensor) -> torch.Tensor:
        return -scores
