"""SimCLR-style contrastive learning (Chen et al. 2020): two augmented views of each image should agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.augment import AugmentSettings, random_affine
from unsup_core.algorithms.encoders import ConvEncoder
from unsup_core.algorithms.self_supervised import SelfSupervisedAlgorithm
from unsup_core.config import param


@dataclass
class ContrastiveConfig:
    temperature: float = param(0.5, low=0.01, high=5.0, step=0.05,
                               help="tau in NT-Xent. Lower: sharper, harder negatives; 0.1-0.5 is usual.")
    feature_dim: int = param(64, low=8, high=512, step=8, help="Size of the encoder's features (what the probe sees).")
    projection_dim: int = param(32, low=4, high=256, step=4, help="Size of the projection head's output z.")
    batch_size: int = param(256, low=16, high=4096, step=16,
                            help="Images per step; each has 2B - 2 negatives, so larger batches help.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    max_shift: float = param(0.15, low=0.0, high=0.5, step=0.01, help="Augmentation: largest shift (fraction of size).")
    max_rotation: float = param(20.0, low=0.0, high=180.0, step=1.0, help="Augmentation: largest rotation (degrees).")
    noise_std: float = param(0.05, low=0.0, high=0.5, step=0.01, help="Augmentation: Gaussian pixel noise.")
    probe_every: int = param(100, low=1, high=100000, step=1, help="Steps between linear-probe evaluations.")


def nt_xent(z_first: torch.Tensor, z_second: torch.Tensor, temperature: float) -> torch.Tensor:
    """Normalised-temperature cross-entropy over 2B views; the positive of view i is its twin.

    L = -1/(2B) sum_i log( exp(s(i, twin(i)) / tau) / sum_{k != i} exp(s(i, k) / tau) ), s = cosine.
    """
    batch = z_first.shape[0]
    z = F.normalize(torch.cat([z_first, z_second]), dim=1)
    similarity = z @ z.T / temperature
    similarity.fill_diagonal_(float("-inf"))  # a view is not its own negative
    twins = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)]).to(z.device)
    return F.cross_entropy(similarity, twins)


@register
class SimCLR(SelfSupervisedAlgorithm):
    name = "simclr"
    title = "SimCLR (contrastive)"
    view_family = "self_supervised"
    Config = ContrastiveConfig
    default_steps = 1500
    summary = "Contrastive learning: features that agree across augmentations of an image, probed linearly."
    explanation = r"""
Each image $x$ is augmented twice (shift, rotation, scale, noise) into $x^{(1)}, x^{(2)}$. An encoder $f$
gives features $h = f(x)$ and a small projection head $g$ gives $z = g(h)$. For a batch of $B$ images,
the two views of the same image are a **positive pair**; the other $2B-2$ views are **negatives**.
The NT-Xent loss pulls positives together and pushes negatives apart on the unit sphere:

$$
\mathcal{L} = -\frac{1}{2B}\sum_{i=1}^{2B} \log
\frac{\exp(\mathrm{sim}(z_i, z_{j(i)})/\tau)}{\sum_{k \ne i} \exp(\mathrm{sim}(z_i, z_k)/\tau)},
\qquad \mathrm{sim}(u, v) = \frac{u^\top v}{\lVert u\rVert\,\lVert v\rVert}
$$

where $j(i)$ is the other view of the same image and $\tau$ the temperature. No labels are used.

**How it is judged:** a **linear probe**, logistic regression on the frozen features $h$ of training
images, scored on held-out ones. The dashed line is the same probe on raw pixels. On `shapes`, where
position and rotation vary but the class does not, features invariant to the augmentations beat raw
pixels; on data where the augmentations destroy what defines the class, they would not.

**What to look for:** the loss falls below its start value $\log(2B-1)$; the probe rises; in the held-out
embedding, classes form separate groups. Too strong augmentations or too low $\tau$ make training unstable.
"""

    def build(self, channels: int, image_size: int) -> list[nn.Module]:
        self.encoder = ConvEncoder(channels, image_size, self.config.feature_dim)
        self.head = nn.Sequential(nn.Linear(self.config.feature_dim, self.config.feature_dim), nn.ReLU(),
                                  nn.Linear(self.config.feature_dim, self.config.projection_dim))
        self.augment_settings = AugmentSettings(self.config.max_shift, self.config.max_rotation,
                                                noise_std=self.config.noise_std)
        return [self.encoder, self.head]

    def views(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (random_affine(images, self.augment_settings, self.generator),
                random_affine(images, self.augment_settings, self.generator))

    def train_step(self, images: torch.Tensor) -> torch.Tensor:
        first, second = self.views(images)
        loss = nt_xent(self.head(self.encoder(first)), self.head(self.encoder(second)), self.config.temperature)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images)

    @torch.no_grad()
    def example_views(self) -> dict[str, np.ndarray]:
        images = self.as_images(torch.as_tensor(self.data.X[self.example_rows], device=self.device))
        first, second = self.views(images)
        return {"originals": images.cpu().numpy(), "view_1": first.cpu().numpy(), "view_2": second.cpu().numpy()}
