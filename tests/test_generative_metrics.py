import numpy as np
import pytest

from unsup_core.datasets import load_dataset
from unsup_core.generative_metrics import (classes_covered, feature_statistics, find_modes, frechet_distance,
                                           inception_score, mode_coverage)


def test_ring8_has_eight_modes_and_real_points_cover_them_all():
    ring = load_dataset("ring8")
    modes = find_modes(ring.X, ring.y)
    assert modes is not None and len(modes.centres) == 8
    assert np.allclose(np.linalg.norm(modes.centres, axis=1), 2.0, atol=0.02)
    covered, high_quality = mode_coverage(modes, ring.X)
    assert covered.all() and high_quality > 0.98


def test_collapsed_samples_cover_one_mode():
    ring = load_dataset("ring8")
    modes = find_modes(ring.X, ring.y)
    collapsed = modes.centres[3] + np.random.default_rng(0).normal(0, 0.02, (500, 2))
    covered, high_quality = mode_coverage(modes, collapsed)
    assert covered.tolist() == [i == 3 for i in range(8)] and high_quality == 1.0
    far_away = np.full((500, 2), 10.0)
    covered, high_quality = mode_coverage(modes, far_away)
    assert not covered.any() and high_quality == 0.0


@pytest.mark.parametrize("name", ["moons", "circles", "swiss_roll_2d"])
def test_sets_whose_classes_are_not_blobs_have_no_modes(name):
    data = load_dataset(name)
    assert find_modes(data.X, data.y) is None


def test_inception_score_is_one_for_useless_and_k_for_ideal_predictions():
    assert inception_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)
    assert inception_score(np.tile(np.eye(10)[0], (100, 1))) == pytest.approx(1.0)  # confident, no variety
    assert inception_score(np.tile(np.eye(10), (10, 1))) == pytest.approx(10.0)


def test_classes_covered_counts_classes_with_enough_top_predictions():
    probabilities = np.eye(4)[[0] * 50 + [1] * 45 + [2] * 5]
    assert classes_covered(probabilities) == 2  # class 2 gets 5 of 100, below a quarter of 25


def test_frechet_distance_matches_the_closed_form():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 6))
    mean, cov = feature_statistics(features)
    assert frechet_distance(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-8)
    # Diagonal covariances: ||mu_a - mu_b||^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    mean_a, mean_b = np.zeros(3), np.array([1.0, 2.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 5.0 + ((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum()
    assert frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b)) == pytest.approx(expected)
