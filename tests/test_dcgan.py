import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.gan_networks import (conv_discriminator, conv_generator, dcgan_init, to_dataset_images,
                                                to_model_images)
from unsup_core.datasets import load_dataset


@pytest.mark.parametrize("size", [16, 32])
def test_generator_and_discriminator_shapes(size):
    generator = conv_generator(latent_dim=10, channels=1, image_size=size, base_channels=8)
    images = generator(torch.randn(5, 10))
    assert images.shape == (5, 1, size, size) and images.abs().max() <= 1  # tanh output
    for norm in ("batch", "layer"):
        assert conv_discriminator(1, size, 8, norm)(images).shape == (5,)


def test_dcgan_initialisation():
    generator = conv_generator(64, 1, 32, 32)
    generator.apply(dcgan_init)
    weights = torch.cat([m.weight.flatten() for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert weights.mean().abs() < 0.002 and abs(weights.std() - 0.02) < 0.002
    scales = torch.cat([m.weight for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(scales.mean() - 1) < 0.01 and abs(scales.std() - 0.02) < 0.01


@pytest.mark.parametrize("size", [16, 32])
def test_digits_are_upsampled_for_the_model_and_scored_back_at_8x8_exactly(size):
    digits = load_dataset("digits")
    model_images = to_model_images(digits.X[:50], digits.image_shape, size)
    assert model_images.shape == (50, size * size) and model_images.min() >= -1 and model_images.max() <= 1
    back = to_dataset_images(torch.as_tensor(model_images).view(50, 1, size, size), digits.image_shape).numpy()
    np.testing.assert_allclose(back, digits.X[:50], atol=1e-6)


def test_other_sizes_are_resized_smoothly():
    shapes = load_dataset("shapes", n_samples=20)
    model_images = to_model_images(shapes.X, shapes.image_shape, 32)
    back = to_dataset_images(torch.as_tensor(model_images).view(20, 1, 32, 32), shapes.image_shape).numpy()
    assert back.shape == shapes.X.shape and np.abs(back - shapes.X).mean() < 0.05


@pytest.mark.slow  # trains the scoring classifier and the DCGAN (25 s)
def test_dcgan_samples_approach_the_real_digits(scoring_enabled):
    algorithm_cls = get_algorithm("dcgan")
    dcgan = algorithm_cls(algorithm_cls.build_config({"eval_every": 300}))
    dcgan.setup(load_dataset("digits"), device="cpu", seed=0)
    assert dcgan.scores.loader.wait(60) is not None  # the session's cached classifier
    before_grid = dcgan.snapshot()["samples"]
    first = dcgan.step()
    for _ in range(299):
        last = dcgan.step()
    assert last["score_fid"] < 0.25 * first["score_fid"]
    assert last["score_is"] > first["score_is"] + 3 and last["score_classes"] >= 8
    after_grid = dcgan.snapshot()["samples"]
    assert after_grid.shape == (64, 16, 16) and after_grid.dtype == np.uint8
    assert np.abs(after_grid.astype(float) - before_grid).mean() > 10  # the fixed-noise grid changed
