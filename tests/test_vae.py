import io

import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.vae import kl_per_dimension, negative_elbo, to_display
from unsup_core.datasets import load_dataset


def _vae(dataset="digits", **overrides):
    algorithm_cls = get_algorithm("vae")
    algorithm = algorithm_cls(algorithm_cls.build_config({"eval_every": 0, **overrides}))
    algorithm.setup(load_dataset(dataset) if isinstance(dataset, str) else dataset, device="cpu", seed=0)
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
    assert before["samples"].shape == (64, 8, 8) and before["samples"].dtype == np.uint8
    assert np.abs(after["samples"].astype(float) - before["samples"]).mean() > 0.01 * 255
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


def test_the_convolutional_vae_learns_too():
    vae = _vae(architecture="conv", latent_dim=8)
    losses = [float(vae.step()["loss"]) for _ in range(200)]
    assert np.mean(losses[-20:]) < 0.8 * np.mean(losses[:20])


def test_kl_per_dimension_adds_up_to_the_kl_term():
    mean, log_var = torch.randn(5, 3), torch.randn(5, 3)
    _, _, kl = negative_elbo(torch.rand(5, 4), torch.zeros(5, 4), mean, log_var, beta=1.0, likelihood="bernoulli")
    torch.testing.assert_close(kl_per_dimension(mean, log_var).sum(), kl)


def test_interpolations_start_and_end_at_the_decoded_codes_of_the_two_inputs():
    vae = _vae(latent_dim=4)
    for _ in range(20):
        vae.step()
    snapshot = vae.snapshot()
    inputs = torch.as_tensor(vae.data.X[vae.pair_rows.ravel()])
    with torch.no_grad():
        vae.model.eval()
        ends = to_display(torch.sigmoid(vae.model.decode(vae.model.encode(inputs)[0])), (8, 8)).reshape(4, 2, 8, 8)
    for mode in ("linear", "spherical"):
        paths = snapshot[f"interpolation_{mode}"]
        assert paths.shape == (4, 9, 8, 8)
        np.testing.assert_array_equal(paths[:, 0], ends[:, 0])
        np.testing.assert_array_equal(paths[:, -1], ends[:, 1])
    np.testing.assert_array_equal(snapshot["interpolation_inputs"].reshape(8, 64), (inputs * 255).round().numpy())


@pytest.mark.slow  # 20 s of training; run nightly with `python -m pytest -m slow`
def test_on_shapes_the_most_used_latent_dimensions_are_position_and_scale():
    shapes = load_dataset("shapes", n_samples=3000, image_size=16)
    vae = _vae(shapes, architecture="conv", beta=4.0, latent_dim=6, hidden_dim=128)
    for _ in range(400):
        vae.step()
    snapshot = vae.snapshot()
    with torch.no_grad():
        codes = vae.model.encode(torch.as_tensor(shapes.X))[0].numpy()

    def best_dim(factor):
        correlations = [abs(np.corrcoef(codes[:, j], shapes.factors[factor])[0, 1]) for j in range(codes.shape[1])]
        return int(np.argmax(correlations)), max(correlations)

    (x_dim, x_corr), (y_dim, y_corr), (scale_dim, scale_corr) = map(best_dim, ("x", "y", "scale"))
    assert x_corr > 0.8 and y_corr > 0.8 and scale_corr > 0.5
    assert len({x_dim, y_dim, scale_dim}) == 3  # one dimension each: the traversal rows separate them
    assert {x_dim, y_dim, scale_dim} <= set(snapshot["traversal_dims"][:4].tolist())
    assert snapshot["traversal"].shape == (6, 9, 16, 16)
