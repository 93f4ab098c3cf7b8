"""Variational autoencoder (Kingma & Welling 2014) with MLP encoder and decoder.

Training maximises the evidence lower bound; we minimise its negative per sample,

    loss = E_q(z|x)[-log p(x|z)] + beta * KL(q(z|x) || N(0, I)),
    KL   = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2),

with one reparameterised sample z = mu + sigma * eps. beta = 1 is the plain VAE; beta > 1 trades
reconstruction for a more factorised latent space (Higgins et al. 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.config import param
from unsup_core.datasets import Dataset
from unsup_core.projection import PCAProjection

N_RECONSTRUCTIONS = 16
N_SAMPLES = 64
MAX_LATENT_POINTS = 2000


@dataclass
class VAEConfig:
    latent_dim: int = param(2, low=1, high=128, step=1,
                            help="Size of z. 2 lets you see the latent space directly; 8-32 reconstructs better.")
    hidden_dim: int = param(256, low=16, high=2048, step=16, help="Width of the encoder and decoder layers.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    batch_size: int = param(128, low=8, high=4096, step=8, help="Samples per gradient step.")
    beta: float = param(1.0, low=0.0, high=100.0, step=0.1,
                        help="Weight of the KL term. Above 1: smoother, more disentangled latents, blurrier images.")
    likelihood: str = param("bernoulli", choices=("bernoulli", "gaussian"),
                            help="Decoder noise model: Bernoulli (binary cross-entropy) suits [0, 1] pixels; "
                                 "Gaussian uses a fixed std of 0.1 (squared error).")


class MLPVAE(nn.Module):
    """Encoder x [B, D] -> (mu, log sigma^2) [B, latent]; decoder z -> logits or means [B, D]."""

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

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_var = self.encode(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        return self.decode(z), mean, log_var


GAUSSIAN_STD = 0.1


def negative_elbo(x: torch.Tensor, decoded: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor,
                  beta: float, likelihood: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, reconstruction NLL, KL), each summed over dimensions and averaged over the batch.

    The Gaussian NLL drops its constant D*log(sigma*sqrt(2*pi)), which does not affect gradients.
    """
    batch = x.shape[0]
    if likelihood == "bernoulli":
        reconstruction = F.binary_cross_entropy_with_logits(decoded, x, reduction="sum") / batch
    else:
        reconstruction = 0.5 * ((x - decoded) ** 2).sum() / (GAUSSIAN_STD**2 * batch)
    kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum() / batch
    return reconstruction + beta * kl, reconstruction, kl


@register
class VAE(Algorithm):
    name = "vae"
    family = "generative"
    accepts = ("images",)
    Config = VAEConfig
    default_steps = 2000
    summary = "Variational autoencoder: learns to compress images into a small latent space and sample new ones."
    explanation = r"""
An **encoder** maps an image $x$ to a Gaussian $q(z \mid x) = \mathcal{N}(\mu(x), \operatorname{diag}\sigma^2(x))$
over a small latent vector $z$; a **decoder** maps $z$ back to pixel probabilities $p(x \mid z)$.
Training maximises the evidence lower bound; we minimise its negative, per image:

$$\mathcal{L} = \underbrace{\mathbb{E}_{q(z\mid x)}[-\log p(x \mid z)]}_{\text{recon}}
+ \beta\,\underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{kl}},
\qquad \mathrm{KL} = -\tfrac12 \sum_j \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).$$

The expectation uses one sample $z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal{N}(0, I)$
(the reparameterisation trick), so gradients flow through $\mu$ and $\sigma$. With a Bernoulli
decoder the recon term is the binary cross-entropy summed over pixels.

**What to look for:** recon falls fast, then KL rises as the encoder starts to use its latent code.
Samples come from the *same* noise vectors every time, so changes are the decoder learning. VAE
samples are blurry because the decoder predicts pixel means. If KL drops to ~0 (**posterior
collapse**, try a large `beta`), every input gets the same code and all samples look alike. With
`latent_dim` = 2 the latent map is the space itself: digits of one class gather in one region.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.data = data
        self.device = device
        self.batches = BatchSampler(data.X, self.config.batch_size, device, seed)
        self.model = MLPVAE(data.n_features, self.config.hidden_dim, self.config.latent_dim).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.learning_rate)
        fixed = torch.Generator().manual_seed(seed + 1)
        # Fixed noise and fixed inputs: successive snapshots differ only because the model learned.
        self.fixed_noise = torch.randn(N_SAMPLES, self.config.latent_dim, generator=fixed).to(device)
        n = data.n_samples
        self.recon_rows = torch.randperm(n, generator=fixed)[:N_RECONSTRUCTIONS].numpy()
        self.latent_rows = np.sort(torch.randperm(n, generator=fixed)[:MAX_LATENT_POINTS].numpy())

    def train_step(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One Adam step on batch ``x`` [B, D]; returns the detached (loss, recon, kl)."""
        decoded, mean, log_var = self.model(x)
        loss, reconstruction, kl = negative_elbo(x, decoded, mean, log_var, self.config.beta,
                                                 self.config.likelihood)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach(), reconstruction.detach(), kl.detach()

    def step(self) -> dict[str, torch.Tensor]:
        loss, reconstruction, kl = self.train_step(self.batches.next())
        return {"loss": loss, "recon": reconstruction, "kl": kl}

    def _to_pixels(self, decoded: torch.Tensor) -> np.ndarray:
        pixels = torch.sigmoid(decoded) if self.config.likelihood == "bernoulli" else decoded.clamp(0, 1)
        return pixels.cpu().numpy().reshape((-1, *self.data.image_shape))

    @torch.no_grad()
    def snapshot(self) -> dict[str, np.ndarray]:
        self.model.eval()
        inputs = torch.as_tensor(self.data.X[self.recon_rows], device=self.device)
        reconstructions = self.model.decode(self.model.encode(inputs)[0])
        samples = self.model.decode(self.fixed_noise)
        latent_inputs = torch.as_tensor(self.data.X[self.latent_rows], device=self.device)
        latent = self.model.encode(latent_inputs)[0].cpu().numpy()
        projected = latent.shape[1] > 2
        if projected:
            latent = PCAProjection().fit(latent).transform(latent)
        self.model.train()
        arrays = {
            "recon_inputs": self.data.images(self.recon_rows),
            "recon_outputs": self._to_pixels(reconstructions),
            "samples": self._to_pixels(samples),
            "latent": latent.astype(np.float32),
            "latent_is_projected": np.array(projected),
        }
        if self.data.has_labels:
            arrays["latent_labels"] = self.data.y[self.latent_rows]
        if self.data.label_names:
            arrays["label_names"] = np.array(self.data.label_names)
        return arrays

    def state_dict(self) -> dict:
        # The global RNG drives the reparameterisation noise: keep it so a resume is exact.
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "batches": self.batches.state_dict(), "rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["rng"])
