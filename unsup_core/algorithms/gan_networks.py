"""Generator and discriminator networks shared by the GANs, and the image resizing they need.

Image networks follow DCGAN (Radford et al. 2016): strided (transposed) convolutions instead of
pooling, batch-norm in the generator and in the discriminator except its first layer, ReLU in the
generator with a tanh output, LeakyReLU(0.2) in the discriminator, and weights drawn from N(0, 0.02).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

IMAGE_SIZES = (16, 32)


def mlp(in_dim: int, hidden_dim: int, out_dim: int, n_hidden_layers: int,
        activation: Callable[[], nn.Module]) -> nn.Sequential:
    """in_dim -> (Linear, activation) x n_hidden_layers -> Linear -> out_dim."""
    layers: list[nn.Module] = []
    width = in_dim
    for _ in range(n_hidden_layers):
        layers += [nn.Linear(width, hidden_dim), activation()]
        width = hidden_dim
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def point_generator(latent_dim: int, hidden_dim: int, n_hidden_layers: int) -> nn.Sequential:
    """z [B, latent_dim] -> points [B, 2] (unbounded, so any data range can be reached)."""
    return mlp(latent_dim, hidden_dim, 2, n_hidden_layers, nn.ReLU)


def point_discriminator(hidden_dim: int, n_hidden_layers: int) -> nn.Sequential:
    """points [B, 2] -> one score per point [B] (a logit for a GAN, a value for a WGAN critic)."""
    return nn.Sequential(mlp(2, hidden_dim, 1, n_hidden_layers, lambda: nn.LeakyReLU(0.2)), nn.Flatten(0))


def _n_doublings(image_size: int) -> int:
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {image_size}")
    return int(math.log2(image_size)) - 2  # 4x4 -> image_size


def conv_generator(latent_dim: int, channels: int, image_size: int, base_channels: int) -> nn.Sequential:
    """z [B, latent_dim] -> images [B, channels, S, S] in [-1, 1]; widths halve as the size doubles."""
    n = _n_doublings(image_size)
    widths = [base_channels * 2 ** (n - 1 - i) for i in range(n)]
    layers: list[nn.Module] = [nn.Unflatten(1, (latent_dim, 1, 1)),
                               nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
    for previous, width in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def conv_discriminator(channels: int, image_size: int, base_channels: int, norm: str) -> nn.Sequential:
    """images [B, channels, S, S] -> one score per image [B].

    ``norm="batch"`` is DCGAN's; ``norm="layer"`` is for a WGAN-GP critic, whose penalty is defined
    per sample and so must not mix samples through batch statistics (Gulrajani et al. 2017, 4).
    """
    n = _n_doublings(image_size)
    widths = [base_channels * 2**i for i in range(n)]
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    for previous, width in zip(widths, widths[1:]):
        normalisation = nn.BatchNorm2d(width) if norm == "batch" else nn.GroupNorm(1, width)
        layers += [nn.Conv2d(previous, width, 4, 2, 1, bias=False), normalisation, nn.LeakyReLU(0.2, True)]
    layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Flatten(0)]
    return nn.Sequential(*layers)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights ~ N(0, 0.02); batch-norm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def image_channels(image_shape: tuple[int, ...]) -> int:
    return 1 if len(image_shape) == 2 else image_shape[0]


def resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize [N, C, H, W]: pixel copies for integer up-scaling and block means for integer down-scaling,
    so digits 8 -> 16 -> 8 is exact and samples are scored at the size the model saw; else bilinear.
    """
    (height, width), (new_height, new_width) = images.shape[-2:], size
    if (new_height, new_width) == (height, width):
        return images
    if new_height % height == 0 and new_width % width == 0:
        return F.interpolate(images, size=size, mode="nearest")
    if height % new_height == 0 and width % new_width == 0:
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False)


def to_model_images(X: np.ndarray, image_shape: tuple[int, ...], image_size: int) -> np.ndarray:
    """Dataset rows [N, D] in [0, 1] -> [N, C*S*S] in [-1, 1] at S = ``image_size``."""
    images = torch.as_tensor(X).reshape(len(X), image_channels(image_shape), *image_shape[-2:])
    return (resize(images, (image_size, image_size)).clamp(0, 1) * 2 - 1).reshape(len(X), -1).numpy()


def to_dataset_images(images: torch.Tensor, image_shape: tuple[int, ...]) -> torch.Tensor:
    """Generated [N, C, S, S] in [-1, 1] -> [N, D] in [0, 1] at the dataset's own resolution."""
    pixels = resize((images.float() + 1) / 2, tuple(image_shape[-2:]))
    return pixels.clamp(0, 1).reshape(len(pixels), -1)


def to_display(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W] (one channel) or [N, C, H, W], light to store."""
    pixels = ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    return pixels[:, 0] if pixels.shape[1] == 1 else pixels
