"""Encoder/decoder pairs for the VAE: both map x [B, D] -> (mu, log sigma^2) [B, latent] -> outputs [B, D]."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class ReparameterisedAutoencoder(nn.Module):
    """Shared forward pass: encode, draw z = mu + sigma * eps from ``generator``, decode."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(decoder outputs [B, D], mu, log sigma^2); eps comes from the run's own generator."""
        mean, log_var = self.encode(x)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return self.decode(mean + torch.exp(0.5 * log_var) * eps), mean, log_var


class MLPVAE(ReparameterisedAutoencoder):
    """Two hidden layers each way on flattened pixels."""

    def __init__(self, n_features: int, hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, hidden_dim), nn.ReLU())
        self.to_mean = nn.Linear(hidden_dim, latent_dim)
        self.to_log_var = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, n_features))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(x)
        return self.to_mean(hidden), self.to_log_var(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


class ConvVAE(ReparameterisedAutoencoder):
    """Two stride-2 4x4 convolutions each way around one hidden layer.

    Images [B, C, H, W] are zero-padded to multiples of 4 on the right and bottom (28 stays 28,
    8 stays 8, 30 becomes 32) and the decoder's output is cropped back, so any size works.
    """

    def __init__(self, image_shape: tuple[int, ...], hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.channels = 1 if len(image_shape) == 2 else image_shape[0]
        self.height, self.width = image_shape[-2:]
        self.padded = (4 * math.ceil(self.height / 4), 4 * math.ceil(self.width / 4))
        grid = (64, self.padded[0] // 4, self.padded[1] // 4)
        flat = math.prod(grid)
        self.encoder = nn.Sequential(
            nn.Conv2d(self.channels, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, hidden_dim), nn.ReLU())
        self.to_mean = nn.Linear(hidden_dim, latent_dim)
        self.to_log_var = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, flat), nn.ReLU(),
            nn.Unflatten(1, grid), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, self.channels, 4, 2, 1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = x.reshape(len(x), self.channels, self.height, self.width)
        images = F.pad(images, (0, self.padded[1] - self.width, 0, self.padded[0] - self.height))
        hidden = self.encoder(images)
        return self.to_mean(hidden), self.to_log_var(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        images = self.decoder(z)[:, :, :self.height, :self.width]
        return images.reshape(len(z), -1)
