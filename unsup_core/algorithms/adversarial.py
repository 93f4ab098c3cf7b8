"""What every GAN here shares: data on the device, its own noise stream, fixed noise for the pictures,
periodic scoring, the snapshot the live views draw, and a state complete enough to resume exactly.

A subclass builds the two networks and their optimizers and writes :meth:`train_step` (one update
of the discriminator or critic, then of the generator); :meth:`step` adds scoring every
``eval_every`` steps: mode coverage on labelled 2-D blobs, classifier-based quality on images.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch
from torch import nn

from unsup_core.algorithms.base import Adjustable, Algorithm
from unsup_core.algorithms.gan_networks import image_channels, to_dataset_images, to_display, to_model_images
from unsup_core.algorithms.latent import INTERPOLATIONS, interpolation_paths
from unsup_core.algorithms.scoring import ScoreSchedule, image_quality_metrics
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.datasets import Dataset
from unsup_core.generative_metrics import find_modes, mode_coverage
from unsup_core.snapshots import AdversarialSnapshot

N_IMAGES_SHOWN = 64
N_POINTS_SHOWN = 1000
N_PAIRS = 4
N_PATH_STEPS = 9
N_ARROWS = 150
FIELD_RESOLUTION = 60


def field_axes(points: np.ndarray, resolution: int = FIELD_RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """x and y coordinates [resolution] of a square grid around the data with a 25% margin."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre, half = (low + high) / 2, 0.625 * (high - low).max()
    return tuple(np.linspace(c - half, c + half, resolution, dtype=np.float32) for c in centre)


class AdversarialAlgorithm(Algorithm):
    """Base of the GANs. ``config`` needs latent_dim, batch_size, eval_every, learning_rate (and
    image_size for images)."""

    family = "generative"
    # Each network's step size changes on its own, bounded by the Config's learning_rate range.
    adjustables = (
        Adjustable("lr_generator", "learning_rate", "generator learning rate", optimizer="generator_optimizer"),
        Adjustable("lr_discriminator", "learning_rate", "discriminator learning rate",
                   optimizer="discriminator_optimizer"),
    )

    @abstractmethod
    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) for ``self.data.kind``; the generator maps [B, latent_dim] to samples."""

    @abstractmethod
    def build_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(generator optimizer, discriminator optimizer)."""

    @abstractmethod
    def train_step(self) -> dict[str, torch.Tensor]:
        """One update of both networks on fresh batches; returns detached losses."""

    @abstractmethod
    def field_values(self, scores: torch.Tensor) -> torch.Tensor:
        """What the heatmap shows for discriminator outputs ``scores`` [N]."""

    @abstractmethod
    def generator_loss(self, scores: torch.Tensor) -> torch.Tensor:
        """The generator's loss per sample [N] given the discriminator's ``scores`` on its samples."""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.data = data
        self.device = device
        self.is_images = data.kind == "images"
        if self.is_images:
            size = self.config.image_size
            self.sample_shape = (image_channels(data.image_shape), size, size)
            rows = to_model_images(data.X, data.image_shape, size)
        else:
            self.sample_shape = (data.n_features,)
            rows = data.X
        self.batches = BatchSampler(rows, self.config.batch_size, device, seed)
        generator, discriminator = self.build_networks()
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.generator_optimizer, self.discriminator_optimizer = self.build_optimizers()
        self.noise = torch.Generator(device=device).manual_seed(seed + 2)  # z and any other training noise
        fixed = torch.Generator().manual_seed(seed + 1)
        latent_dim = self.config.latent_dim
        # Fixed noise: successive pictures differ only because the generator learned.
        n_shown = N_IMAGES_SHOWN if self.is_images else N_POINTS_SHOWN
        self.fixed_noise = torch.randn(n_shown, latent_dim, generator=fixed).to(device)
        self.pair_noise = torch.randn(N_PAIRS, 2, latent_dim, generator=fixed).to(device)
        self.steps_done = 0
        self.scores = ScoreSchedule(self.config.eval_every, data, device)
        self.scoring_noise = torch.randn(self.scores.n_scored, latent_dim, generator=fixed).to(device)
        self.modes = None if self.is_images else find_modes(data.X, data.y)
        if not self.is_images:
            self.shown_rows = np.sort(torch.randperm(data.n_samples, generator=fixed)[:N_POINTS_SHOWN].numpy())
            self.field_x, self.field_y = field_axes(data.X)

    def real_batch(self) -> torch.Tensor:
        """The next real minibatch, [B, 2] points or [B, C, S, S] images in [-1, 1]."""
        return self.batches.next().view(-1, *self.sample_shape)

    def sample_noise(self, n: int) -> torch.Tensor:
        """z ~ N(0, I), [n, latent_dim], from the run's own generator (part of the checkpoint)."""
        return torch.randn(n, self.config.latent_dim, generator=self.noise, device=self.device)

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Samples for z [N, latent_dim], batch-norm in inference mode (no state changes)."""
        self.generator.eval()
        samples = self.generator(z)
        self.generator.train()
        return samples

    def step(self) -> dict[str, torch.Tensor | float]:
        values: dict = self.train_step()
        self.steps_done += 1
        if self.scores.due(self.steps_done, self.planned_steps):
            values.update(self.evaluate())
        return values

    def quality_samples(self) -> torch.Tensor:
        """Images from the fixed scoring noise, [n_scored, D] in [0, 1] at the dataset's resolution."""
        return to_dataset_images(self.generate(self.scoring_noise), self.data.image_shape)

    def evaluate(self) -> dict[str, float]:
        """Mode coverage (2-D blobs) or classifier-based quality (labelled images) of fixed samples."""
        if self.scores.scorer() is not None:
            return image_quality_metrics(self.scores, self.quality_samples())
        if self.modes is not None:
            covered, high_quality = mode_coverage(self.modes, self.generate(self.fixed_noise).cpu().numpy())
            return {"modes_covered": float(covered.sum()), "high_quality": high_quality}
        return {}

    def snapshot(self) -> dict[str, np.ndarray]:
        label_names = np.array(self.data.label_names) if self.data.label_names else None
        snapshot = self._image_snapshot if self.is_images else self._points_snapshot
        return snapshot(label_names).as_arrays()

    def _image_snapshot(self, label_names: np.ndarray | None) -> AdversarialSnapshot:
        samples = to_display(self.generate(self.fixed_noise))
        paths = {}
        for mode in INTERPOLATIONS:
            codes = interpolation_paths(self.pair_noise[:, 0], self.pair_noise[:, 1], N_PATH_STEPS, mode)
            images = to_display(self.generate(codes.reshape(-1, self.config.latent_dim)))
            paths[f"interpolation_{mode}"] = images.reshape(N_PAIRS, N_PATH_STEPS, *images.shape[1:])
        return AdversarialSnapshot(samples=samples, label_names=label_names, **paths)

    def _points_snapshot(self, label_names: np.ndarray | None) -> AdversarialSnapshot:
        generated = self.generate(self.fixed_noise)
        grid_x, grid_y = np.meshgrid(self.field_x, self.field_y)
        grid = torch.as_tensor(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), device=self.device)
        # Where the generator's loss pushes its samples: minus its gradient with respect to them.
        arrows_from = generated[:N_ARROWS].clone().requires_grad_(True)
        with torch.enable_grad():
            loss = self.generator_loss(self.discriminator(arrows_from)).sum()
            (gradient,) = torch.autograd.grad(loss, arrows_from)
        with torch.no_grad():
            field = self.field_values(self.discriminator(grid)).reshape(len(self.field_y), len(self.field_x))
        points = generated.cpu().numpy()
        modes = {}
        if self.modes is not None:
            covered, _ = mode_coverage(self.modes, points)
            modes = {"mode_centres": self.modes.centres, "mode_radii": self.modes.radii, "mode_covered": covered}
        return AdversarialSnapshot(
            real=self.data.X[self.shown_rows], generated=points,
            field_x=self.field_x, field_y=self.field_y, field=field.cpu().numpy(),
            arrows_from=arrows_from.detach().cpu().numpy(), arrows=(-gradient).cpu().numpy(),
            real_labels=self.data.y[self.shown_rows] if self.data.has_labels else None,
            label_names=label_names, **modes)

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "generator_optimizer": self.generator_optimizer.state_dict(),
            "discriminator_optimizer": self.discriminator_optimizer.state_dict(),
            "batches": self.batches.state_dict(), "noise": self.noise.get_state(),
            "fixed_noise": self.fixed_noise.cpu(), "pair_noise": self.pair_noise.cpu(),
            "scoring_noise": self.scoring_noise.cpu(), "steps_done": self.steps_done,
            **({} if self.is_images else {"shown_rows": torch.as_tensor(self.shown_rows)}),
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator_optimizer.load_state_dict(state["generator_optimizer"])
        self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.noise.set_state(state["noise"])
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.pair_noise = state["pair_noise"].to(self.device)
        self.scoring_noise = state["scoring_noise"].to(self.device)
        self.steps_done = int(state["steps_done"])
        if not self.is_images:
            self.shown_rows = state["shown_rows"].numpy()
