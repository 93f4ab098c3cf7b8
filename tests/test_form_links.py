"""Train setups as links: round trips, and hostile query strings that must never crash or pass."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from unsup_core import form_links
from unsup_core.algorithms import list_algorithms
from unsup_core.config import describe
from unsup_core.datasets import get_entry
from unsup_core.form_links import FormLink, decode, encode, link_url
from unsup_core.runs.spec import make_spec

EXAMPLE = {"dataset": "moons", "algorithm": "kmeans", "n_clusters": "2", "steps": "50", "seed": "0",
           "hide": "n_clusters,seed"}


def test_the_readme_example_opens_that_setup_with_two_controls_hidden():
    decoded = decode(EXAMPLE)
    assert decoded.problem is None
    link = decoded.link
    assert (link.dataset, link.algorithm, link.config, link.steps, link.seed) == ("moons", "kmeans",
                                                                                    {"n_clusters": 2}, 50, 0)
    assert link.hidden == ("n_clusters", "seed") and link.fixed == ()
    assert link.spec() == make_spec("kmeans", "moons", {"n_clusters": 2}, steps=50, seed=0)


def test_every_value_type_round_trips_through_a_url():
    link = FormLink("moons", "gmm", {"n_components": 3, "covariance_type": "diag", "tol": 1e-05},
                    {"noise": 0.25, "n_samples": 500}, steps=40, seed=4_000_000_000, device="cpu",
                    hidden=("tol",), fixed=("dataset", "data.noise"))
    url = link_url("http://127.0.0.1:8501/train?old=1", link)
    assert url.startswith("http://127.0.0.1:8501/train?dataset=moons&algorithm=gmm&")
    decoded = decode(dict(parse_qsl(urlsplit(url).query)))
    assert decoded == form_links.DecodedLink(link)
    bools = FormLink("digits", "autoencoder_outliers", {"trimmed": False})
    assert decode(encode(bools)).link == bools


def test_no_config_field_is_named_like_a_run_key():
    for algorithm in list_algorithms():
        for spec in describe(algorithm.Config):
            assert spec.name not in form_links.RUN_KEYS + form_links.CONTROL_LIST_KEYS + form_links.IGNORED_KEYS
            assert not spec.name.startswith(form_links.DATA_PREFIX)


def test_no_parameters_is_no_link_and_no_message():
    assert decode({}) == form_links.DecodedLink(None)
    assert decode({"embed": "true"}) == form_links.DecodedLink(None)


@pytest.mark.parametrize("params, dropped", [
    ({"n_clusters": "abc"}, "n_clusters=`abc` (give an integer from 1 to 256)"),
    ({"n_clusters": "1e400"}, "n_clusters=`1e400`"),
    ({"n_clusters": "2.5"}, "n_clusters=`2.5`"),
    ({"n_clusters": "9999"}, "n_clusters=`9999`"),
    ({"tol": "nan"}, "tol=`nan`"),
    ({"init": "<script>"}, "init=an unreadable value (give one of k-means++, random)"),
    ({"steps": "0"}, "steps=`0`"),
    ({"steps": "-5"}, "steps=`-5`"),
    ({"seed": "-1"}, "seed=`-1`"),
    ({"seed": str(2**40)}, "seed="),
    ({"device": "tpu"}, "device=`tpu`"),
    ({"data.noise": "99"}, "data.noise=`99` (give a number from 0 to 5)"),
    ({"data.n_samples": "100000000"}, "data.n_samples="),
    ({"data.bogus": "1"}, "unknown dataset option `data.bogus`"),
    ({"learning_rate": "0.1"}, "unknown setting `learning_rate`"),  # another algorithm's field
    ({"![x](http://evil.example/a.png)": "1"}, "unknown setting an unreadable value"),
    ({"hide": "n_clusters,nothing"}, "no control named `nothing` to hide or fix"),
])
def test_a_bad_value_is_named_and_left_at_its_default(params, dropped):
    decoded = decode({"dataset": "moons", "algorithm": "kmeans", **params})
    assert decoded.link is not None and decoded.link.dataset == "moons"
    assert decoded.problem.startswith("Some of this link's values were left at their defaults: ")
    assert dropped in decoded.problem
    assert "http" not in decoded.problem and "<" not in decoded.problem  # nothing is echoed as markup
    decoded.link.spec()  # what remains is a valid run


def test_values_that_pass_stay_when_others_are_dropped():
    decoded = decode({"dataset": "moons", "algorithm": "kmeans", "n_clusters": "3", "tol": "oops",
                      "data.noise": "0.2", "steps": "lots", "hide": "seed"})
    assert decoded.link.config == {"n_clusters": 3} and decoded.link.dataset_options == {"noise": 0.2}
    assert decoded.link.steps is None and decoded.link.hidden == ("seed",)
    assert "tol=`oops`" in decoded.problem and "steps=`lots`" in decoded.problem


@pytest.mark.parametrize("params, message", [
    ({"dataset": "nope", "algorithm": "kmeans"}, "names no built-in dataset (`nope`)"),
    ({"algorithm": "kmeans"}, "names no built-in dataset"),
    ({"dataset": "file", "algorithm": "kmeans", "data.path": "/etc/passwd"}, "names no built-in dataset"),
    ({"dataset": "moons", "algorithm": "vae"}, "no algorithm that takes the moons dataset (`vae`)"),
    ({"dataset": "moons"}, "no algorithm that takes the moons dataset"),
    ({"dataset": "moons", "algorithm": "__import__('os')"}, "(an unreadable value)"),
    ({"dataset": "moons", "algorithm": "kmeans", "n_clusters": "9" * 10_000}, "too long"),
    ({f"key{index}": "1" for index in range(1000)}, "too long"),
])
def test_a_link_without_a_usable_dataset_and_algorithm_falls_back_to_the_defaults(params, message):
    decoded = decode(params)
    assert decoded.link is None and message in decoded.problem
    assert decoded.problem.endswith("so the form shows its defaults.")


def test_server_paths_never_come_from_a_link():
    assert "data.path" not in form_links.controls("kmeans", "mnist")
    problems = []
    assert form_links._option_values(get_entry("mnist"), {"data.path": "/etc"}, problems) == {}
    assert problems == ["unknown dataset option `data.path`"]
    # Without its files here, an MNIST link cannot run at all: the run's own check says why.
    decoded = decode({"dataset": "mnist", "algorithm": "kmeans", "data.path": "/etc"})
    assert decoded.link is None or decoded.link.dataset_options == {}


def test_repeated_keys_take_the_last_value_are_named_and_long_lists_are_bounded():
    decoded = decode({"dataset": ["digits", "moons"], "algorithm": ["kmeans"], "hide": ",".join(["seed"] * 50)})
    assert decoded.link.dataset == "moons" and decoded.link.hidden == ("seed",)
    assert decoded.problem == "This link gives `dataset` more than once: the last value is used."
    both = decode({"dataset": "moons", "algorithm": "kmeans", "n_clusters": ["2", "lots"]})  # the last is bad
    assert both.problem == ("Some of this link's values were left at their defaults: n_clusters=`lots` "
                            "(give an integer from 1 to 256). This link gives `n_clusters` more than once: "
                            "the last value is used.")
    assert decode({"dataset": "moons", "algorithm": ["kmeans"] * 300}).problem.startswith("This link is too long")
    assert decode({"dataset": ["moons", "moons"], "algorithm": "kmeans"}).problem is None  # the same twice: no harm
    many = decode({"dataset": "moons", "algorithm": "kmeans", **{f"x{index}": "1" for index in range(10)}})
    assert many.problem.endswith("; and 7 more.")


def test_hide_wins_over_fix_and_controls_name_the_whole_form():
    decoded = decode({"dataset": "moons", "algorithm": "kmeans", "hide": "seed,data.noise", "fix": "seed,algorithm"})
    assert decoded.link.hidden == ("seed", "data.noise") and decoded.link.fixed == ("algorithm",)
    assert decoded.link.is_locked("algorithm") and not decoded.link.is_locked("steps")
    assert form_links.controls("kmeans", "moons") == [
        "dataset", "data.n_samples", "data.noise", "data.seed", "algorithm", "n_clusters", "init", "tol",
        "scaling", "steps", "seed", "device"]
