"""Variational autoencoder (Kingma & Welling 2014) with an MLP or a convolutional encoder and decoder.

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
from torch.nn import functional as F

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Adjustable, Algorithm
from unsup_core.algorithms.latent import INTERPOLATIONS, interpolation_paths, traversals
from unsup_core.algorithms.optimizers import adam
from unsup_core.algorithms.scoring import ScoreSchedule, image_quality_metrics
from unsup_core.algorithms.torch_data import BatchSampler
from unsup_core.algorithms.vae_networks import ConvVAE, MLPVAE
from unsup_core.config import param
from unsup_core.datasets import Dataset
from unsup_core.projection import PCAProjection
from unsup_core.snapshots import VAESnapshot

N_RECONSTRUCTIONS = 16
N_SAMPLES = 64
MAX_LATENT_POINTS = 2000
N_PAIRS = 4
N_PATH_STEPS = 9
MAX_TRAVERSED_DIMS = 8
TRAVERSAL_VALUES = np.linspace(-3, 3, 9)  # in prior standard deviations


@dataclass
class VAEConfig:
    latent_dim: int = param(2, low=1, high=128, step=1,
                            help="Size of z. 2 lets you see the latent space directly; 8-32 reconstructs better.")
    architecture: str = param("mlp", choices=("mlp", "conv"),
                              help="mlp: fully connected layers on flattened pixels. conv: two strided "
                                   "convolutions each way, which know that nearby pixels belong together.")
    hidden_dim: int = param(256, low=16, high=2048, step=16, help="Width of the encoder and decoder layers.")
    learning_rate: float = param(1e-3, low=1e-5, high=1e-1, log=True, help="Adam step size.")
    batch_size: int = param(128, low=8, high=4096, step=8, help="Samples per gradient step.")
    beta: float = param(1.0, low=0.0, high=100.0, step=0.1,
                        help="Weight of the KL term. Above 1: smoother, more disentangled latents, blurrier images.")
    likelihood: str = param("bernoulli", choices=("bernoulli", "gaussian"),
                            help="Decoder noise model: Bernoulli (binary cross-entropy) suits [0, 1] pixels; "
                                 "Gaussian uses a fixed std of 0.1 (squared error).")
    eval_every: int = param(1000, low=0, high=100_000, step=10,
                            help="Score samples from the prior with a classifier trained on the real images "
                                 "every this many steps (labelled datasets; 0 = never).")


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


def kl_per_dimension(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(q(z_j|x) || N(0, 1)) per latent dimension j, averaged over the batch: [latent_dim]."""
    return (-0.5 * (1 + log_var - mean**2 - log_var.exp())).mean(dim=0)


def to_display(pixels: torch.Tensor, image_shape: tuple[int, ...]) -> np.ndarray:
    """Pixels [..., D] in [0, 1] -> uint8 [..., *image_shape], light enough to keep every snapshot."""
    array = (pixels.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return array.reshape((*array.shape[:-1], *image_shape))


@register
class VAE(Algorithm):
    name = "vae"
    title = "Variational autoencoder (VAE)"
    family = "generative"
    accepts = ("images",)
    view_family = "vae"
    Config = VAEConfig
    default_steps = 2000
    adjustables = (Adjustable("lr", "learning_rate", "learning rate", optimizer="optimizer"),)
    summary = "Variational autoencoder: learns to compress images into a small latent space and sample new ones."
    explanation = r"""
An **encoder** maps an image $x$ to a Gaussian $q(z \mid x) = \mathcal{N}(\mu(x), \operatorname{diag}\sigma^2(x))$
over a small latent vector $z$; a **decoder** maps $z$ back to pixel probabilities $p(x \mid z)$.
Training maximises the evidence lower bound; we minimise its negative, per image:

$$
\mathcal{L} = \underbrace{\mathbb{E}_{q(z\mid x)}[-\log p(x \mid z)]}_{\text{recon}}
+ \beta\,\underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{kl}},
\qquad \mathrm{KL} = -\tfrac12 \sum_j \big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big).
$$

The expectation uses one sample $z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal{N}(0, I)$
(the reparameterisation trick), so gradients flow through $\mu$ and $\sigma$. With a Bernoulli
decoder the recon term is the binary cross-entropy summed over pixels. `architecture` picks fully
connected layers or convolutions; the loss is the same.

**What to look for:** recon falls fast, then KL rises as the encoder starts to use its latent code.
Samples come from the *same* noise vectors every time, so changes are the decoder learning. VAE
samples are **blurry** because the decoder predicts each pixel's mean given $z$, averaging over
everything $z$ does not pin down. If KL drops to ~0 (**posterior collapse**), every input gets the
same code and all samples look alike; the KL-per-dimension bars show which dimensions are in use
(the others sit at 0 and their traversal rows do not change). With `latent_dim` = 2 the latent map
is the space itself: digits of one class gather in one region. On `shapes` with `beta` around 4
and `latent_dim` 8, the **traversals** (one dimension swept from -3 to +3 with the others fixed)
tend to separate position, scale and shape. Interpolation between the codes of two real images
(shown at both ends) should morph one into the other.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.data = data
        self.device = device
        self.batches = BatchSampler(data.X, self.config.batch_size, device, seed)
        config = self.config
        if config.architecture == "conv":
            self.model = ConvVAE(data.image_shape, config.hidden_dim, config.latent_dim).to(device)
        else:
            self.model = MLPVAE(data.n_features, config.hidden_dim, config.latent_dim).to(device)
        self.optimizer = adam(self.model.parameters(), lr=config.learning_rate)
        self.noise = torch.Generator(device=device).manual_seed(seed + 2)  # the reparameterisation's eps
        fixed = torch.Generator().manual_seed(seed + 1)
        # Fixed noise and fixed inputs: successive snapshots differ only because the model learned.
        self.fixed_noise = torch.randn(N_SAMPLES, config.latent_dim, generator=fixed).to(device)
        n = data.n_samples
        self.recon_rows = torch.randperm(n, generator=fixed)[:N_RECONSTRUCTIONS].numpy()
        self.latent_rows = np.sort(torch.randperm(n, generator=fixed)[:MAX_LATENT_POINTS].numpy())
        self.pair_rows = torch.randperm(n, generator=fixed)[:2 * N_PAIRS].numpy().reshape(N_PAIRS, 2)
        self.steps_done = 0
        self.scores = ScoreSchedule(config.eval_every, data, device)
        self.scoring_noise = torch.randn(self.scores.n_scored, config.latent_dim, generator=fixed).to(device)

    def train_step(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One Adam step on the next batch [B, D]; returns the detached (loss, recon, kl)."""
        x = self.batches.next()
        decoded, mean, log_var = self.model(x, self.noise)
        loss, reconstruction, kl = negative_elbo(x, decoded, mean, log_var, self.config.beta,
                                                 self.config.likelihood)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach(), reconstruction.detach(), kl.detach()

    def step(self) -> dict[str, torch.Tensor | float]:
        loss, reconstruction, kl = self.train_step()
        self.steps_done += 1
        values: dict = {"loss": loss, "recon": reconstruction, "kl": kl}
        if self.scores.due(self.steps_done, self.planned_steps):
            values.update(image_quality_metrics(self.scores, self.quality_samples()))
        return values

    @torch.no_grad()
    def quality_samples(self) -> torch.Tensor:
        """Decoded means for the fixed scoring noise, [n_scored, D] in [0, 1]."""
        return self._pixels(self.model.decode(self.scoring_noise))

    def _pixels(self, decoded: torch.Tensor) -> torch.Tensor:
        """Decoder outputs [..., D] -> pixel means in [0, 1]."""
        return torch.sigmoid(decoded) if self.config.likelihood == "bernoulli" else decoded.clamp(0, 1)

    def _display(self, decoded: torch.Tensor) -> np.ndarray:
        return to_display(self._pixels(decoded), self.data.image_shape)

    def _inputs(self, rows: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self.data.X[rows], device=self.device)

    @torch.no_grad()
    def snapshot(self) -> dict[str, np.ndarray]:
        self.model.eval()
        decode, encode = self.model.decode, self.model.encode
        shape = self.data.image_shape
        arrays = {
            "recon_inputs": to_display(self._inputs(self.recon_rows), shape),
            "recon_outputs": self._display(decode(encode(self._inputs(self.recon_rows))[0])),
            "samples": self._display(decode(self.fixed_noise)),
        }
        latent_mean, latent_log_var = encode(self._inputs(self.latent_rows))
        kl = kl_per_dimension(latent_mean, latent_log_var)
        arrays["kl_per_dim"] = kl.cpu().numpy()
        # Traverse the dimensions the encoder uses most (largest KL), from the first pair's code.
        dims = torch.argsort(kl, descending=True)[:MAX_TRAVERSED_DIMS].tolist()
        pair_codes = encode(self._inputs(self.pair_rows.ravel()))[0].reshape(N_PAIRS, 2, -1)
        values = torch.as_tensor(TRAVERSAL_VALUES, dtype=torch.float32, device=self.device)
        codes = traversals(pair_codes[0, 0], dims, values)
        arrays["traversal"] = self._display(decode(codes.reshape(-1, codes.shape[-1]))).reshape(
            len(dims), len(values), *shape)
        arrays["traversal_dims"] = np.array(dims)
        arrays["traversal_values"] = TRAVERSAL_VALUES.astype(np.float32)
        arrays["interpolation_inputs"] = to_display(self._inputs(self.pair_rows.ravel()), shape).reshape(
            N_PAIRS, 2, *shape)
        for mode in INTERPOLATIONS:
            paths = interpolation_paths(pair_codes[:, 0], pair_codes[:, 1], N_PATH_STEPS, mode)
            arrays[f"interpolation_{mode}"] = self._display(decode(paths.reshape(-1, paths.shape[-1]))).reshape(
                N_PAIRS, N_PATH_STEPS, *shape)
        latent = latent_mean.cpu().numpy()
        projected = latent.shape[1] > 2
        if projected:
            latent = PCAProjection().fit(latent).transform(latent)
        self.model.train()
        return VAESnapshot(
            **arrays, latent=latent.astype(np.float32), latent_is_projected=np.array(projected),
            latent_labels=self.data.y[self.latent_rows] if self.data.has_labels else None,
            label_names=np.array(self.data.label_names) if self.data.label_names else None).as_arrays()

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "batches": self.batches.state_dict(), "noise": self.noise.get_state(),
                "fixed_noise": self.fixed_noise.cpu(), "scoring_noise": self.scoring_noise.cpu(),
                "shown_rows": {name: torch.as_tensor(getattr(self, name))
                               for name in ("recon_rows", "latent_rows", "pair_rows")},
                "steps_done": self.steps_done}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.noise.set_state(state["noise"])
        self.fixed_noise = state["fixed_noise"].to(self.device)
        self.scoring_noise = state["scoring_noise"].to(self.device)
        for name, rows in state["shown_rows"].items():
            setattr(self, name, rows.numpy())
        self.steps_done = int(state["steps_done"])
