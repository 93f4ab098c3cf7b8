"""Anomalies as what an autoencoder cannot rebuild: the reconstruction error of each row.

An autoencoder squeezed through a small bottleneck learns the regularities most rows share; a row
that breaks them (a rotated or inverted digit, noise, an impossible combination of values) comes
back wrong. Training is live: the scores, and their grading against planted anomalies, are
re-evaluated every ``eval_every`` steps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Adjustable
from unsup_core.algorithms.estimator_run import scaling_param
from unsup_core.algorithms.optimizers import adam
from unsup_core.algorithms.outliers import OutlierDetector
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.config import param
from unsup_core.datasets import Dataset

SCORE_CHUNK = 65_536  # rows per forward pass when scoring everything
MAX_GRADED_ROWS = 50_000  # the periodic grading uses a fixed sample beyond this; snapshots score every row
N_RECONSTRUCTIONS = 12


@dataclass
class AutoencoderOutlierConfig:
    bottleneck: int = param(8, low=1, high=256, help="Size of the code every row is squeezed through: smaller "
                                                     "keeps only what most rows share.")
    hidden_dim: int = param(128, low=8, high=2048, help="Units in the hidden layer on each side of the code.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    batch_size: int = param(128, low=8, high=4096, help="Rows per training step.")
    share: float = param(0.05, low=0.001, high=0.5, step=0.01,
                         help="Share of rows flagged as anomalies (those with the highest reconstruction error).")
    trimmed: bool = param(True, help="Train on each batch without its worst-rebuilt `share` of rows, so the "
                                     "model does not learn the anomalies too (a trimmed, robust loss).")
    eval_every: int = param(25, low=1, high=10_000, help="Steps between re-scoring every row.")
    scaling: str = scaling_param()


class Autoencoder(nn.Module):
    def __init__(self, n_features: int, hidden_dim: int, bottleneck: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, bottleneck))
        self.decoder = nn.Sequential(nn.Linear(bottleneck, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@register
class AutoencoderOutliers(OutlierDetector):
    name = "autoencoder_outliers"
    title = "Autoencoder anomaly scores"
    view_family = "trained_outliers"
    page_sections = ("threshold_explorer",)
    Config = AutoencoderOutlierConfig
    default_steps = 500
    adjustables = (Adjustable("lr", "learning_rate", "learning rate", optimizer="optimizer"),)
    summary = "Anomaly score = how badly an autoencoder rebuilds each row; trains live."
    explanation = r"""
An **autoencoder** maps each row $x$ through a narrow code $z = f(x)$ (`bottleneck` numbers) and
back, $\hat x = g(z)$, trained to minimise the mean squared error
$\frac{1}{D}\lVert x - \hat x\rVert^2$ over all rows. With a small code it can only keep what most
rows have in common, so the **anomaly score** of a row is its own reconstruction error: large for
rows unlike the rest. No labels are used; the anomalies are in the training data too, which is why
the code must stay small (a wide one learns to copy everything, anomalies included).

On data with planted anomalies the run grades its scores every `eval_every` steps:
`precision_at_k` (share of planted anomalies among the k top-scored rows, k = how many were
planted), `average_precision`, and `precision` / `recall` at the threshold.

With `trimmed` on (the default) each batch's worst-rebuilt `share` of rows is left out of the
loss: the planted anomalies are never learned. Turn it off on `digits_anomalies` and watch
`precision_at_k` fall as training goes on: the 18 inverted digits look alike, so the model learns
them as one more kind of digit (about 0.3 after 1,500 steps, against 1.0 trimmed).

**What to look for:** the loss falls and `precision_at_k` rises as the model learns what normal
rows look like (an untrained network already flags inverted digits, whose pixels are mostly ink,
but finds almost none of the rotated ones). The most anomalous rows, with their reconstructions,
show why each was flagged. The code is capped at one less than the number of features.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        torch.manual_seed(seed)
        features = self.prepare(data, seed)
        self.device = device
        self.features = torch.as_tensor(features, dtype=torch.float32, device=device)
        self.batches = BatchSampler(features, self.config.batch_size, device, seed)
        # A code as wide as the data could copy every row, anomalies included.
        self.code_size = min(self.config.bottleneck, max(1, data.n_features - 1))
        self.model = Autoencoder(data.n_features, self.config.hidden_dim, self.code_size).to(device)
        self.optimizer = adam(self.model.parameters(), lr=self.config.learning_rate)
        self.steps_done = 0
        self.scored_at = -1
        n = data.n_samples
        self.graded_rows = None if n <= MAX_GRADED_ROWS else \
            np.sort(np.random.default_rng(seed).choice(n, MAX_GRADED_ROWS, replace=False))

    def step(self) -> dict[str, float]:
        x = self.batches.next()
        errors = (self.model(x) - x).pow(2).mean(dim=1)
        if self.config.trimmed:
            # The anomalies are in the training data: leaving the batch's worst rows out of the loss
            # keeps the model from spending its small code on rebuilding them.
            errors = errors.topk(len(errors) - int(self.config.share * len(errors)), largest=False).values
        loss = errors.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps_done += 1
        values: dict = {"loss": loss.detach()}
        if self.steps_done % self.config.eval_every == 0:
            if self.graded_rows is None:
                values.update(self.score_metrics(self.reconstruction_errors()))
                self.scored_at = self.steps_done
            else:  # large data: grade a fixed sample so evaluation stays a small share of training
                values.update(self.sample_metrics(self.reconstruction_errors(self.graded_rows), self.graded_rows))
        return values

    @torch.no_grad()
    def reconstruction_errors(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Mean squared reconstruction error of every row (or of ``rows``), [N]."""
        features = self.features if rows is None else self.features[torch.as_tensor(rows, device=self.device)]
        errors = [(self.model(chunk) - chunk).pow(2).mean(dim=1) for chunk in features.split(SCORE_CHUNK)]
        return torch.cat(errors).cpu().numpy().astype(np.float64)

    def snapshot(self) -> dict[str, np.ndarray]:
        if self.scored_at != self.steps_done:
            self.score_metrics(self.reconstruction_errors())
            self.scored_at = self.steps_done
        shape = self.scores_snapshot()
        if self.data.kind == "images":
            with torch.no_grad():
                rebuilt = self.model(self.features[torch.as_tensor(shape.top_rows[:N_RECONSTRUCTIONS],
                                                                   device=self.device)])
            shape = dataclasses.replace(shape, top_reconstructions=rebuilt.clamp(0, 1).cpu().numpy().reshape(
                (-1, *self.data.image_shape)).astype(np.float16))
        return shape.as_arrays()

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "batches": self.batches.state_dict(), "steps_done": self.steps_done}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.steps_done = int(state["steps_done"])
