"""Fast page logic with Streamlit's AppTest (no browser, timers never fire)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.algorithms import list_algorithms
from unsup_core.algorithms.catalogue import menu_label
from unsup_core.runs.spec import make_spec

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60  # the first script run imports torch


@pytest.fixture
def app(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/train.py")
    return at


def test_home_offers_three_ways_in_and_explains_every_model(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert {"Learn how a model works", "Cluster my own data", "Run a class"} <= {h.value for h in at.subheader}
    titles = [expander.label for expander in at.expander]
    assert all(any(title.startswith(f"{cls.title}:") for title in titles) for cls in list_algorithms())


def test_the_warm_worker_setting_is_read_when_the_services_start_not_at_import(app, lab_home, monkeypatch):
    from pages import services  # imported long before this test's setting: at collection, as in a full run

    at = app.run()
    assert not at.exception
    assert services.executor().warm_workers == 0  # the page's own executor, for this test's run store
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "2")
    services._services.clear()
    assert services.executor().warm_workers == 2
    services.executor().shutdown()


@pytest.mark.parametrize("variable", ["UNSUP_LAB_WARM_WORKERS", "UNSUP_LAB_LOGIN_MAX_FAILURES"])
def test_a_setting_that_is_not_a_number_is_one_sentence_on_the_page(app, monkeypatch, variable):
    monkeypatch.setenv(variable, "many")
    at = app.run()
    assert not at.exception
    assert [error.value for error in at.error] == [f"{variable}='many' must be a whole number"]


def _selectbox(at, label):
    return next(box for box in at.selectbox if box.label == label)


def test_train_page_offers_only_algorithms_that_fit_the_dataset(app):
    at = app.run()
    assert not at.exception
    assert _selectbox(at, "Dataset").value == "digits"
    def offered() -> set[str]:
        labels = _selectbox(at, "Algorithm").options  # shown by family and readable name
        return {cls.name for cls in list_algorithms() if menu_label(cls) in labels}

    assert {"kmeans", "vae", "som", "dcgan", "wgan_gp", "pixelcnn"} <= offered()
    assert offered() == {cls.name for cls in list_algorithms() if "images" in cls.accepts}
    assert "Generative models · Variational autoencoder (VAE)" in _selectbox(at, "Algorithm").options
    _selectbox(at, "Dataset").select("iris").run()
    assert {"kmeans", "som"} <= offered() and "vae" not in offered()
    assert offered() == {cls.name for cls in list_algorithms() if "table" in cls.accepts}
    _selectbox(at, "Dataset").select("ring8").run()
    assert {"kmeans", "gan", "wgan_gp"} <= offered() and "dcgan" not in offered()
    assert offered() == {cls.name for cls in list_algorithms() if "points2d" in cls.accepts}


def test_the_form_is_built_from_the_algorithm_config(app):
    at = app.run()
    _selectbox(at, "Algorithm").select("vae").run()
    labels = {widget.label for widget in at.number_input}
    assert {"latent dim", "hidden dim", "learning rate", "batch size", "beta", "steps", "seed"} <= labels
    latent = next(w for w in at.number_input if w.label == "latent dim")
    assert (latent.value, latent.min, latent.max) == (2, 1, 128)
    assert _selectbox(at, "likelihood").options == ["bernoulli", "gaussian"]


def test_pressing_train_starts_a_run_in_the_store(app, store):
    at = app.run()
    _selectbox(at, "Dataset").select("blobs").run()
    _selectbox(at, "Algorithm").select("kmeans").run()
    next(w for w in at.number_input if w.label == "n clusters").set_value(4)
    next(b for b in at.button if b.label == "Train").click().run()
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0].algorithm == "kmeans" and runs[0].spec.config["n_clusters"] == 4
    assert runs[0].spec.dataset == "blobs"


def test_run_page_explains_an_unknown_run(app):
    at = app.run()
    at.switch_page("pages/run.py")
    at.query_params["run"] = "missing-run"
    at.run()
    assert any("no run with id 'missing-run'" in error.value for error in at.error)


def test_runs_page_lists_runs(app, store):
    run_id = store.create_run(make_spec("kmeans", "iris", steps=5))
    at = app.run()
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert run_id in set(table["id"]) and table.loc[table["id"] == run_id, "status"].item() == "queued"


@pytest.mark.parametrize("shared", [False, True])
def test_dataset_option_widgets_carry_the_declared_bounds(app, monkeypatch, shared):
    if shared:
        monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    at = app.run()
    _selectbox(at, "Dataset").select("moons").run()
    n_samples, noise = at.number_input(key="dataset.moons.n_samples"), at.number_input(key="dataset.moons.noise")
    assert (n_samples.min, n_samples.max, noise.min, noise.max) == (10, 200_000, 0.0, 5.0)
    _selectbox(at, "Dataset").select("mnist").run()
    assert not at.exception
    assert at.number_input(key="dataset.mnist.limit").max == 70_000
    assert _selectbox(at, "split").options == ["train", "test"]
    path_boxes = [box for box in at.text_input if box.key == "dataset.mnist.path"]
    assert len(path_boxes) == (0 if shared else 1)  # a shared server reads only its own folder
