import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.exceptions import NotFittedError

from tests.estimator_checks import scikit_learn_checks
from unsup_core.algorithms import get_algorithm, kmeans_estimator
from unsup_core.algorithms.kmeans_estimator import KMeans, MiniBatchKMeans
from unsup_core.datasets import load_dataset
from unsup_core.metrics import adjusted_rand_index


@pytest.fixture(params=["torch", "numba"])
def cpu_path(request, monkeypatch):
    """Run a test on both CPU paths: torch below the size threshold, the numba kernel above it."""
    threshold = 0 if request.param == "numba" else 2**62
    monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", threshold)
    return request.param


@pytest.mark.usefixtures("cpu_path")
def test_kmeans_recovers_blobs():
    data = load_dataset("blobs")
    model = KMeans(4, random_state=0).fit(data.X)
    assert adjusted_rand_index(data.y, model.labels_) > 0.95
    assert np.array_equal(model.predict(data.X), model.labels_)
    assert model.transform(data.X).shape == (data.n_samples, 4)


@pytest.mark.usefixtures("cpu_path")
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


@pytest.mark.usefixtures("cpu_path")
def test_empty_clusters_are_relocated():
    # 10 identical points and one far away: random init may pick duplicates, which leaves
    # clusters empty; every cluster must still end up with a centre on the data.
    X = np.concatenate([np.zeros((10, 2)), [[10.0, 10.0]], np.ones((10, 2))])
    model = KMeans(3, init="random", random_state=0).fit(X)
    assert len(np.unique(model.labels_)) == 3


@pytest.mark.usefixtures("cpu_path")
def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="NaN or infinite"):
        KMeans(2).fit(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).fit(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="init must be"):
        KMeans(2, init="best").fit(np.zeros((5, 2)))


@pytest.mark.usefixtures("cpu_path")
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


def blobs(offset: float, n_samples: int = 3000, n_features: int = 5, seed: int = 0) -> np.ndarray:
    """Six overlapping blobs around ``offset``: continuous values, so no exact ties."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (6, n_features))
    X = centres[rng.integers(0, 6, n_samples)] + rng.normal(0, 1, (n_samples, n_features)) + offset
    return X.astype(np.float32)


def test_the_numba_kernel_takes_exact_lloyd_steps(monkeypatch):
    # Far from the origin, where ||x||^2 - 2 x.c + ||c||^2 in float32 loses digits (the torch
    # path then misplaces a row now and then); the kernel centres the data and must agree with
    # Lloyd's algorithm computed in float64 at every iteration.
    monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", 0)
    X = blobs(offset=100)
    model = KMeans(6, init="random", random_state=1).start(X)
    for _ in range(8):
        centres = model.cluster_centers_.astype(np.float64)
        distances = ((X[:, None, :].astype(np.float64) - centres[None]) ** 2).sum(axis=-1)
        exact = distances.argmin(axis=1)
        model.iterate()
        assert np.array_equal(model.labels_, exact)
        assert model.inertia_ == pytest.approx(distances.min(axis=1).sum(), rel=1e-5)
        means = np.stack([X[exact == j].astype(np.float64).mean(axis=0) for j in range(6)])
        assert np.allclose(model.cluster_centers_, means, atol=1e-4)


def test_minibatch_epochs_of_the_numba_kernel_match_torch(monkeypatch):
    X = blobs(offset=0)
    steps = {}
    for path, threshold in (("torch", 2**62), ("numba", 0)):
        monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", threshold)
        model = MiniBatchKMeans(6, init="random", random_state=1, batch_size=256).start(X)
        steps[path] = [model.iterate() for _ in range(5)]
        steps[path + " labels"], steps[path + " centres"] = model.labels_.copy(), model.cluster_centers_
    assert np.array_equal(steps["torch labels"], steps["numba labels"])
    assert np.allclose(steps["torch centres"], steps["numba centres"], atol=1e-4)
    for ours, theirs in zip(steps["numba"], steps["torch"]):
        assert ours["n_changed"] == theirs["n_changed"]
        assert ours["inertia"] == pytest.approx(theirs["inertia"], rel=1e-5)


def test_the_numba_kernel_bounds_never_keep_a_row_from_a_nearer_centre(monkeypatch):
    # Digits: pixel values with many exact ties. Each iteration, every row's centre must be a
    # nearest one (checked in float64), whether its distances were measured or skipped by the bounds.
    monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", 0)
    X = load_dataset("digits").X
    model = KMeans(10, init="random", random_state=1).start(X)
    for _ in range(12):
        centres = model.cluster_centers_.astype(np.float64)
        model.iterate()
        distances = ((X[:, None, :].astype(np.float64) - centres[None]) ** 2).sum(axis=-1)
        own = distances[np.arange(len(X)), model.labels_]
        assert (own <= distances.min(axis=1) + 1e-4).all()
        assert model.inertia_ == pytest.approx(own.sum(), rel=1e-5)


def test_the_numba_kernel_matches_scikit_learn_lloyd(monkeypatch):
    monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", 0)
    X = blobs(offset=100)
    init = X[:6].copy()
    ours = KMeans(6, init=init, max_iter=15, tol=0.0).fit(X)
    theirs = SklearnKMeans(6, init=init, n_init=1, max_iter=15, tol=0.0, algorithm="lloyd").fit(X)
    assert np.array_equal(ours.labels_, theirs.labels_)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-4)


@pytest.mark.parametrize("estimator", [KMeans, MiniBatchKMeans])
def test_scikit_learn_contract(estimator):
    digits = load_dataset("digits").X
    model = estimator(5, random_state=0)
    with pytest.raises(NotFittedError):
        model.predict(digits)
    copy = clone(model.set_params(n_clusters=4))
    assert copy.get_params()["n_clusters"] == 4 and not hasattr(copy, "labels_")
    copy.fit(digits)
    with pytest.raises(ValueError, match="X has 3 features, but .*KMeans is expecting 64 features"):
        copy.predict(digits[:, :3])


@scikit_learn_checks([KMeans(3, max_iter=20), MiniBatchKMeans(3, max_iter=5, batch_size=32)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
