"""The clustering, model-selection, embedding and outlier runs: learning tests (smoke tests: test_every_algorithm)."""

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

from unsup_core.algorithms import get_algorithm, kmeans_estimator
from unsup_core.algorithms.kmeans_estimator import KMeans, MiniBatchKMeans
from unsup_core.datasets.uploads import import_file
from unsup_core.datasets import Dataset, DatasetError, load_dataset


def build(name, dataset="iris", **overrides):
    cls = get_algorithm(name)
    algorithm = cls(cls.build_config(overrides))
    algorithm.setup(load_dataset(dataset) if isinstance(dataset, str) else dataset, seed=0)
    return algorithm


def run_to_end(algorithm, max_steps=500):
    values = {}
    for _ in range(max_steps):
        values = algorithm.step()
        if algorithm.finished:
            break
    return values


@pytest.mark.parametrize("name, overrides", [("dbscan", {}), ("hdbscan", {}), ("spectral", {"n_clusters": 2})])
def test_shape_following_methods_recover_the_moons(name, overrides):
    values = run_to_end(build(name, "moons", **overrides))
    assert values["ari"] > 0.85, values


def test_som_as_clustering_puts_each_blob_in_its_own_cluster():
    algorithm = build("som_clustering", "blobs", rows=8, cols=8, n_clusters=4)
    values = run_to_end(algorithm)
    assert algorithm.finished and values["ari"] > 0.95, values
    snapshot = algorithm.snapshot()
    assert set(snapshot["row_cluster"]) == {0, 1, 2, 3}
    # every row's cluster is its best unit's cluster
    assert (snapshot["unit_clusters"][snapshot["row_som_unit"]] == snapshot["row_cluster"]).all()


def test_kmeans_cannot_recover_the_moons_which_is_why_the_others_exist():
    assert run_to_end(build("kmeans", "moons", n_clusters=2))["ari"] < 0.6


def test_dbscan_finds_its_radius_and_calls_scattered_points_noise():
    rng = np.random.default_rng(0)
    blobs = load_dataset("blobs")
    scattered = rng.uniform(-3, 3, (40, 2))
    data = Dataset("blobs+noise", "points2d", np.vstack([blobs.X, scattered]))
    algorithm = build("dbscan", data)
    values = run_to_end(algorithm)
    labels = algorithm.current_labels()
    assert values["n_clusters_found"] == 4 and 0.01 < values["noise_fraction"] < 0.1
    assert (labels[-40:] < 0).mean() > 0.5 and (labels[:-40] >= 0).mean() > 0.95
    assert values["eps"] > 0


def test_gaussian_mixture_climbs_the_likelihood_and_finds_the_blobs():
    algorithm = build("gmm", "iris", n_components=3)
    curve = [algorithm.step()["log_likelihood"]]
    while not algorithm.finished:
        values = algorithm.step()
        curve.append(values["log_likelihood"])
    assert len(curve) > 3 and all(later >= earlier - 1e-9 for earlier, later in zip(curve, curve[1:]))
    assert curve[-1] > curve[0] and "bic" in values
    blobs = build("gmm", "blobs", n_components=4)
    assert run_to_end(blobs)["ari"] > 0.95 and blobs.snapshot()["centers"].shape == (4, 2)


def test_agglomerative_keeps_a_dendrogram_with_the_cut_between_the_last_merges():
    algorithm = build("agglomerative", "blobs", n_clusters=4)
    assert run_to_end(algorithm)["ari"] > 0.95
    snapshot = algorithm.snapshot()
    heights = snapshot["dendrogram_y"].max(axis=1)
    assert snapshot["dendrogram_x"].shape == (29, 4) and len(snapshot["dendrogram_leaves"]) == 30
    # Exactly three merges (4 clusters -> 1) happen above the cut.
    assert (heights > snapshot["dendrogram_cut"]).sum() == 3


def test_quadratic_methods_refuse_too_many_rows_with_a_message():
    big = Dataset("big", "table", np.zeros((10_001, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="agglomerative keeps all pairwise distances, so it is limited to 10,000"):
        build("agglomerative", big)


@pytest.mark.parametrize("name", ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "spectral"])
def test_more_clusters_than_rows_is_refused_with_a_message(name):
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config({}))
    three_rows = Dataset("tiny.csv", "table", np.arange(6.0).reshape(3, 2))
    with pytest.raises(DatasetError, match=f"{name}: n_(clusters|components)=\\d+ needs at least \\d+ rows and "
                                           "this data has 3: set n_(clusters|components) to at most 3"):
        algorithm.setup(three_rows)


@pytest.mark.parametrize("name, config, field, count", [
    ("spectral", {"n_clusters": 2}, "n_neighbors", 10),
    ("hdbscan", {}, "min_cluster_size", 10),
    ("hdbscan", {"min_cluster_size": 2, "min_samples": 5}, "min_samples", 5),
    ("semi_supervised", {}, "n_neighbors", 7),
])
def test_a_neighbour_count_above_the_rows_is_refused_with_a_message(name, config, field, count):
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config(config))
    four_rows = Dataset("tiny.csv", "table", np.arange(8.0).reshape(4, 2), y=np.array([0, 1, 0, 1]))
    with pytest.raises(DatasetError, match=f"{name}: {field}={count} needs at least {count} rows and this data "
                                           f"has 4: set {field} to at most 4"):
        algorithm.setup(four_rows)
    algorithm = algorithm_cls(algorithm_cls.build_config({**config, field: 4}))
    algorithm.setup(four_rows)  # as many as the rows: it trains
    algorithm.step()


def test_minibatch_kmeans_matches_lloyd_and_scikit_learn_on_digits():
    data = load_dataset("digits")
    ours = min(MiniBatchKMeans(10, batch_size=256, random_state=seed).fit(data.X).inertia_ for seed in range(3))
    lloyd = min(KMeans(10, random_state=seed).fit(data.X).inertia_ for seed in range(3))
    theirs = SklearnKMeans(10, n_init=3, random_state=0).fit(data.X).inertia_
    assert ours <= theirs * 1.05 and ours <= lloyd * 1.05


@pytest.mark.parametrize("cpu_kernel_from", [2**62, 0], ids=["torch", "numba"])
def test_minibatch_kmeans_resumes_exactly(cpu_kernel_from, monkeypatch):
    monkeypatch.setattr(kmeans_estimator, "CPU_KERNEL_MIN_VALUES", cpu_kernel_from)
    data = load_dataset("digits")
    straight = MiniBatchKMeans(10, batch_size=128, random_state=0).start(data.X)
    for _ in range(3):
        straight.iterate()
    paused = MiniBatchKMeans(10, batch_size=128, random_state=0).start(data.X)
    paused.iterate()
    resumed = MiniBatchKMeans(10, batch_size=128, random_state=0).start(data.X)
    resumed.set_state(paused.get_state())
    for _ in range(2):
        resumed.iterate()
    assert np.allclose(resumed.cluster_centers_, straight.cluster_centers_)


def test_prepared_files_are_not_rescaled_by_auto():
    X = np.array([[0.0, 100.0], [1.0, 300.0], [0.0, 200.0], [1.0, 400.0]], dtype=np.float32)
    prepared = Dataset("prepared", "table", X, preprocessed=True)
    assert np.array_equal(build("kmeans", prepared, n_clusters=2).features, X)
    assert not np.array_equal(build("kmeans", Dataset("raw", "table", X), n_clusters=2).features, X)


def test_choose_k_recommends_the_number_of_blobs():
    sweep = build("choose_k", "blobs", k_min=2, k_max=7)
    run_to_end(sweep)
    snapshot = sweep.snapshot()
    assert snapshot["k"].tolist() == [2, 3, 4, 5, 6, 7]
    assert int(snapshot["recommended_k"]) == 4 and str(snapshot["recommended_algorithm"]) == "kmeans"
    assert str(snapshot["reason"]).startswith("k-means with k = 4: the silhouette is highest there")
    assert np.all(np.diff(snapshot["inertia"]) < 0)


def test_embeddings_keep_neighbours_and_cover_a_sample():
    digits = load_dataset("digits")
    for method in ("pca", "tsne"):
        algorithm = build("embedding", "digits", method=method, max_rows=600)
        run_to_end(algorithm)
        snapshot = algorithm.snapshot()
        rows = snapshot["row_subset"]
        coordinates = np.stack([snapshot[f"row_{method}_1"], snapshot[f"row_{method}_2"]], axis=1)
        assert len(rows) == 600 and coordinates.shape == (600, 2)
        # Nearest neighbour in the map shares the digit far more often than chance (10%).
        distances = ((coordinates[:, None] - coordinates[None]) ** 2).sum(-1) + np.eye(600) * 1e9
        same = (digits.y[rows] == digits.y[rows][distances.argmin(axis=1)]).mean()
        assert same > (0.5 if method == "pca" else 0.85), (method, same)


def test_outlier_scores_flag_planted_outliers():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (300, 3)), rng.normal(0, 1, (10, 3)) + 8]).astype(np.float32)
    for method in ("isolation_forest", "lof"):
        algorithm = build("outliers", Dataset("planted", "table", X), method=method, share=10 / 310)
        values = run_to_end(algorithm)
        flagged = algorithm.snapshot()["row_is_outlier"]
        assert values["n_outliers"] == 10 and flagged[-10:].all() and flagged[:-10].sum() == 0, method


def test_som_as_clustering_leaves_a_prepared_file_as_the_preparation_scaled_it(lab_home, tmp_path):
    path = tmp_path / "two.csv"
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, (100, 3)), rng.normal(8, 1, (100, 3))])
    np.savetxt(path, values, delimiter=",", header="a,b,c", comments="")
    prepared = load_dataset("file", path=str(import_file(path)), scaling="minmax")
    algorithm = build("som_clustering", prepared, rows=4, cols=4, n_clusters=2)
    # not standardised a second time: the map trains on the min-max features themselves
    assert np.array_equal(algorithm.features, prepared.X)
    assert algorithm.snapshot()["feature_scale"].tolist() == [1.0, 1.0, 1.0]
