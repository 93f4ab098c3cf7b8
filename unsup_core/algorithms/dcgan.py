"""Deep convolutional GAN (Radford, Metz & Chintala 2016) on images.

The GAN objective of Goodfellow et al. (2014) with convolutional networks: the discriminator
minimises -E[log D(x)] - E[log(1 - D(G(z)))], the generator the non-saturating -E[log D(G(z))].
Images are resized to 16x16 or 32x32 (digits are upsampled) and scaled to [-1, 1] for the tanh output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from unsup_core.algorithms import register
from unsup_core.algorithms.gan import GAN
from unsup_core.algorithms.gan_networks import IMAGE_SIZES, conv_discriminator, conv_generator, dcgan_init
from unsup_core.algorithms.optimizers import adam
from unsup_core.config import param


@dataclass
class DCGANConfig:
    latent_dim: int = param(64, low=2, high=256, step=1, help="Size of the noise vector z ~ N(0, I).")
    base_channels: int = param(32, low=8, high=256, step=8,
                               help="Channels of the discriminator's first layer (and the generator's last); "
                                    "doubled at each resolution step. The paper used 128 on 64x64 images.")
    image_size: int = param(16, choices=IMAGE_SIZES,
                            help="Images are resized to this square size; 32 is sharper and about 4x slower.")
    learning_rate: float = param(2e-4, low=1e-5, high=1e-2, log=True,
                                 help="Adam step size for both networks (the paper's 2e-4, beta1 = 0.5).")
    batch_size: int = param(64, low=8, high=1024, step=8, help="Real and generated images per update.")
    eval_every: int = param(250, low=0, high=100_000, step=10,
                            help="Score samples with a classifier trained on the real images every this many "
                                 "steps (labelled datasets; 0 = never).")


@register
class DCGAN(GAN):
    name = "dcgan"
    title = "DCGAN (images)"
    accepts = ("images",)
    view_family = "adversarial"
    Config = DCGANConfig
    default_steps = 3000
    summary = "DCGAN: convolutional generator and discriminator that learn to produce images from noise."
    explanation = r"""
The **generator** $G$ maps noise $z \sim \mathcal{N}(0, I)$ to an image through transposed
convolutions (4x4 -> 8x8 -> ...), with batch-norm and ReLU, and a tanh output in $[-1, 1]$. The
**discriminator** $D$ mirrors it with strided convolutions and LeakyReLU, ending in one logit:
$D(x)$ is the probability that $x$ is a real image. All weights start from $\mathcal{N}(0, 0.02)$.
The game is Goodfellow's $\min_G \max_D \mathbb{E}_x[\log D(x)] + \mathbb{E}_z[\log(1 - D(G(z)))]$;
each step takes one Adam step (lr $2\cdot10^{-4}$, $\beta_1 = 0.5$) on

$$
\mathcal{L}_D = -\mathbb{E}_{x}[\log D(x)] - \mathbb{E}_{z}[\log(1 - D(G(z)))] \quad\text{(d\_loss)},
\qquad \mathcal{L}_G = -\mathbb{E}_{z}[\log D(G(z))] \quad\text{(g\_loss)},
$$

the generator using the **non-saturating** loss (the minimax $\log(1 - D(G(z)))$ has vanishing
gradients while $D$ wins easily).

**What to look for.** The sample grid uses the same 64 noise vectors at every snapshot: blobs turn
into strokes, then into digits. GAN losses do not fall to zero; a healthy run oscillates with
`d_loss` around 0.5-1.4 and `d_fake` not stuck at 0. If `d_loss` goes to ~0 and `g_loss` keeps
growing, $D$ has won and $G$ gets little signal. **Mode collapse** shows as many near-identical
samples and a low `score_classes`; the Inception-like score and the Fréchet distance (from a
small classifier trained on the real images, with the held-out real images as reference) track
quality and variety. Interpolating between two noise vectors should morph one image smoothly into
another; spherical paths stay where the noise norm is typical.
"""

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        config = self.config
        channels = self.sample_shape[0]
        generator = conv_generator(config.latent_dim, channels, config.image_size, config.base_channels)
        discriminator = conv_discriminator(channels, config.image_size, config.base_channels, norm="batch")
        generator.apply(dcgan_init)
        discriminator.apply(dcgan_init)
        return generator, discriminator

    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        betas = (0.5, 0.999)
        return (adam(self.generator.parameters(), lr=self.config.learning_rate, betas=betas),
                adam(self.discriminator.parameters(), lr=self.config.learning_rate, betas=betas))
