"""Batched image augmentations on the training device: random affine (shift, rotation, scale) and noise.

One ``affine_grid`` + ``grid_sample`` call moves a whole batch, so two views of 256 images cost about
as much as one small convolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class AugmentSettings:
    max_shift: float = 0.15  # fraction of the image size
    max_rotation: float = 20.0  # degrees
    scale_range: tuple[float, float] = (0.85, 1.1)
    noise_std: float = 0.05


def random_affine(images: torch.Tensor, settings: AugmentSettings, generator: torch.Generator) -> torch.Tensor:
    """images [B, C, H, W] in [0, 1] -> augmented copies [B, C, H, W]."""
    batch = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return (torch.rand(batch, generator=generator) * (high - low) + low).to(images.device)

    angle = uniform(-settings.max_rotation, settings.max_rotation) * math.pi / 180
    scale = uniform(*settings.scale_range)
    shift_x = uniform(-2 * settings.max_shift, 2 * settings.max_shift)  # grid coordinates span [-1, 1]
    shift_y = uniform(-2 * settings.max_shift, 2 * settings.max_shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    moved = F.grid_sample(images, grid, padding_mode="zeros", align_corners=False)
    noise = torch.randn(moved.shape, generator=generator).to(images.device) * settings.noise_std
    return (moved + noise).clamp(0, 1)
