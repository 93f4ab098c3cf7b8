import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from unsup_core.metrics import adjusted_rand_index, normalized_mutual_info


@pytest.mark.parametrize("seed", range(5))
def test_scores_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, 400)
    predicted = np.where(rng.random(400) < 0.6, truth, rng.integers(0, 7, 400))
    assert adjusted_rand_index(truth, predicted) == pytest.approx(adjusted_rand_score(truth, predicted))
    assert normalized_mutual_info(truth, predicted) == pytest.approx(normalized_mutual_info_score(truth, predicted))


def test_identical_partitions_score_one_whatever_the_names():
    labels = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(labels, labels + 10) == pytest.approx(1.0)
    assert normalized_mutual_info(labels, 5 - labels) == pytest.approx(1.0)
