"""Every generative model: a smoke run on bundled data, and exact continuation from a checkpoint."""

import io

import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset

CASES = [
    ("gan", "ring8", {}),
    ("dcgan", "digits", {}),
    ("dcgan", "digits", {"image_size": 32}),
    ("wgan_gp", "digits", {"n_critic": 2}),
    ("wgan_gp", "moons", {}),
    ("vae", "digits", {}),
    ("vae", "digits", {"architecture": "conv", "latent_dim": 4}),
    ("pixelcnn", "digits", {"filters": 16, "n_blocks": 2}),
]
IDS = [f"{name}-{dataset}-{'-'.join(f'{k}={v}' for k, v in overrides.items())}" for name, dataset, overrides in CASES]


def build(name, dataset, overrides, seed=0):
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config(overrides))
    algorithm.setup(load_dataset(dataset), device="cpu", seed=seed)
    return algorithm


def as_floats(values: dict) -> dict:
    return {name: float(value) for name, value in values.items()}


@pytest.mark.parametrize(("name", "dataset", "overrides"), CASES, ids=IDS)
def test_two_steps_and_a_snapshot_on_bundled_data(scoring_enabled, name, dataset, overrides):
    algorithm = build(name, dataset, overrides)
    for _ in range(2):
        values = as_floats(algorithm.step())
        assert values and all(np.isfinite(list(values.values())))
    snapshot = algorithm.snapshot()
    assert snapshot and all(array.dtype != object for array in snapshot.values())
    np.savez(io.BytesIO(), allow_pickle=False, **snapshot)  # what the store writes


@pytest.mark.parametrize(("name", "dataset", "overrides"), CASES, ids=IDS)
def test_resuming_from_a_checkpoint_continues_exactly(name, dataset, overrides):
    overrides = {**overrides, "eval_every": 0}
    algorithm = build(name, dataset, overrides)
    for _ in range(3):
        algorithm.step()
    buffer = io.BytesIO()
    torch.save(algorithm.state_dict(), buffer)  # as a checkpoint does, before training goes on
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    expected = [as_floats(algorithm.step()) for _ in range(3)]
    expected_snapshot = algorithm.snapshot()
    # Another seed: whatever the state does not hold (noise, batch order, fixed inputs) would differ.
    resumed = build(name, dataset, overrides, seed=123)
    resumed.load_state_dict(state)
    assert [as_floats(resumed.step()) for _ in range(3)] == expected
    resumed_snapshot = resumed.snapshot()
    assert resumed_snapshot.keys() == expected_snapshot.keys()
    for key, array in expected_snapshot.items():
        np.testing.assert_array_equal(resumed_snapshot[key], array, err_msg=key)
