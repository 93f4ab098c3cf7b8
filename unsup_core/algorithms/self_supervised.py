"""What the self-supervised models share: data on the device, a fixed probe split, probes, the embedding view.

A subclass builds its networks in :meth:`build` and does one optimisation step in :meth:`train_step`;
this class logs ``probe_accuracy`` (a linear probe on the frozen features of a held-out split, labels
used only by the probe) every ``probe_every`` steps next to ``raw_probe_accuracy`` (the same probe on
raw pixels, the baseline), and snapshots the held-out embedding.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from unsup_core.algorithms.base import Adjustable, Algorithm
from unsup_core.algorithms.optimizers import adam
from unsup_core.algorithms.probe import ProbeSplit, probe_accuracy
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.datasets import Dataset
from unsup_core.projection import PCAProjection
from unsup_core.snapshots import SelfSupervisedSnapshot

FEATURE_CHUNK = 512
MAX_EMBEDDING_POINTS = 1000


class SelfSupervisedAlgorithm(Algorithm):
    family = "self-supervised"
    accepts = ("images",)
    # Every subclass's Config has learning_rate; the one optimizer is built here.
    adjustables = (Adjustable("lr", "learning_rate", "learning rate", optimizer="optimizer"),)

    @abstractmethod
    def build(self, channels: int, image_size: int) -> list[torch.nn.Module]:
        """Create the networks (on CPU); return the ones the optimizer trains."""

    @abstractmethod
    def train_step(self, images: torch.Tensor) -> torch.Tensor:
        """One optimisation step on images [B, C, H, W]; returns the detached loss."""

    @abstractmethod
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Frozen features [B, F] for the probe and the embedding."""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.data = data
        self.device = device
        shape = data.image_shape if len(data.image_shape) == 3 else (1, *data.image_shape)
        self.image_shape = shape
        self.batches = BatchSampler(data.X, self.config.batch_size, device, seed)
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.modules = self.build(shape[0], max(shape[1:]))
        for module in self.modules:
            module.to(device)
        self.optimizer = adam([p for m in self.modules for p in m.parameters()],
                                          lr=self.config.learning_rate)
        self.steps_done = 0
        self.split = ProbeSplit.make(data.n_samples, 0.3, seed) if data.has_labels else None
        self.raw_probe = probe_accuracy(data.X, data.y, self.split) if self.split is not None else None
        rows = self.split.held_out if self.split is not None else np.arange(min(data.n_samples, MAX_EMBEDDING_POINTS))
        self.embedding_rows = rows[:MAX_EMBEDDING_POINTS]
        self.example_rows = self.embedding_rows[:8]

    def as_images(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.reshape((-1, *self.image_shape))

    def step(self) -> dict:
        for module in self.modules:
            module.train()
        loss = self.train_step(self.as_images(self.batches.next()))
        self.steps_done += 1
        values = {"loss": loss}
        if self.split is not None and (self.steps_done == 1 or self.steps_done % self.config.probe_every == 0):
            values["probe_accuracy"] = probe_accuracy(self.features(), self.data.y, self.split)
            values["raw_probe_accuracy"] = self.raw_probe
        return values

    @torch.no_grad()
    def features(self, rows: np.ndarray | None = None) -> np.ndarray:
        for module in self.modules:
            module.eval()
        source = self.data.X if rows is None else self.data.X[rows]
        chunks = [self.encode(self.as_images(torch.as_tensor(source[start:start + FEATURE_CHUNK], device=self.device)))
                  for start in range(0, len(source), FEATURE_CHUNK)]
        return torch.cat(chunks).cpu().numpy()

    def snapshot(self) -> dict[str, np.ndarray]:
        embedded = self.features(self.embedding_rows)
        return SelfSupervisedSnapshot(
            embedding=PCAProjection().fit(embedded).transform(embedded),
            embedding_labels=self.data.y[self.embedding_rows] if self.data.has_labels else None,
            label_names=np.array(self.data.label_names) if self.data.label_names else None,
            **self.example_views()).as_arrays()

    @abstractmethod
    def example_views(self) -> dict[str, np.ndarray]:
        """Images that show what the model is trained on, keyed by their :class:`SelfSupervisedSnapshot` field."""

    def state_dict(self) -> dict:
        return {"modules": [module.state_dict() for module in self.modules], "optimizer": self.optimizer.state_dict(),
                "batches": self.batches.state_dict(), "generator": self.generator.get_state(),
                "rng": torch.get_rng_state(), "steps_done": self.steps_done}

    def load_state_dict(self, state: dict) -> None:
        for module, module_state in zip(self.modules, state["modules"]):
            module.load_state_dict(module_state)
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["rng"])
        self.steps_done = int(state["steps_done"])
