import numpy as np
import pytest
import torch
from torch import nn

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.wgan_gp import gradient_penalty
from unsup_core.datasets import Dataset

SHIFT = 3.0


def shifted_gaussian(n=4000):
    """N((3, 0), I): its Wasserstein-1 distance to N(0, I) is exactly 3, the length of the shift."""
    points = np.random.default_rng(0).normal(size=(n, 2)) + [SHIFT, 0.0]
    return Dataset("shifted", "points2d", points)


def _wgan(data, **overrides):
    algorithm_cls = get_algorithm("wgan_gp")
    wgan = algorithm_cls(algorithm_cls.build_config({"eval_every": 0, **overrides}))
    wgan.setup(data, device="cpu", seed=0)
    return wgan


class LinearCritic(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = torch.as_tensor(weight, dtype=torch.float32)

    def forward(self, x):
        return x.flatten(1) @ self.weight


def test_gradient_penalty_is_zero_for_1_lipschitz_critics_and_grows_otherwise():
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 1, 4, 4, generator=generator), torch.randn(64, 1, 4, 4, generator=generator)
    mix = torch.rand(64, generator=generator)
    unit = torch.nn.functional.normalize(torch.randn(16, generator=generator), dim=0)
    assert float(gradient_penalty(LinearCritic(unit), real, fake, mix)) == pytest.approx(0.0, abs=1e-10)
    centre = torch.randn(1, 1, 4, 4, generator=generator)
    distance = lambda x: (x - centre).flatten(1).norm(dim=1)  # noqa: E731  (also 1-Lipschitz, curved)
    assert float(gradient_penalty(distance, real, fake, mix).detach()) == pytest.approx(0.0, abs=1e-8)
    assert float(gradient_penalty(LinearCritic(3 * unit), real, fake, mix)) == pytest.approx(4.0)  # (3 - 1)^2
    assert float(gradient_penalty(LinearCritic(0 * unit), real, fake, mix)) == pytest.approx(1.0)


def test_the_critic_estimates_the_wasserstein_distance():
    wgan = _wgan(shifted_gaussian(), latent_dim=2, learning_rate=1e-3, hidden_dim=64)
    wgan.generator = nn.Identity()  # generated samples are z ~ N(0, I), fixed: only the critic learns
    values = [wgan.step() for _ in range(300)]
    # The best critic is C(x) = a * x_1. The penalty is soft, so it maximises 3a - lambda (a - 1)^2:
    # a = 1 + 3 / (2 lambda), an estimate of 3a = 3.45 (slightly above W = 3) and a penalty of (a - 1)^2.
    slope = 1 + SHIFT / (2 * 10.0)
    estimate = np.mean([float(v["wasserstein"]) for v in values[-50:]])
    assert estimate == pytest.approx(SHIFT * slope, abs=0.25)
    assert np.mean([float(v["gradient_penalty"]) for v in values[-50:]]) == pytest.approx((slope - 1) ** 2, abs=0.03)


def test_the_generator_moves_its_samples_onto_the_data():
    wgan = _wgan(shifted_gaussian(), latent_dim=2, learning_rate=1e-3, hidden_dim=64)
    target = torch.tensor([SHIFT, 0.0])

    def distance() -> float:
        return float((wgan.generate(wgan.fixed_noise).mean(dim=0) - target).norm())

    start = distance()
    values, late = [], []
    for step in range(1, 301):
        values.append(wgan.step())
        if step > 200 and step % 25 == 0:
            late.append(distance())
    # The generator circles the data while the critic keeps re-fitting (its mean at any one step can
    # overshoot), so judge the samples over the last 100 steps, not at one instant.
    assert np.mean(late) < 0.6 * start
    late_estimate = np.mean([float(v["wasserstein"]) for v in values[-50:]])
    assert late_estimate < 0.5 * max(float(v["wasserstein"]) for v in values[:50])
