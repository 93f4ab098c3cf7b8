import numpy as np
import pytest

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.semi_supervised import LABEL_BUDGETS, draw_labelled
from unsup_core.datasets import DatasetError, load_dataset


def _semi(dataset="digits", **overrides):
    algorithm_cls = get_algorithm("semi_supervised")
    algorithm = algorithm_cls(algorithm_cls.build_config(overrides))
    algorithm.setup(load_dataset(dataset), seed=0)
    return algorithm


def test_label_spreading_with_five_labels_per_class_beats_the_supervised_baseline_on_digits():
    algorithm = _semi()
    scores = np.array([algorithm.evaluate(5, draw)[:2] for draw in range(3)])
    semi, supervised = scores.mean(axis=0)
    assert semi > supervised + 0.02, (semi, supervised)  # measured: about 0.92 vs 0.87


def test_draws_take_the_budget_from_every_class_and_are_reproducible():
    labels = np.repeat(np.arange(4), 30)
    chosen = draw_labelled(labels, 5, np.random.default_rng(1))
    assert np.bincount(labels[chosen]).tolist() == [5, 5, 5, 5]
    assert np.array_equal(chosen, draw_labelled(labels, 5, np.random.default_rng(1)))


@pytest.mark.parametrize("method", ["label_spreading", "label_propagation", "self_training"])
def test_each_method_sweeps_the_budgets_and_snapshots_a_map(method):
    algorithm = _semi("moons", method=method, repeats=1)
    values = algorithm.step()
    assert values["labels_per_class"] == LABEL_BUDGETS[0] and 0 <= values["accuracy_semi_supervised"] <= 1
    snapshot = algorithm.snapshot()
    assert snapshot["points"].shape[1] == 2 and snapshot["labelled"].sum() == 2 * algorithm.config.labels_per_class
    algorithm.load_state_dict({"budget_index": len(LABEL_BUDGETS) - 1})
    algorithm.step()
    assert algorithm.finished


def test_unlabelled_data_is_refused_with_a_message():
    from unsup_core.datasets import Dataset

    algorithm = get_algorithm("semi_supervised")()
    with pytest.raises(DatasetError, match="has no labels"):
        algorithm.setup(Dataset("plain", "table", np.zeros((10, 2))))
