import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.pixelcnn import MaskedConv2d, PixelCNNNetwork, bits_per_dim, sample
from unsup_core.datasets import Dataset, DatasetError, load_dataset


@pytest.mark.parametrize("kernel_size", [1, 3, 7])
def test_masks_hide_the_centre_pixel_in_a_and_everything_after_it_in_both(kernel_size):
    centre = kernel_size // 2
    for mask_type in ("A", "B"):
        mask = MaskedConv2d(mask_type, 2, 3, kernel_size).mask
        assert mask.shape == (3, 2, kernel_size, kernel_size)
        for row in range(kernel_size):
            for col in range(kernel_size):
                before_centre = row < centre or (row == centre and col < centre)
                at_centre = (row, col) == (centre, centre)
                expected = before_centre or (at_centre and mask_type == "B")
                assert torch.all(mask[:, :, row, col] == float(expected)), (mask_type, row, col)


def test_no_output_pixel_sees_itself_or_any_later_pixel():
    torch.manual_seed(0)
    network = PixelCNNNetwork(filters=16, n_blocks=3)
    height = width = 8
    image = (torch.rand(1, 1, height, width) > 0.5).float().requires_grad_(True)
    logits = network(image)
    for index in range(height * width):
        row, col = divmod(index, width)
        (gradient,) = torch.autograd.grad(logits[0, 0, row, col], image, retain_graph=True)
        seen = gradient[0, 0].flatten() != 0
        assert not seen[index:].any(), f"pixel {index} depends on pixel {int(seen[index:].nonzero()[0]) + index}"
        if index > 0:
            assert seen[index - 1] or (col == 0 and seen[index - width])  # it does use its neighbour


def test_sampling_draws_each_pixel_from_the_conditional_given_the_pixels_before_it():
    torch.manual_seed(0)
    network = PixelCNNNetwork(filters=16, n_blocks=2)
    uniforms = torch.rand(5, 1, 6, 6)
    images, probabilities = sample(network, uniforms)
    assert set(images.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(images, (uniforms < probabilities).float())
    # One pass on the finished images gives the same conditionals: each depends only on earlier pixels.
    with torch.no_grad():
        torch.testing.assert_close(torch.sigmoid(network(images)), probabilities)


def test_bits_per_dim_is_one_for_a_coin_flip_model():
    images = (torch.rand(4, 1, 5, 5) > 0.5).float()
    assert float(bits_per_dim(torch.zeros_like(images), images)) == pytest.approx(1.0)


def test_pixelcnn_learns_digits(scoring_enabled):
    algorithm_cls = get_algorithm("pixelcnn")
    model = algorithm_cls(algorithm_cls.build_config({"filters": 32, "n_blocks": 2, "eval_every": 100}))
    model.setup(load_dataset("digits"), device="cpu", seed=0)
    first = model.step()
    values = [model.step() for _ in range(99)]
    assert first["heldout_bits_per_dim"] > 0.8  # close to a coin flip before training
    assert float(values[-1]["heldout_bits_per_dim"]) < 0.6 * float(first["heldout_bits_per_dim"])
    assert np.mean([float(v["nll_bits_per_dim"]) for v in values[-10:]]) < 0.6
    if "score_is" in values[-1]:  # the classifier loads in the background: scored once it is ready
        assert values[-1]["score_classes"] >= 5
    snapshot = model.snapshot()
    assert snapshot["samples"].shape == (16, 8, 8) and set(np.unique(snapshot["samples"])) <= {0, 255}


def test_colour_images_are_refused_with_a_clear_message():
    colour = Dataset("colour", "images", np.zeros((10, 3 * 4 * 4)), image_shape=(3, 4, 4))
    algorithm_cls = get_algorithm("pixelcnn")
    with pytest.raises(DatasetError, match="greyscale"):
        algorithm_cls(algorithm_cls.build_config({"eval_every": 0})).setup(colour)
