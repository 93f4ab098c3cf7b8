import io

import numpy as np
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.vae import negative_elbo
from unsup_core.datasets import load_dataset


def _vae(**overrides):
    algorithm_cls = get_algorithm("vae")
    algorithm = algorithm_cls(algorithm_cls.build_config(overrides))
    algorithm.setup(load_dataset("digits"), device="cpu", seed=0)
    return algorithm


def test_vae_loss_falls_over_200_steps_on_digits():
    vae = _vae()
    losses = [float(vae.step()["loss"]) for _ in range(200)]
    assert np.mean(losses[-20:]) < 0.8 * np.mean(losses[:20])


def test_samples_from_fixed_noise_change_as_the_model_learns():
    vae = _vae()
    before = vae.snapshot()
    for _ in range(50):
        vae.step()
    after = vae.snapshot()
    assert before["samples"].shape == (64, 8, 8)
    assert np.abs(after["samples"] - before["samples"]).mean() > 0.01
    assert np.array_equal(after["recon_inputs"], before["recon_inputs"])  # fixed inputs
    assert after["latent"].shape == (1797, 2) and after["latent_labels"].shape == (1797,)


def test_kl_term_is_zero_for_the_prior_and_positive_otherwise():
    x = torch.rand(4, 6)
    decoded = torch.zeros(4, 6)
    zeros = torch.zeros(4, 2)
    _, _, kl = negative_elbo(x, decoded, zeros, zeros, beta=1.0, likelihood="bernoulli")
    assert float(kl) == 0.0
    _, _, kl = negative_elbo(x, decoded, torch.ones(4, 2), zeros, beta=1.0, likelihood="bernoulli")
    assert float(kl) == 1.0  # 1/2 * sum(mu^2) = 1/2 * 2 per sample
    loss, recon, kl = negative_elbo(x, decoded, torch.ones(4, 2), zeros, beta=3.0, likelihood="gaussian")
    assert torch.isclose(loss, recon + 3.0 * kl)


def test_resuming_from_state_continues_exactly():
    vae = _vae()
    for _ in range(10):
        vae.step()
    buffer = io.BytesIO()
    torch.save(vae.state_dict(), buffer)  # as a checkpoint does, before training goes on
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    expected = [float(vae.step()["loss"]) for _ in range(5)]
    resumed = _vae()
    resumed.load_state_dict(state)
    observed = [float(resumed.step()["loss"]) for _ in range(5)]
    assert observed == expected


def test_latent_map_is_projected_when_latent_dim_exceeds_two():
    vae = _vae(latent_dim=8)
    vae.step()
    snapshot = vae.snapshot()
    assert snapshot["latent"].shape == (1797, 2) and bool(snapshot["latent_is_projected"])
