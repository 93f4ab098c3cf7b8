import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.gan import discriminator_loss, nonsaturating_generator_loss
from unsup_core.datasets import load_dataset


def _gan(**overrides):
    algorithm_cls = get_algorithm("gan")
    gan = algorithm_cls(algorithm_cls.build_config(overrides))
    gan.setup(load_dataset("ring8"), device="cpu", seed=0)
    return gan


def test_losses_are_the_papers_with_the_non_saturating_generator_loss():
    logits = torch.tensor([2.0, -1.0, 0.5])
    d = torch.sigmoid(logits)
    expected_d = -(torch.log(d).mean() + torch.log(1 - d.flip(0)).mean())
    torch.testing.assert_close(discriminator_loss(logits, logits.flip(0)), expected_d)
    torch.testing.assert_close(nonsaturating_generator_loss(logits), -torch.log(d))
    # At D = 1/2 everywhere: d_loss = 2 log 2, g_loss = log 2 (the equilibrium the explanation cites).
    zeros = torch.zeros(4)
    assert float(discriminator_loss(zeros, zeros)) == pytest.approx(2 * np.log(2))
    assert float(nonsaturating_generator_loss(zeros).mean()) == pytest.approx(np.log(2))


def test_the_generator_learns_to_land_on_the_ring8_modes():
    gan = _gan(eval_every=50)
    first = gan.step()
    assert first["modes_covered"] <= 2 and first["high_quality"] < 0.1
    scores = [values for values in (gan.step() for _ in range(999)) if "modes_covered" in values]
    # Coverage hops as the generator chases the discriminator: judge the best of the last evaluations.
    late = scores[len(scores) // 2:]
    assert max(s["modes_covered"] for s in late) >= 7
    assert max(s["high_quality"] for s in late) > 0.5


def test_the_gan_lab_snapshot_shows_the_plane_and_the_generators_push():
    gan = _gan(eval_every=0)
    for _ in range(100):
        gan.step()
    snapshot = gan.snapshot()
    assert snapshot["real"].shape == (1000, 2) and snapshot["generated"].shape == (1000, 2)
    assert snapshot["field"].shape == (len(snapshot["field_y"]), len(snapshot["field_x"]))
    assert 0 <= snapshot["field"].min() and snapshot["field"].max() <= 1  # D(x) is a probability
    assert snapshot["mode_centres"].shape == (8, 2) and snapshot["mode_covered"].shape == (8,)
    # The arrows point uphill on D: a small step along them raises D for (almost) every point.
    starts = torch.as_tensor(snapshot["arrows_from"])
    directions = torch.nn.functional.normalize(torch.as_tensor(snapshot["arrows"]), dim=1)
    with torch.no_grad():
        before = gan.discriminator(starts)
        after = gan.discriminator(starts + 1e-3 * directions)
    assert (after > before).float().mean() > 0.95

