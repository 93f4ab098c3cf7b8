import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.kmeans_estimator import KMeans
from unsup_core.datasets import load_dataset
from unsup_core.metrics import adjusted_rand_index


def test_kmeans_recovers_blobs():
    data = load_dataset("blobs")
    model = KMeans(4, random_state=0).fit(data.X)
    assert adjusted_rand_index(data.y, model.labels_) > 0.95
    assert np.array_equal(model.predict(data.X), model.labels_)
    assert model.transform(data.X).shape == (data.n_samples, 4)


def test_lloyd_iterations_never_increase_inertia():
    data = load_dataset("digits")
    model = KMeans(10, init="random", random_state=1).start(data.X)
    inertias = [model.iterate()["inertia"] for _ in range(15)]
    assert all(later <= earlier * (1 + 1e-5) for earlier, later in zip(inertias, inertias[1:]))
    assert inertias[-1] < inertias[0]


def test_inertia_is_as_good_as_scikit_learn():
    data = load_dataset("digits")
    ours = min(KMeans(10, random_state=seed).fit(data.X).inertia_ for seed in range(3))
    theirs = SklearnKMeans(10, n_init=3, random_state=0).fit(data.X).inertia_
    assert ours <= theirs * 1.02


def test_empty_clusters_are_relocated():
    # 10 identical points and one far away: random init may pick duplicates, which leaves
    # clusters empty; every cluster must still end up with a centre on the data.
    X = np.concatenate([np.zeros((10, 2)), [[10.0, 10.0]], np.ones((10, 2))])
    model = KMeans(3, init="random", random_state=0).fit(X)
    assert len(np.unique(model.labels_)) == 3


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="NaN or infinite"):
        KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).fit(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="init must be"):
        KMeans(2, init="best").fit(np.zeros((5, 2)))


def test_kmeans_run_protocol_converges_and_snapshots_images():
    algorithm_cls = get_algorithm("kmeans")
    algorithm = algorithm_cls(algorithm_cls.build_config({"n_clusters": 10}))
    algorithm.setup(load_dataset("digits"), seed=0)
    steps = 0
    while not algorithm.finished and steps < 100:
        values = algorithm.step()
        steps += 1
    assert algorithm.finished and values["n_changed"] == 0
    assert values["ari"] > 0.4
    snapshot = algorithm.snapshot()
    assert snapshot["points"].shape == (1797, 2)
    assert snapshot["centers"].shape == (10, 2)
    assert snapshot["center_images"].shape == (10, 8, 8)

    restored = algorithm_cls(algorithm.config)
    restored.setup(load_dataset("digits"), seed=0)
    restored.load_state_dict(algorithm.state_dict())
    assert np.allclose(restored.estimator.cluster_centers_, algorithm.estimator.cluster_centers_)
