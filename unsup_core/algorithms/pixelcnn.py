"""PixelCNN (van den Oord et al. 2016) on binarised greyscale images.

An autoregressive model: p(x) = prod_i p(x_i | x_1 .. x_{i-1}) in raster order (row by row, left
to right). Masked convolutions make the network's output at pixel i depend only on earlier pixels,
so one forward pass gives every conditional at once during training, and sampling draws the
pixels one at a time. The loss is the exact negative log-likelihood, reported in bits per pixel:
NLL / (D ln 2), with D pixels per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Adjustable, Algorithm
from unsup_core.algorithms.optimizers import adam
from unsup_core.algorithms.scoring import ScoreSchedule, image_quality_metrics
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.config import param
from unsup_core.datasets import Dataset, DatasetError
from unsup_core.sample_quality import split_rows
from unsup_core.snapshots import PixelCNNSnapshot

BINARY_THRESHOLD = 0.5
N_SAMPLES_SHOWN = 16
N_PREDICTIONS_SHOWN = 8
MAX_HELDOUT = 1000


class MaskedConv2d(nn.Conv2d):
    """A same-size convolution that sees only pixels above, or left in the same row.

    Mask type "A" (first layer) also hides the centre pixel, so no output sees its own input;
    type "B" (later layers) keeps the centre, which by then only carries information from before it.
    """

    def __init__(self, mask_type: str, in_channels: int, out_channels: int, kernel_size: int) -> None:
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        centre = kernel_size // 2
        mask = torch.ones_like(self.weight)  # [out, in, k, k]
        mask[:, :, centre, centre + (mask_type == "B"):] = 0
        mask[:, :, centre + 1:, :] = 0
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class ResidualMaskedBlock(nn.Module):
    def __init__(self, filters: int) -> None:
        super().__init__()
        self.conv = MaskedConv2d("B", filters, filters, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(F.relu(x))


class PixelCNNNetwork(nn.Module):
    """Binary images [B, 1, H, W] -> logits [B, 1, H, W] of p(x_i = 1 | pixels before i)."""

    def __init__(self, filters: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            MaskedConv2d("A", 1, filters, 7),
            *[ResidualMaskedBlock(filters) for _ in range(n_blocks)],
            nn.ReLU(), MaskedConv2d("B", filters, filters, 1), nn.ReLU(), MaskedConv2d("B", filters, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images)


def bits_per_dim(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Mean over images of -log2 p(x) / D, with p(x) = prod_i Bernoulli(x_i; sigmoid(logit_i))."""
    nats = F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(dim=1)
    return nats.mean() / (images[0].numel() * math.log(2))


@torch.no_grad()
def sample(network: nn.Module, uniforms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw images pixel by pixel: x_i = 1 if u_i < p(x_i = 1 | x_<i), with given uniforms [N, 1, H, W].

    Returns (images, the probabilities p(x_i = 1 | x_<i) used at each pixel), both [N, 1, H, W].
    Pixels of row r depend on rows <= r only, so each pass runs on the rows drawn so far.
    """
    images = torch.zeros_like(uniforms)
    probabilities = torch.zeros_like(uniforms)
    height, width = uniforms.shape[-2:]
    for row in range(height):
        for col in range(width):
            logits = network(images[:, :, :row + 1])[:, 0, row, col]
            probabilities[:, 0, row, col] = torch.sigmoid(logits)
            images[:, 0, row, col] = (uniforms[:, 0, row, col] < probabilities[:, 0, row, col]).float()
    return images, probabilities


@dataclass
class PixelCNNConfig:
    filters: int = param(64, low=8, high=256, step=8, help="Channels of every hidden layer.")
    n_blocks: int = param(4, low=1, high=16, step=1,
                          help="Residual blocks of masked 3x3 convolutions after the first 7x7 one; "
                               "each adds a row and a column to what a pixel can see.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    batch_size: int = param(64, low=8, high=4096, step=8, help="Images per gradient step.")
    eval_every: int = param(250, low=0, high=100_000, step=10,
                            help="Every this many steps: NLL on held-out images and classifier scores of "
                                 "samples drawn pixel by pixel (0 = never). Sampling costs one network pass "
                                 "per pixel, so on a CPU keep this large for 28x28 images.")


def binarise(X: np.ndarray) -> np.ndarray:
    return (X > BINARY_THRESHOLD).astype(np.float32)


@register
class PixelCNN(Algorithm):
    name = "pixelcnn"
    title = "PixelCNN"
    family = "generative"
    accepts = ("images",)
    view_family = "pixelcnn"
    Config = PixelCNNConfig
    default_steps = 2000
    adjustables = (Adjustable("lr", "learning_rate", "learning rate", optimizer="optimizer"),)
    summary = "PixelCNN: an autoregressive model that predicts each pixel from the ones before it."
    explanation = r"""
Images are **binarised** (pixel on if its value > 0.5) and read in raster order, row by row. The
model factorises the likelihood exactly:
$p(x) = \prod_{i=1}^{D} p(x_i \mid x_1, \dots, x_{i-1})$, each factor a Bernoulli whose probability
the network outputs at pixel $i$. **Masked convolutions** zero the kernel weights on the current
pixel (first layer, mask A) and on everything after it, so output $i$ cannot peek at $x_i$ or later
pixels, and one forward pass computes all $D$ conditionals in parallel. Training minimises the exact
negative log-likelihood, in **bits per dimension**:

$$
\text{nll\_bits\_per\_dim} = \frac{1}{D \ln 2}\,\Big(-\sum_{i=1}^{D} \big[x_i \log p_i + (1 - x_i)\log(1 - p_i)\big]\Big),
\qquad p_i = p(x_i = 1 \mid x_{<i}).
$$

1 bit/dim is a fair coin per pixel; good models of binarised digits reach far below that.

**What to look for.** Unlike a VAE or GAN there is no latent code, and the likelihood is exact, so
`heldout_bits_per_dim` (on images never trained on) is an honest measure: when it rises while the
training value falls, the model overfits. Sampling is slow: one network pass per pixel. Use the
**pixel-by-pixel** player below the live views to watch an image being drawn and the probability
the model gave each pixel. Samples are sharp (each pixel is a decision) but may lack global
coherence (strokes that wander): each pixel only sees a window above and to the left, and stacked
masked 3x3 convolutions leave a **blind spot** above-right of it (fixed by the gated PixelCNN).
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        if data.image_shape is not None and len(data.image_shape) == 3 and data.image_shape[0] != 1:
            raise DatasetError(f"pixelcnn models greyscale images; {data.name} has {data.image_shape[0]} channels")
        torch.manual_seed(seed)
        self.data = data
        self.device = device
        self.image_shape = (1, *data.image_shape[-2:])
        train_rows, heldout_rows = split_rows(data.n_samples)
        binary = binarise(data.X)
        self.batches = BatchSampler(binary[train_rows], self.config.batch_size, device, seed)
        self.heldout = torch.as_tensor(binary[heldout_rows[:MAX_HELDOUT]], device=device).view(-1, *self.image_shape)
        self.network = PixelCNNNetwork(self.config.filters, self.config.n_blocks).to(device)
        self.optimizer = adam(self.network.parameters(), lr=self.config.learning_rate)
        fixed = torch.Generator().manual_seed(seed + 1)
        # Fixed uniforms play the role of fixed noise: samples change only because the model learned.
        self.fixed_uniforms = torch.rand(N_SAMPLES_SHOWN, *self.image_shape, generator=fixed).to(device)
        shown = np.sort(torch.randperm(len(heldout_rows), generator=fixed)[:N_PREDICTIONS_SHOWN].numpy())
        self.shown_inputs = self.heldout[torch.as_tensor(shown, device=device) % len(self.heldout)]
        self.steps_done = 0
        self.scores = ScoreSchedule(self.config.eval_every, data, device)
        self.scoring_uniforms = torch.rand(self.scores.n_scored, *self.image_shape, generator=fixed).to(device)

    def train_step(self) -> torch.Tensor:
        """One Adam step on the next batch; returns the detached training NLL in bits per dimension."""
        images = self.batches.next().view(-1, *self.image_shape)
        loss = bits_per_dim(self.network(images), images)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def step(self) -> dict[str, torch.Tensor | float]:
        values: dict = {"nll_bits_per_dim": self.train_step()}
        self.steps_done += 1
        if self.scores.due(self.steps_done, self.planned_steps):
            with torch.no_grad():
                values["heldout_bits_per_dim"] = bits_per_dim(self.network(self.heldout), self.heldout)
            if self.scores.scorer() is not None:
                values.update(image_quality_metrics(self.scores, self.quality_samples()))
        return values

    def quality_samples(self) -> torch.Tensor:
        """Images drawn pixel by pixel from the fixed scoring uniforms, [n_scored, D] in {0, 1}."""
        return sample(self.network, self.scoring_uniforms)[0].flatten(1)

    def snapshot(self) -> dict[str, np.ndarray]:
        images, probabilities = sample(self.network, self.fixed_uniforms)
        with torch.no_grad():
            predictions = torch.sigmoid(self.network(self.shown_inputs))

        def as_uint8(values: torch.Tensor) -> np.ndarray:
            return (values[:, 0] * 255).round().to(torch.uint8).cpu().numpy()

        return PixelCNNSnapshot(
            samples=as_uint8(images), sample_probabilities=as_uint8(probabilities),
            inputs=as_uint8(self.shown_inputs), predictions=as_uint8(predictions),
            label_names=np.array(self.data.label_names) if self.data.label_names else None).as_arrays()

    def state_dict(self) -> dict:
        return {"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict(),
                "batches": self.batches.state_dict(), "fixed_uniforms": self.fixed_uniforms.cpu(),
                "scoring_uniforms": self.scoring_uniforms.cpu(), "shown_inputs": self.shown_inputs.cpu(),
                "steps_done": self.steps_done}

    def load_state_dict(self, state: dict) -> None:
        self.network.load_state_dict(state["network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.fixed_uniforms = state["fixed_uniforms"].to(self.device)
        self.scoring_uniforms = state["scoring_uniforms"].to(self.device)
        self.shown_inputs = state["shown_inputs"].to(self.device)
        self.steps_done = int(state["steps_done"])
