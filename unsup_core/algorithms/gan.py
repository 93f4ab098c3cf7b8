"""Generative adversarial network (Goodfellow et al. 2014) with MLPs, on 2-D point sets.

The discriminator D maximises E_x[log D(x)] + E_z[log(1 - D(G(z)))]; the generator G minimises the
non-saturating loss -E_z[log D(G(z))] instead of E_z[log(1 - D(G(z)))], which has the same fixed
point but does not vanish when D confidently rejects G's samples early in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.adversarial import AdversarialAlgorithm
from unsup_core.algorithms.gan_networks import point_discriminator, point_generator
from unsup_core.algorithms.optimizers import adam
from unsup_core.config import param


@dataclass
class GANConfig:
    latent_dim: int = param(2, low=1, high=64, step=1,
                            help="Size of the noise vector z ~ N(0, I) fed to the generator.")
    hidden_dim: int = param(128, low=8, high=1024, step=8, help="Units in each hidden layer of both networks.")
    n_hidden_layers: int = param(2, low=1, high=4, step=1, help="Hidden layers in each network.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True,
                                 help="Adam step size for both networks (Adam's beta1 = 0.5, as in DCGAN).")
    batch_size: int = param(256, low=8, high=4096, step=8, help="Real and generated samples per update.")
    eval_every: int = param(50, low=0, high=100_000, step=10,
                            help="Score the fixed samples every this many steps: modes covered on "
                                 "ring8/blobs (0 = never).")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]) with D = sigmoid(logit): -log D = softplus(-logit)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)) per sample = softplus(-logit)."""
    return F.softplus(-fake_logits)


@register
class GAN(AdversarialAlgorithm):
    name = "gan"
    title = "GAN on 2-D points"
    accepts = ("points2d",)
    view_family = "adversarial"
    Config = GANConfig
    default_steps = 3000
    summary = "GAN on 2-D points: a generator learns to fool a discriminator; watch both play live (GAN Lab)."
    explanation = r"""
A **generator** $G$ turns noise $z \sim \mathcal{N}(0, I)$ into points $G(z)$; a **discriminator**
$D$ outputs the probability $D(x)$ that a point is real. They play the minimax game
$\min_G \max_D \; \mathbb{E}_{x}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))]$.
Each step takes one Adam step for each network; what we actually minimise is

$$
\mathcal{L}_D = -\mathbb{E}_{x}[\log D(x)] - \mathbb{E}_{z}[\log(1 - D(G(z)))] \quad\text{(d\_loss)},
\qquad \mathcal{L}_G = -\mathbb{E}_{z}[\log D(G(z))] \quad\text{(g\_loss)}.
$$

$\mathcal{L}_G$ is the **non-saturating** loss: minimising $\log(1 - D(G(z)))$, the minimax term, gives
almost no gradient when $D$ easily rejects the fakes, which is exactly the situation at the start.

**What to look for.** The heatmap is $D(x)$ over the plane (1 = "real"); arrows show where the
generator's loss pushes its samples: uphill on $D$. At the game's equilibrium $D = 1/2$ everywhere,
`d_loss` = $2\log 2 \approx 1.39$ and `g_loss` = $\log 2 \approx 0.69$; the curves do not fall
steadily as in other models, they oscillate. `d_real`/`d_fake` are the mean $D$ on real and on
generated points. On `ring8`, **mode collapse** is the classic failure: the generated points crowd
onto one or a few of the 8 modes and hop between them; `modes_covered` counts the modes that receive
at least a quarter of their share of samples within 3 standard deviations, `high_quality` the
fraction of samples that land on any mode. Try WGAN-GP on the same data to compare.
"""

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        config = self.config
        return (point_generator(config.latent_dim, config.hidden_dim, config.n_hidden_layers),
                point_discriminator(config.hidden_dim, config.n_hidden_layers))

    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        betas = (0.5, 0.999)
        return (adam(self.generator.parameters(), lr=self.config.learning_rate, betas=betas),
                adam(self.discriminator.parameters(), lr=self.config.learning_rate, betas=betas))

    def train_step(self) -> dict[str, torch.Tensor]:
        real = self.real_batch()
        fake = self.generator(self.sample_noise(len(real)))

        real_logits = self.discriminator(real)
        fake_logits = self.discriminator(fake.detach())  # D's step must not move G
        d_loss = discriminator_loss(real_logits, fake_logits)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.discriminator_optimizer.step()

        g_loss = nonsaturating_generator_loss(self.discriminator(fake)).mean()  # D just updated
        self.generator_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.generator_optimizer.step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "d_real": torch.sigmoid(real_logits).mean().detach(),
                "d_fake": torch.sigmoid(fake_logits).mean().detach()}

    def field_values(self, scores: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(scores)

    def generator_loss(self, scores: torch.Tensor) -> torch.Tensor:
        return nonsaturating_generator_loss(scores)
