"""Masked reconstruction: hide patches of each image and learn to fill them in (in the spirit of MAE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.encoders import ConvEncoder
from unsup_core.algorithms.self_supervised import SelfSupervisedAlgorithm
from unsup_core.config import param


@dataclass
class MaskedConfig:
    mask_ratio: float = param(0.5, low=0.05, high=0.95, step=0.05, help="Fraction of patches hidden in each image.")
    patch_size: int = param(0, low=0, high=16, step=1,
                            help="Side of a square patch in pixels; 0 picks 2 for small images and 4 otherwise.")
    feature_dim: int = param(64, low=8, high=512, step=8, help="Size of the encoder's features (what the probe sees).")
    batch_size: int = param(256, low=16, high=4096, step=16, help="Images per step.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    probe_every: int = param(100, low=1, high=100000, step=1, help="Steps between linear-probe evaluations.")


def patch_mask(batch: int, height: int, width: int, patch: int, ratio: float,
               generator: torch.Generator) -> torch.Tensor:
    """1 where a pixel is hidden, [B, 1, H, W]; whole patch x patch squares are hidden together."""
    rows, cols = -(-height // patch), -(-width // patch)
    hidden = (torch.rand(batch, 1, rows, cols, generator=generator) < ratio).float()
    return hidden.repeat_interleave(patch, 2).repeat_interleave(patch, 3)[:, :, :height, :width]


@register
class MaskedReconstruction(SelfSupervisedAlgorithm):
    name = "masked_reconstruction"
    title = "Masked reconstruction"
    view_family = "self_supervised"
    Config = MaskedConfig
    default_steps = 1500
    summary = "Hide patches of each image and learn to fill them in; the encoder's features are probed linearly."
    explanation = r"""
Each image $x$ loses a random fraction of its patches: with $m$ the mask (1 = hidden), the encoder sees
$\tilde x = (1-m)\odot x$ together with $m$ itself, and a decoder predicts the whole image $\hat x$.
Only hidden pixels are scored:

$$
\mathcal{L} = \frac{\sum_p m_p\,(\hat x_p - x_p)^2}{\sum_p m_p}.
$$

To fill a hole the model must know what kind of image it is looking at (a stroke continues, a square
has straight edges), so its features come to describe the content. No labels are used; a **linear
probe** (logistic regression on frozen features of training images, scored on held-out ones) measures
how much class information the features hold, next to the same probe on raw pixels.

**What to look for:** reconstructions of held-out images sharpen; the probe rises. With a tiny mask
ratio the task is trivial (copy the neighbours); near 1 it is impossible; 0.5 to 0.75 is typical.
"""

    def build(self, channels: int, image_size: int) -> list[nn.Module]:
        self.patch = self.config.patch_size or (2 if image_size <= 8 else 4)
        height, width = self.image_shape[1:]
        # The mask is a second input channel, so "black pixel" and "hidden pixel" differ.
        self.encoder = ConvEncoder(channels + 1, image_size, self.config.feature_dim)
        self.decoder = nn.Sequential(nn.Linear(self.config.feature_dim, 256), nn.ReLU(),
                                     nn.Linear(256, channels * height * width))
        return [self.encoder, self.decoder]

    def mask_for(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[2:]
        return patch_mask(len(images), height, width, self.patch, self.config.mask_ratio,
                          self.generator).to(images.device)

    def reconstruct(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        visible = torch.cat([images * (1 - mask), mask], dim=1)
        return torch.sigmoid(self.decoder(self.encoder(visible))).reshape(images.shape)

    def train_step(self, images: torch.Tensor) -> torch.Tensor:
        mask = self.mask_for(images)
        hidden = mask.expand_as(images)
        error = F.mse_loss(self.reconstruct(images, mask), images, reduction="none")
        loss = (error * hidden).sum() / hidden.sum().clamp(min=1)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        nothing_hidden = torch.zeros_like(images[:, :1])
        return self.encoder(torch.cat([images, nothing_hidden], dim=1))

    @torch.no_grad()
    def example_views(self) -> dict[str, np.ndarray]:
        images = self.as_images(torch.as_tensor(self.data.X[self.example_rows], device=self.device))
        mask = self.mask_for(images)
        masked = images * (1 - mask) + 0.5 * mask  # hidden patches drawn grey
        return {"originals": images.cpu().numpy(), "masked": masked.cpu().numpy(),
                "reconstructions": self.reconstruct(images, mask).cpu().numpy()}
