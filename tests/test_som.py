"""Self-organizing maps: minisom parity, the batched update, blobs, k-means limit, clustering, runs."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from minisom import MiniSom

from tests.estimator_checks import scikit_learn_checks

from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.som_clustering import SOMClustering, assign_to_units, assignment_table, \
    cluster_prototypes
from unsup_core.algorithms.som_estimator import SOM, keep_and_share, minisom_initial_weights
from unsup_core.algorithms.som_grid import MINISOM_LR_DECAY, MINISOM_SIGMA_DECAY, MapGrid, umatrix
from unsup_core.config import ConfigError
from unsup_core.datasets import load_dataset
from unsup_core.runs.spec import make_spec


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").X.astype(np.float64)


def reference(X, rows, cols, *, init="pca", seed=3, **params):
    """minisom exactly as a user calls it."""
    som = MiniSom(rows, cols, X.shape[1], sigma=params.get("sigma", 3.0),
                  learning_rate=params.get("learning_rate", 0.5),
                  decay_function=MINISOM_LR_DECAY[params.get("lr_decay", "asymptotic")],
                  sigma_decay_function=MINISOM_SIGMA_DECAY[params.get("sigma_decay", "asymptotic")],
                  neighborhood_function=params.get("neighbourhood", "gaussian"),
                  topology=params.get("topology", "rectangular"), random_seed=seed)
    getattr(som, f"{init}_weights_init")(X)
    return som


def connected(units, grid):
    """Whether ``units`` form one connected region of the map."""
    units = set(int(u) for u in units)
    a, b = grid.neighbour_pairs()
    neighbours = {}
    for x, y in zip(a, b):
        neighbours.setdefault(int(x), []).append(int(y))
    seen, frontier = set(), [next(iter(units))]
    while frontier:
        unit = frontier.pop()
        if unit in seen:
            continue
        seen.add(unit)
        frontier += [n for n in neighbours.get(unit, []) if n in units and n not in seen]
    return seen == units


# -- minisom parity -------------------------------------------------------------------------------

@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("neighbourhood,init", [("gaussian", "pca"), ("bubble", "random"), ("mexican_hat", "pca")])
def test_minisom_backend_is_minisom_bit_for_bit(digits, topology, neighbourhood, init):
    params = {"topology": topology, "neighbourhood": neighbourhood, "sigma": 3.0, "learning_rate": 0.5,
              "sigma_decay": "linear_to_one", "lr_decay": "inverse_to_zero"}
    theirs = reference(digits, 8, 7, init=init, **params)
    theirs.train(digits, 2000, random_order=True)
    ours = SOM(8, 7, **params, init=init, backend="minisom", random_state=3, n_updates=2000, batch_size=64).fit(digits)
    assert np.array_equal(ours.weights_, theirs.get_weights().reshape(56, -1))
    assert ours.quantization_error(digits) == pytest.approx(theirs.quantization_error(digits), rel=1e-9)
    assert ours.topographic_error(digits) == pytest.approx(theirs.topographic_error(digits), abs=1e-12)


@pytest.mark.parametrize("init", ["pca", "random"])
def test_both_backends_start_from_minisoms_initial_weights(digits, init):
    theirs = reference(digits, 6, 9, init=init, seed=11)
    assert np.array_equal(minisom_initial_weights(digits, 6, 9, init, 11), theirs.get_weights().reshape(54, -1))
    batched = SOM(6, 9, init=init, random_state=11, dtype="float64").start(digits)
    assert np.array_equal(batched.weights_, theirs.get_weights().reshape(54, -1))


@pytest.mark.filterwarnings("ignore:sigma should be an integer")  # minisom's advice for bubble
@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("function", ["gaussian", "mexican_hat", "bubble"])
@pytest.mark.parametrize("shape", [(7, 6), (6, 7), (30, 20)])
def test_neighbourhoods_and_positions_match_minisom(topology, function, shape):
    rows, cols = shape
    som = MiniSom(rows, cols, 2, sigma=2.5, neighborhood_function=function, topology=topology)
    grid = MapGrid(rows, cols, topology)
    xx, yy = som.get_euclidean_coordinates()
    assert np.allclose(grid.positions, np.stack([xx.ravel(), yy.ravel()], axis=1))
    for centre in (0, 13, rows * cols // 2, rows * cols - 1):
        expected = som.neighborhood(np.unravel_index(centre, shape), 2.5).ravel()
        assert np.allclose(grid.neighbourhood_numpy(centre, 2.5, function), expected, atol=1e-12)
    assert len(grid.neighbour_pairs()[0]) > 0


def test_a_batch_of_one_is_minisoms_online_update(digits):
    """The batched rule with one sample per batch is exactly minisom's update (float64, same order)."""
    for topology, neighbourhood in [("rectangular", "gaussian"), ("hexagonal", "gaussian"), ("hexagonal", "bubble")]:
        params = dict(topology=topology, neighbourhood=neighbourhood, random_state=2, n_updates=600, batch_size=1)
        theirs = SOM(9, 8, backend="minisom", **params).start(digits)
        ours = SOM(9, 8, backend="batched", dtype="float64", **params).start(digits)
        for t in range(600):
            row = theirs._backend.order[t]
            theirs._backend.step(np.array([row]), t, 600)
            ours._backend.step(torch.tensor([row]), t, 600)
        assert np.abs(ours.weights_ - theirs.weights_).max() < 1e-12


def test_the_batched_update_keeps_the_product_of_the_pulls_exact():
    """One unit pulled by n identical samples ends where n online updates would put it."""
    grid = MapGrid(1, 2)
    som = SOM(1, 2, sigma=1e-3, learning_rate=0.3, lr_decay="linear_to_zero", n_updates=10**9, batch_size=5,
              dtype="float64")
    som.start(np.array([[0.0, 0.0], [10.0, 10.0]]))
    som._backend.weights[:] = torch.tensor([[0.0, 0.0], [10.0, 10.0]], dtype=torch.float64)
    som._backend.X_ones = torch.tensor([[1.0, 1.0, 1.0]] * 5, dtype=torch.float64)  # samples and a ones column
    som._backend.X_norms = torch.full((5,), 2.0, dtype=torch.float64)
    som._backend.step(torch.arange(5), 0, 10**9)
    assert som.weights_[0] == pytest.approx([1 - 0.7 ** 5] * 2, rel=1e-9)
    assert som.weights_[1] == pytest.approx([10.0, 10.0])
    assert grid.n_neurons == 2


def test_keep_and_share_agree_on_cpu_numpy_and_torch_paths():
    L = torch.tensor([-30.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 50.0])
    keep_np, share_np = keep_and_share(L)
    clamped = L.clamp(max=10.0)
    share_torch = torch.where(clamped.abs() < 1e-6, 1 + clamped / 2, torch.expm1(clamped) / clamped)
    assert torch.allclose(keep_np, clamped.exp()) and torch.allclose(share_np, share_torch)
    assert share_np[3] == 1.0 and torch.isfinite(share_np).all()


# -- what the map learns --------------------------------------------------------------------------

def test_well_separated_blobs_each_get_their_own_region_of_the_map():
    data = load_dataset("blobs")
    som = SOM(10, 10, sigma=5, learning_rate=0.5, sigma_decay="linear_to_one", lr_decay="linear_to_zero",
              topology="hexagonal", n_updates=20 * data.n_samples, batch_size=64, random_state=0).fit(data.X)
    bmu = som.predict(data.X)
    hits = som.hits(data.X)
    regions = [set(np.unique(bmu[data.y == blob])) for blob in np.unique(data.y)]
    for index, region in enumerate(regions):
        assert connected(region, som.grid), f"blob {index} is split over the map"
        for other in regions[index + 1:]:
            assert not region & other, "two blobs share a unit"
    # Between the regions lie units that win nothing (the hit map's empty border) ...
    assert (hits == 0).sum() >= 4
    # ... and the U-matrix is highest there: empty units are further from their neighbours.
    u = som.umatrix()
    assert u[hits == 0].mean() > 2 * u[hits > 0].mean()


def test_quantization_error_decreases_while_training(digits):
    # From a flat PCA sheet. In the first fifth the wide neighbourhood still drags whole patches of
    # the map around (QE may tick up); from then on every fifth of the run lowers it.
    som = SOM(10, 10, sigma=5, sigma_decay="linear_to_one", lr_decay="linear_to_zero", init="pca",
              n_updates=30_000, batch_size=128).start(digits)
    errors = [som.quantization_error(digits)]
    while not som.done_:
        som.iterate()
        if som.n_updates_ % 6016 == 0 or som.done_:
            errors.append(som.quantization_error(digits))
    assert all(later < earlier for earlier, later in zip(errors[1:], errors[2:])), errors
    assert errors[-1] < 0.8 * errors[0]


def test_with_sigma_near_zero_a_batch_of_one_is_online_kmeans(digits):
    som = SOM(4, 4, sigma=1e-3, learning_rate=0.2, lr_decay="asymptotic", sigma_decay="asymptotic",
              init="random", n_updates=3000, batch_size=1, random_state=5, dtype="float64").start(digits)
    centres = som.weights_.copy()
    assert np.array_equal(som.grid.neighbourhood(torch.arange(16), 1e-3, "gaussian", torch.float64).numpy(), np.eye(16))
    for t in range(3000):
        row = int(som._backend.next_rows(1))
        som._backend.step(torch.tensor([row]), t, 3000)
        x = digits[row]
        winner = np.argmin(((centres - x) ** 2).sum(axis=1))
        centres[winner] += 0.2 / (1 + t / 1500) * (x - centres[winner])  # MacQueen's update, decaying rate
    assert np.abs(som.weights_ - centres).max() < 1e-10


def test_with_sigma_near_zero_batches_are_minibatch_kmeans():
    """Each unit moves towards the mean of the samples it wins, by 1 - (1 - eta)^n for n samples."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 3))
    som = SOM(2, 3, sigma=1e-3, learning_rate=0.1, init="random", n_updates=10**9, batch_size=256,
              dtype="float64", random_state=1).start(X)
    before = som.weights_.copy()
    winners = np.argmin(((X[:, None, :] - before[None]) ** 2).sum(axis=2), axis=1)
    som._backend.step(torch.arange(256), 0, 10**9)
    eta = 0.1 / (1 + 127.5 / (10**9 / 2))
    for unit in range(6):
        mine = X[winners == unit]
        if len(mine):
            pull = 1 - (1 - eta) ** len(mine)
            assert som.weights_[unit] == pytest.approx(before[unit] + pull * (mine.mean(axis=0) - before[unit]))
        else:
            assert np.array_equal(som.weights_[unit], before[unit])
    # Trained long with sigma near 0, a 2x2 map on the four blobs is k-means: one unit per blob.
    blobs = load_dataset("blobs")
    kmeans_like = SOM(2, 2, sigma=1e-3, n_updates=10 * blobs.n_samples, batch_size=32, init="random",
                      random_state=0).fit(blobs.X)
    from unsup_core.metrics import adjusted_rand_index

    assert adjusted_rand_index(blobs.y, kmeans_like.predict(blobs.X)) > 0.95


def test_grid_adjacency_and_umatrix():
    rect, hexagonal = MapGrid(5, 6, "rectangular"), MapGrid(5, 6, "hexagonal")
    inner = 2 * 6 + 2
    assert (rect.neighbour_pairs()[0] == inner).sum() == 8
    assert (hexagonal.neighbour_pairs()[0] == inner).sum() == 6
    a, b = hexagonal.neighbour_pairs()
    assert np.allclose(np.linalg.norm(hexagonal.positions[a] - hexagonal.positions[b], axis=1), 1.0)
    weights = np.zeros((30, 2))
    weights[inner] = [3.0, 4.0]
    u = umatrix(weights, rect)
    assert u[inner] == pytest.approx(5.0) and u[0] == 0.0 and u[inner + 1] == pytest.approx(5.0 / 8)


# -- estimator API and clustering -----------------------------------------------------------------

def test_estimator_api(digits):
    som = SOM(5, 6, n_updates=5000, batch_size=100)
    bmu = som.fit_predict(digits)
    assert bmu.shape == (len(digits),) and 0 <= bmu.min() and bmu.max() < 30
    assert som.transform(digits[:7]).shape == (7, 30)
    assert som.weights_.shape == (30, 64) and som.n_updates_ == 5000 and som.done_
    assert np.array_equal(assign_to_units(digits, som.weights_), bmu)
    mean, scale = digits.mean(axis=0), digits.std(axis=0) + 1
    assert np.array_equal(assign_to_units(digits * scale + mean, som.weights_, mean, scale), bmu)
    with pytest.raises(ValueError, match="topology"):
        SOM(topology="triangle").fit(digits)
    with pytest.raises(NotFittedError):
        SOM().predict(digits)


def test_scikit_learn_contract(digits):
    for model in (SOM(4, 4, n_updates=500), SOMClustering(3, som=SOM(4, 4, n_updates=500))):
        with pytest.raises(NotFittedError):
            model.predict(digits)
        copy = clone(model).fit(digits)
        with pytest.raises(ValueError, match="X has 3 features, but SOM is expecting 64 features"):
            copy.predict(digits[:, :3])
    model = SOMClustering(2, som=SOM(3, 3)).set_params(som__rows=5, n_clusters=4)
    assert model.get_params()["som__rows"] == 5 and clone(model).som.rows == 5
    assert clone(model).fit(digits).som_.weights_.shape == (15, 64)


EXPECTED_FAILURES = {
    SOM: {"check_clustering": "a map's units are prototypes, not clusters: some hold no sample, "
                                           "so labels_ need not cover every unit"},
    SOMClustering: {},
}


@scikit_learn_checks([SOM(4, 4, n_updates=500), SOMClustering(3, som=SOM(4, 4, n_updates=500))],
                     lambda estimator: EXPECTED_FAILURES[type(estimator)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_som_clustering_gives_contiguous_regions_and_exports(digits):
    model = SOMClustering(6, method="agglomerative", contiguous=True,
                          som=SOM(8, 8, topology="hexagonal", n_updates=10_000, batch_size=128))
    labels = model.fit_predict(digits)
    assert labels.shape == (len(digits),) and set(np.unique(model.unit_labels_)) == set(range(6))
    for cluster in range(6):
        assert connected(np.flatnonzero(model.unit_labels_ == cluster), model.som_.grid)
    assert np.array_equal(model.predict(digits), labels)
    kmeans = cluster_prototypes(model.som_.weights_, 4, method="kmeans")
    assert kmeans[0] == 0 and set(kmeans) == {0, 1, 2, 3}
    table = assignment_table(model.bmu_, model.som_.grid, model.unit_labels_, np.arange(len(digits)) % 10,
                             [str(d) for d in range(10)])
    assert list(table.columns) == ["sample", "neuron", "row", "col", "cluster", "label", "label_name"]
    assert (table["row"] * 8 + table["col"] == table["neuron"]).all()
    assert (table["cluster"] == labels).all()


# -- as a run -------------------------------------------------------------------------------------

def make_algorithm(overrides, steps=40):
    cls = get_algorithm("som")
    algorithm = cls(cls.build_config(overrides))
    algorithm.planned_steps = steps
    return algorithm


def test_the_run_plans_its_schedules_over_the_run_and_finishes():
    algorithm = make_algorithm({"rows": 6, "cols": 6, "batch_size": 50}, steps=40)
    algorithm.setup(load_dataset("iris"), "cpu", 0)
    steps = []
    while not algorithm.finished:
        steps.append(algorithm.step())
    assert len(steps) == 40 and algorithm.som.n_updates_ == 2000
    assert steps[-1]["sigma"] == pytest.approx(1.0, abs=0.1) and steps[-1]["learning_rate"] < 0.01
    assert {"qe_batch", "te_batch", "qe", "te"} <= set(steps[-1])
    snapshot = algorithm.snapshot()
    assert snapshot["weights"].shape == (36, 4) and snapshot["hits"].sum() == 150
    assert snapshot["label_counts"].shape == (36, 3) and snapshot["label_counts"].sum() == 150
    # Tables are standardised for training; the snapshot keeps how, to draw planes in the data's units.
    original = snapshot["weights"] * snapshot["feature_scale"] + snapshot["feature_mean"]
    iris = load_dataset("iris").X
    assert iris.min(axis=0).min() - 1 < original.min() and original.max() < iris.max() + 1


@pytest.mark.parametrize("backend", ["batched", "minisom"])
def test_a_resumed_run_continues_where_it_stopped(backend):
    digits = load_dataset("digits")
    whole = make_algorithm({"backend": backend, "rows": 5, "cols": 5, "batch_size": 20}, steps=30)
    whole.setup(digits, "cpu", 1)
    for _ in range(30):
        whole.step()
    first = make_algorithm({"backend": backend, "rows": 5, "cols": 5, "batch_size": 20}, steps=30)
    first.setup(digits, "cpu", 1)
    for _ in range(12):
        first.step()
    state = torch.load(_roundtrip(first.state_dict()), weights_only=True)
    resumed = make_algorithm({"backend": backend, "rows": 5, "cols": 5, "batch_size": 20}, steps=30)
    resumed.setup(digits, "cpu", 1)
    resumed.load_state_dict(state)
    while not resumed.finished:
        resumed.step()
    assert np.allclose(resumed.som.weights_, whole.som.weights_, atol=1e-6)


def _roundtrip(state):
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer


def test_config_is_validated_up_front():
    with pytest.raises(ConfigError, match="topology"):
        make_spec("som", "digits", {"topology": "triangular"})
    with pytest.raises(ConfigError, match="learning_rate"):
        make_spec("som", "digits", {"learning_rate": 2})
    spec = make_spec("som", "iris", {"backend": "minisom", "rows": "4"})
    assert spec.config["rows"] == 4 and spec.steps == get_algorithm("som").default_steps
