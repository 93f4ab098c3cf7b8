"""Every built-in lesson's claims, checked by running its links' setups (same seeds) through the library."""

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset
from unsup_core.lessons import LESSONS, get_lesson


@dataclass
class Trained:
    history: list[dict]  # the scalars of every step
    snapshot: dict

    def last(self, name: str) -> float:
        return [values[name] for values in self.history if name in values][-1]

    def series(self, name: str) -> list[float]:
        return [values[name] for values in self.history if name in values]


def train(slug: str, label: str) -> Trained:
    """The lesson link's run, as the worker does it, in this process."""
    spec = get_lesson(slug).link(label).form_link().spec()
    algorithm_cls = get_algorithm(spec.algorithm)
    algorithm = algorithm_cls(algorithm_cls.build_config(spec.config))
    algorithm.planned_steps = spec.steps
    algorithm.setup(load_dataset(spec.dataset, **spec.dataset_options), device="cpu", seed=spec.seed)
    history = []
    while len(history) < spec.steps and not algorithm.finished:
        history.append({name: float(value) for name, value in algorithm.step().items()})
    return Trained(history, algorithm.snapshot())


@pytest.fixture(autouse=True)
def _own_home(lab_home):
    """Runs here write nothing outside the test's own data folder."""


def test_there_are_at_least_eight_lessons_with_valid_links_and_text():
    assert len(LESSONS) >= 8 and len({lesson.slug for lesson in LESSONS}) == len(LESSONS)
    for lesson in LESSONS:
        assert lesson.links and lesson.try_this and lesson.look_for
        for link in lesson.links:
            link.form_link().spec()  # decodes without a dropped value, and is a valid run


def test_moons_kmeans_cuts_the_moons_where_spectral_and_dbscan_follow_them():
    assert train("moons", "k-means").last("ari") < 0.5  # measured 0.27
    assert train("moons", "spectral").last("ari") > 0.9  # 1.00
    assert train("moons", "DBSCAN").last("ari") > 0.9  # 0.99


def test_moons_dbscan_with_a_small_neighbourhood_breaks_the_moons():
    lesson_spec = get_lesson("moons").link("DBSCAN").form_link().spec()
    algorithm_cls = get_algorithm("dbscan")
    dbscan = algorithm_cls(algorithm_cls.build_config({**lesson_spec.config, "min_samples": 5}))
    dbscan.setup(load_dataset("moons", **lesson_spec.dataset_options), device="cpu", seed=lesson_spec.seed)
    assert dbscan.step()["n_clusters_found"] > 2  # measured 4


@pytest.mark.slow
def test_gan_collapses_on_ring8_where_wgan_gp_covers_it():
    gan = train("gan-modes", "GAN").series("modes_covered")
    assert max(gan[-3:]) <= 3  # measured 2, 1, 1 of 8 at steps 1300-1500
    wgan = train("gan-modes", "WGAN-GP").series("modes_covered")
    assert wgan[-1] >= 7 and max(gan[-3:]) < min(wgan[-2:])  # measured 8 and 7


def test_vae_kl_falls_towards_zero_as_beta_grows():
    kl_per_dim = {beta: train("vae-beta", f"β = {beta}").snapshot["kl_per_dim"] for beta in ("0.5", "1", "2", "4")}
    totals = [float(kl.sum()) for kl in kl_per_dim.values()]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) == 4  # measured 3.3, 1.9, 0.18, 0.004
    assert (kl_per_dim["4"] < 0.05).all()
    assert (kl_per_dim["0.5"] > 0.1).sum() >= 3  # measured 5 active dimensions


def test_som_unfolds_over_digits():
    som = train("som-digits", "SOM")
    quantization = som.series("qe")
    assert quantization[-1] <= 0.8 * quantization[0]  # measured 1.90 -> 1.43
    assert som.last("te") < 0.05  # measured 0.014


def test_choose_k_recommends_the_hidden_number_of_blobs():
    snapshot = train("choose-k", "choose k").snapshot
    assert int(snapshot["recommended_k"]) == 5
    best = {"silhouette": np.argmax, "calinski_harabasz": np.argmax, "davies_bouldin": np.argmin, "bic": np.argmin}
    assert {name: int(snapshot["k"][pick(snapshot[name])]) for name, pick in best.items()} == dict.fromkeys(best, 5)


def test_a_few_labels_plus_unlabelled_digits_beat_the_labels_alone():
    sweep = train("few-labels", "label spreading").history
    gains = {int(step["labels_per_class"]): step["gain"] for step in sweep}
    assert list(gains) == [1, 2, 3, 5, 10, 20, 50] and all(gain > 0 for gain in gains.values())
    assert min(gains[2], gains[3], gains[5]) >= 0.05  # measured 0.090, 0.078, 0.059
    assert gains[50] < gains[2]  # 0.036


def test_planted_anomalies_are_found_by_the_isolation_forest_not_by_lof():
    assert train("anomalies", "isolation forest").last("precision") > 0.9  # measured 0.98
    assert train("anomalies", "LOF").last("precision") < 0.5  # 0.30


def _neighbour_agreement(trained: Trained) -> float:
    """How often a point's 5 nearest neighbours on the 2-D map vote for its true digit (5-fold)."""
    snapshot = trained.snapshot
    columns = sorted(name for name in snapshot if name.startswith("row_") and name[-2:] in ("_1", "_2"))
    points = np.column_stack([snapshot[name] for name in columns])
    assert points.shape == (1000, 2)
    return cross_val_score(KNeighborsClassifier(5), points, snapshot["true_labels"], cv=5).mean()


def test_pca_overlaps_the_digits_that_tsne_separates():
    assert _neighbour_agreement(train("maps", "PCA")) < 0.7  # measured 0.58
    assert _neighbour_agreement(train("maps", "t-SNE")) > 0.9  # 0.97


@pytest.mark.slow
def test_umap_separates_the_digits_too():
    assert _neighbour_agreement(train("maps", "UMAP")) > 0.9  # measured 0.98
