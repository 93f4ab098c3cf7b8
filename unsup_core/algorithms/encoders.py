"""Small convolutional encoders sized to the image, shared by the self-supervised models."""

from __future__ import annotations

from torch import nn


class ConvEncoder(nn.Module):
    """images [B, C, H, W] -> features [B, feature_dim]; global average pooling at the end.

    Images of 16 pixels and more are downsampled twice (stride 2), smaller ones once, so 8x8
    digits and 28x28 shapes cost about the same.
    """

    def __init__(self, channels: int, image_size: int, feature_dim: int = 64) -> None:
        super().__init__()
        first_stride = 2 if image_size >= 16 else 1
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=first_stride, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, feature_dim, 3, padding=1), nn.BatchNorm2d(feature_dim), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )

    def forward(self, images):
        return self.net(images)
