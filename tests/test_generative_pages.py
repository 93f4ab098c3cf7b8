"""The run page's timeline, with Streamlit's AppTest (no browser)."""

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
# A snapshot after each step, however long it takes.
EVERY_STEP = LoopSettings(snapshot_min_interval=0.0, snapshot_budget=float("inf"))


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


def _timeline(at):
    return next(slider for slider in at.select_slider if slider.label == "Snapshot at step")


def _step_markers(at) -> set[float]:
    """Where the dotted 'shown step' line sits on each curve over steps."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {shape["x0"] for spec in specs for shape in spec["layout"].get("shapes", [])
            if spec["layout"].get("xaxis", {}).get("title", {}).get("text") == "step"}


def test_one_timeline_drives_every_view_and_marks_the_curves(run_page, store):
    run_id = finished_run(store, "dcgan", "digits", 6, {"eval_every": 0})
    steps = store.snapshot_steps(run_id)
    assert len(steps) >= 6
    at = run_page(run_id)
    assert not at.exception
    slider = _timeline(at)
    assert slider.value == steps[-1]
    assert f"Samples from fixed noise at step {steps[-1]}" in chart_titles(at)
    assert _step_markers(at) == {steps[-1]}
    slider.set_value(steps[0]).run()
    titles = chart_titles(at)
    assert f"Samples from fixed noise at step {steps[0]}" in titles
    assert not any(f"at step {steps[-1]}" in title for title in titles)  # every snapshot view moved together
    assert _step_markers(at) == {steps[0]}
    at.run()
    assert _timeline(at).value == steps[0]  # a refresh does not jump back


def test_play_steps_through_the_snapshots(run_page, store):
    run_id = finished_run(store, "gan", "ring8", 5, {})
    steps = store.snapshot_steps(run_id)
    at = run_page(run_id)
    next(button for button in at.button if button.label == "Play").click().run()
    assert _timeline(at).value == steps[0]  # from the start, being at the end
    seen = [steps[0]]
    for _ in range(len(steps)):
        at.run()  # what the play timer does
        seen.append(_timeline(at).value)
    assert seen[:len(steps)] == steps and seen[-1] == steps[-1]
    assert any(button.label == "Play" for button in at.button)  # it stopped at the end


def test_a_pixelcnn_run_offers_the_pixel_by_pixel_player(run_page, store):
    run_id = finished_run(store, "pixelcnn", "digits", 2, {"eval_every": 0, "filters": 8, "n_blocks": 1})
    at = run_page(run_id)
    assert not at.exception
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    player = next(spec for spec in specs if "Sampling pixel by pixel" in spec["layout"]["title"]["text"])
    assert len(player["frames"]) == 65 and player["layout"]["updatemenus"][0]["buttons"][0]["label"] == "Play"
