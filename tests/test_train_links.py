"""The Train page and its link, with Streamlit's AppTest: a link fills the form, locks what it names,
starts exactly its run; the address follows the form; hostile links fall back to the defaults."""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.form_links import encode
from unsup_core.lessons import LESSONS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60  # the first script run imports torch


@pytest.fixture
def train_page(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")

    def open_with(params: dict) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.switch_page("pages/train.py")
        at.query_params.update(params)
        return at.run()

    return open_with


def _keys(at) -> set[str]:
    return {widget.key for kind in ("number_input", "selectbox", "checkbox") for widget in getattr(at, kind)}


def test_a_link_fills_the_form_locks_its_controls_and_starts_exactly_its_run(train_page, store):
    at = train_page({"dataset": "moons", "algorithm": "kmeans", "n_clusters": "2", "init": "random",
                     "data.noise": "0.2", "steps": "50", "seed": "7", "hide": "n_clusters,seed,data.noise",
                     "fix": "init"})
    assert not at.exception and not at.warning
    assert at.selectbox(key="train.dataset").value == "moons"
    assert {"config.kmeans.n_clusters", "train.seed", "dataset.moons.noise"}.isdisjoint(_keys(at))
    assert {"config.kmeans.tol", "steps.kmeans", "dataset.moons.n_samples", "dataset.moons.seed"} <= _keys(at)
    assert at.selectbox(key="config.kmeans.init").value == "random" and at.selectbox(key="config.kmeans.init").disabled
    assert at.number_input(key="steps.kmeans").value == 50
    next(button for button in at.button if button.label == "Train").click().run()
    (run,) = store.list_runs()
    assert (run.spec.algorithm, run.spec.dataset, run.spec.steps, run.spec.seed) == ("kmeans", "moons", 50, 7)
    assert run.spec.config["n_clusters"] == 2 and run.spec.config["init"] == "random"
    assert run.spec.dataset_options["noise"] == 0.2


def test_the_address_follows_the_form_and_keeps_only_what_differs_from_the_defaults(train_page):
    at = train_page({})
    at.selectbox(key="train.dataset").select("blobs").run()
    at.number_input(key="config.kmeans.n_clusters").set_value(3)
    next(button for button in at.button if button.label == "Update link").click().run()
    assert at.query_params["dataset"] == "blobs" and at.query_params["algorithm"] == "kmeans"
    assert at.query_params["n_clusters"] == "3" and "tol" not in at.query_params
    assert "?dataset=blobs&algorithm=kmeans&n_clusters=3&steps=100&seed=0" in at.code[0].value
    at.multiselect(key="train.link_hide").select("seed").run()
    assert at.code[0].value.endswith("&hide=seed") and "hide" not in at.query_params


@pytest.mark.parametrize("params, sentence", [
    ({"dataset": "moons", "algorithm": "kmeans", "n_clusters": "lots", "seed": "-3"},
     "Some of this link's values were left at their defaults: n_clusters=`lots`"),
    ({"dataset": "x" * 5000}, "This link is too long"),
    ({"dataset": "moons", "algorithm": "vae"}, "no algorithm that takes the moons dataset"),
    ({"dataset": "moons", "algorithm": "kmeans", "n_clusters": ["2", "5"]},
     "This link gives `n_clusters` more than once: the last value is used."),
])
def test_a_hostile_link_gives_one_sentence_and_the_defaults(train_page, params, sentence):
    at = train_page(params)
    assert not at.exception
    (warning,) = at.warning
    assert sentence in warning.value
    if params.get("n_clusters"):  # left at its default, or the last of a repeated key
        assert at.number_input(key="config.kmeans.n_clusters").value == (5 if isinstance(params["n_clusters"], list) else 8)
        assert at.number_input(key="train.seed").value == 0
    else:
        assert at.selectbox(key="train.dataset").value == "digits"


def test_show_every_control_brings_hidden_controls_back(train_page):
    at = train_page({"dataset": "moons", "algorithm": "kmeans", "n_clusters": "2", "hide": "n_clusters"})
    assert "config.kmeans.n_clusters" not in _keys(at)
    next(button for button in at.button if button.label == "Show every control").click().run()
    assert at.number_input(key="config.kmeans.n_clusters").value == 2


def test_home_lists_every_lesson_with_its_links(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert {lesson.title for lesson in LESSONS} <= {expander.label for expander in at.expander}
    opened = {link.proto.query_string for link in at.get("page_link") if link.proto.page == "train"}
    assert {urlencode(encode(link.form_link())) for lesson in LESSONS for link in lesson.links} <= opened
