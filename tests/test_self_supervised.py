import io

import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.augment import AugmentSettings, random_affine
from unsup_core.algorithms.contrastive import nt_xent
from unsup_core.algorithms.masked_reconstruction import patch_mask
from unsup_core.datasets import load_dataset

SHAPES = {"n_samples": 1500, "image_size": 16}


def _model(name, dataset="shapes", options=SHAPES, **overrides):
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config(overrides))
    algorithm.setup(load_dataset(dataset, **options), seed=0)
    return algorithm


def test_contrastive_features_beat_the_raw_pixel_probe_where_augmentations_matter():
    # On shapes the class does not depend on position or rotation; raw pixels do.
    simclr = _model("simclr", batch_size=128, probe_every=200)
    first = simclr.step()
    for _ in range(199):
        last = simclr.step()
    print(f"probe: raw pixels {simclr.raw_probe:.3f}, step 1 {first['probe_accuracy']:.3f}, "
          f"step 200 {last['probe_accuracy']:.3f}")  # measured here: about 0.53, 0.57, 0.64
    assert float(last["loss"]) < float(first["loss"])
    assert last["probe_accuracy"] > first["probe_accuracy"]  # learning happened
    assert last["probe_accuracy"] > simclr.raw_probe + 0.05


def test_nt_xent_is_low_when_twins_agree_and_log_of_negatives_when_nothing_is_learned():
    z = torch.randn(8, 4)
    assert float(nt_xent(z, z, temperature=0.05)) < 0.1
    same = torch.ones(8, 4)  # every view identical: the positive is one of 15 equal candidates
    assert float(nt_xent(same, same, temperature=0.5)) == pytest.approx(np.log(15), rel=1e-5)


def test_augmentations_keep_shape_and_range_and_vary_between_views():
    images = torch.rand(6, 1, 16, 16)
    generator = torch.Generator().manual_seed(0)
    first, second = (random_affine(images, AugmentSettings(), generator) for _ in range(2))
    assert first.shape == images.shape and 0 <= first.min() and first.max() <= 1
    assert not torch.allclose(first, second)
    still = random_affine(images, AugmentSettings(0.0, 0.0, (1.0, 1.0), 0.0), generator)
    assert torch.allclose(still, images, atol=1e-5)  # no augmentation: the identity


def test_patch_masks_hide_whole_patches_at_the_requested_ratio():
    mask = patch_mask(64, 8, 8, patch=2, ratio=0.5, generator=torch.Generator().manual_seed(0))
    assert mask.shape == (64, 1, 8, 8)
    blocks = mask.reshape(64, 1, 4, 2, 4, 2)
    assert torch.equal(blocks.amax(dim=(3, 5)), blocks.amin(dim=(3, 5)))  # constant inside each patch
    assert 0.4 < float(mask.mean()) < 0.6


def test_masked_reconstruction_learns_to_fill_in_digits():
    model = _model("masked_reconstruction", "digits", {}, batch_size=128, probe_every=1000)
    losses = [float(model.step()["loss"]) for _ in range(60)]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])
    snapshot = model.snapshot()
    assert snapshot["reconstructions"].shape == snapshot["originals"].shape == (8, 1, 8, 8)
    assert snapshot["embedding"].shape[1] == 2


@pytest.mark.parametrize("name", ["simclr", "masked_reconstruction"])
def test_resuming_from_a_checkpoint_continues_exactly(name):
    model = _model(name, "digits", {}, batch_size=32, probe_every=1000)
    for _ in range(3):
        model.step()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    expected = [float(model.step()["loss"]) for _ in range(2)]
    resumed = _model(name, "digits", {}, batch_size=32, probe_every=1000)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert [float(resumed.step()["loss"]) for _ in range(2)] == pytest.approx(expected, rel=1e-5)
