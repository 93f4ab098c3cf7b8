"""The run page's timeline for generative runs, with Streamlit's AppTest (no browser)."""

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset
from unsup_core.runs.loop import LoopSettings, run_loop
from unsup_core.runs.spec import make_spec
from unsup_core.runs.worker import StopFlags, StoreRecorder
from unsup_core.settings import QueueLimits

APP = str(Path(__file__).resolve().parents[1] / "app.py")
EVERY_STEP = LoopSettings(snapshot_min_interval=0.0, snapshot_budget=1.0)  # a snapshot after each step


def finished_run(store, algorithm, dataset, steps, config):
    spec = make_spec(algorithm, dataset, config, steps=steps)
    run_id = store.create_run(spec)
    assert store.claim_slot(run_id, os.getpid(), QueueLimits(cpu=8, cuda=1)) == "claimed"
    algorithm_cls = get_algorithm(algorithm)
    model = algorithm_cls(algorithm_cls.build_config(spec.config))
    model.setup(load_dataset(dataset), device="cpu", seed=0)
    result = run_loop(model, steps, StoreRecorder(store, run_id, StopFlags()), settings=EVERY_STEP)
    store.finish(run_id, result.status)
    return run_id


def chart_titles(at):
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


@pytest.fixture
def run_page(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")

    def open_run(run_id):
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/run.py")
        at.query_params["run"] = run_id
        return at.run()

    return open_run


def test_the_timeline_slider_shows_the_samples_of_any_snapshot(run_page, store):
    run_id = finished_run(store, "dcgan", "digits", 6, {"eval_every": 0})
    steps = store.snapshot_steps(run_id)
    assert len(steps) >= 6
    at = run_page(run_id)
    assert not at.exception
    slider = at.select_slider(key=f"timeline.{run_id}")
    assert slider.value == steps[-1]
    assert f"Timeline: Samples from fixed noise at step {steps[-1]}" in chart_titles(at)
    slider.set_value(steps[0]).run()
    titles = chart_titles(at)
    assert f"Timeline: Samples from fixed noise at step {steps[0]}" in titles
    assert f"Samples from fixed noise at step {steps[-1]}" in titles  # the live view still shows the latest


def test_a_pixelcnn_run_offers_the_pixel_by_pixel_player(run_page, store):
    run_id = finished_run(store, "pixelcnn", "digits", 2, {"eval_every": 0, "filters": 8, "n_blocks": 1})
    at = run_page(run_id)
    assert not at.exception
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    player = next(spec for spec in specs if "Sampling pixel by pixel" in spec["layout"]["title"]["text"])
    assert len(player["frames"]) == 65 and player["layout"]["updatemenus"][0]["buttons"][0]["label"] == "Play"
