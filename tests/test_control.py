"""Pause, step, play and hyperparameter changes while a run trains: through the store, with real workers."""

import os
import time

import pytest

from tests.test_worker import executor, wait_for  # noqa: F401  (executor is a fixture)
from unsup_core.algorithms import get_algorithm
from unsup_core.config import ConfigError
from unsup_core.datasets import load_dataset
from unsup_core.runs.control import RunStateChange, check_change
from unsup_core.runs.executor import RunHandle
from unsup_core.runs.loop import run_loop
from unsup_core.runs.spec import make_spec
from unsup_core.runs.worker import StopFlags, StoreRecorder
from unsup_core.settings import QueueLimits
from unsup_core.viz.curves import mark_changes, metric_curves


def vae_spec(steps):
    return make_spec("vae", "digits", {"hidden_dim": 32, "eval_every": 0}, steps=steps)


def held_at(store, run_id, step):
    """Wait until the worker holds at exactly ``step``."""
    wait_for(lambda: store.control_state(run_id).held_step == step, timeout=60)


def last_metric_step(store, run_id):
    return int(store.read_metrics(run_id)["loss"][0][-1])


def checkpoint_lr(store, run_id):
    return store.load_checkpoint(run_id)["state"]["optimizer"]["param_groups"][0]["lr"]


def test_a_paused_run_takes_exactly_the_steps_it_is_given_then_plays_to_done(store, executor):
    run_id = store.create_run(vae_spec(steps=200))
    store.request_pause(run_id)  # paused while queued: it holds before its first step
    executor.start(run_id)
    held_at(store, run_id, 0)
    store.request_steps(run_id, 10, from_step=0)
    store.request_steps(run_id, 10, from_step=0)  # the same click delivered twice: still 10 steps
    held_at(store, run_id, 10)
    assert store.get_run(run_id).step == 10 and last_metric_step(store, run_id) == 10
    # The worker applies a change while it holds; that it did proves it polled, and it did not step.
    store.set_hyperparameter(run_id, "lr", 3e-4)
    wait_for(lambda: store.applied_changes(run_id))
    assert [(c.name, c.value, c.step) for c in store.applied_changes(run_id)] == [("lr", 3e-4, 10)]
    assert store.get_run(run_id).step == 10 and last_metric_step(store, run_id) == 10
    assert checkpoint_lr(store, run_id) == pytest.approx(3e-4)  # in the optimizer, checkpointed at once
    store.request_steps(run_id, 1)
    held_at(store, run_id, 11)
    store.request_play(run_id)
    run = RunHandle(store, run_id).wait(timeout=60)
    assert run.status == "done" and run.step == 200, run.error
    assert checkpoint_lr(store, run_id) == pytest.approx(3e-4)


def test_pause_a_playing_run_cancel_it_paused_and_resume_with_the_changed_lr(store, executor):
    run_id = executor.submit(vae_spec(steps=1_000_000)).run_id
    wait_for(lambda: store.get_run(run_id).step > 0, timeout=60)
    store.request_pause(run_id)
    wait_for(lambda: store.control_state(run_id).held_step is not None, timeout=30)
    held = store.control_state(run_id).held_step
    assert store.get_run(run_id).step == held and last_metric_step(store, run_id) == held
    assert store.get_run(run_id).status == "running"  # it keeps its slot
    store.set_hyperparameter(run_id, "lr", 2e-4)
    wait_for(lambda: store.applied_changes(run_id))
    assert store.get_run(run_id).step == held

    asked = time.monotonic()
    executor.cancel(run_id)  # cancel still works while paused
    run = RunHandle(store, run_id).wait(timeout=10)
    assert run.status == "cancelled" and run.step == held and time.monotonic() - asked < 3
    assert checkpoint_lr(store, run_id) == pytest.approx(2e-4)

    executor.resume(run_id)  # a resumed run plays, with the lr it had
    wait_for(lambda: store.get_run(run_id).step > held + 5, timeout=60)
    store.request_pause(run_id)
    wait_for(lambda: store.control_state(run_id).held_step is not None, timeout=30)
    assert checkpoint_lr(store, run_id) == pytest.approx(2e-4)
    assert [(c.name, c.value, c.step) for c in store.applied_changes(run_id)] == [("lr", 2e-4, held)]
    executor.cancel(run_id)
    RunHandle(store, run_id).wait(timeout=10)


def _in_process(store, algorithm, dataset, config, steps):
    """A run trained by the loop in this process (no worker), returning (run id, algorithm)."""
    spec = make_spec(algorithm, dataset, config, steps=steps)
    run_id = store.create_run(spec)
    assert store.claim_slot(run_id, os.getpid(), QueueLimits(cpu=8, cuda=1)) == "claimed"
    cls = get_algorithm(algorithm)
    model = cls(cls.build_config(spec.config))
    model.planned_steps = steps
    model.setup(load_dataset(dataset), device="cpu", seed=0)
    return run_id, model


def test_a_gan_changes_each_networks_learning_rate_on_its_own(store):
    run_id, gan = _in_process(store, "gan", "ring8", {"eval_every": 0}, steps=3)
    store.set_hyperparameter(run_id, "lr_discriminator", 5e-4)
    run_loop(gan, 3, StoreRecorder(store, run_id, StopFlags()))
    assert [group["lr"] for group in gan.discriminator_optimizer.param_groups] == [5e-4]
    assert [group["lr"] for group in gan.generator_optimizer.param_groups] == [1e-3]
    assert store.applied_changes(run_id)[0].step == 0
    state = store.load_checkpoint(run_id)["state"]
    assert state["discriminator_optimizer"]["param_groups"][0]["lr"] == 5e-4
    assert state["generator_optimizer"]["param_groups"][0]["lr"] == 1e-3
    assert [a.name for a in get_algorithm("wgan_gp").adjustables] == ["lr_generator", "lr_critic"]


def test_a_soms_change_rescales_its_schedule_and_survives_a_checkpoint(store):
    config = {"rows": 4, "cols": 4, "lr_decay": "asymptotic"}  # starts at 0.5
    (_, som), (_, unchanged) = (_in_process(store, "som", "blobs", config, steps=10) for _ in range(2))
    som.step(), unchanged.step()
    som.adjust("lr", 0.05)
    assert som.step()["learning_rate"] == pytest.approx(unchanged.step()["learning_rate"] / 10)  # same decay
    _, resumed = _in_process(store, "som", "blobs", config, steps=10)
    resumed.load_state_dict(som.state_dict())
    assert resumed.som.learning_rate == 0.05


@pytest.mark.parametrize("name, value, message", [
    ("momentum", 0.9, "vae cannot change 'momentum' while it trains; it can change: lr"),
    ("lr", 5.0, r"lr=5.0 is not allowed: give a number from 1e-05 to 0.1"),
    ("lr", "fast", "lr=fast is not allowed"),
    ("lr", True, "lr=True is not allowed"),
    ("lr", float("nan"), "is not allowed"),
])
def test_a_change_is_checked_against_the_algorithms_declared_range(name, value, message):
    with pytest.raises(ConfigError, match=message):
        check_change("vae", name, value)


def test_requests_are_refused_for_ended_runs_and_bad_step_counts(store):
    run_id = store.create_run(vae_spec(steps=20))
    with pytest.raises(RunStateChange, match="from 1 to"):
        store.request_steps(run_id, 0)
    with pytest.raises(RunStateChange, match="from_step must be a whole number"):
        store.request_steps(run_id, 1, from_step=-1)
    with pytest.raises(ConfigError, match="it can change: nothing"):
        store.set_hyperparameter(store.create_run(make_spec("kmeans", "blobs", {})), "lr", 0.1)
    store.set_hyperparameter(run_id, "lr", 1e-3)
    store.set_hyperparameter(run_id, "lr", 2e-3)  # replaces the request not yet applied
    assert store.control_state(run_id).pending == {"lr": 2e-3}
    store.finish(run_id, "cancelled")
    for request, args in (("request_pause", ()), ("request_play", ()), ("request_steps", (5,)),
                          ("set_hyperparameter", ("lr", 1e-3))):
        with pytest.raises(RunStateChange, match="only a queued or running run"):
            getattr(store, request)(run_id, *args)


def test_changes_are_marked_on_every_curve_over_steps():
    figure = metric_curves({"loss": ([1, 2, 3], [3.0, 2.0, 1.0])}, "Loss")
    mark_changes(figure, [(2, "lr_generator", 2e-4), (2, "lr_discriminator", 1e-4)])
    assert [shape.x0 for shape in figure.layout.shapes] == [2]
    assert figure.layout.annotations[-1].text == "lr_generator 0.0002, lr_discriminator 0.0001"
    other = metric_curves({"loss": ([1], [1.0])}, "Loss")
    other.update_layout(xaxis_title="k")
    assert not mark_changes(other, [(1, "lr", 0.1)]).layout.shapes


def test_the_cli_pauses_steps_plays_and_sets(store, capsys):
    from unsup_core.cli import main

    run_id = store.create_run(vae_spec(steps=20))
    assert main(["pause", run_id]) == 0 and store.control_state(run_id).paused
    assert main(["step", run_id, "5"]) == 0 and store.control_state(run_id).hold_at == 5
    assert main(["step", run_id, "5"]) == 0 and store.control_state(run_id).hold_at == 10  # on from there
    assert "trains on to step 10, then holds" in capsys.readouterr().out
    assert main(["play", run_id]) == 0 and not store.control_state(run_id).paused
    assert main(["set", run_id, "lr=0.0003"]) == 0
    assert store.control_state(run_id).pending == {"lr": 3e-4}
    assert main(["set", run_id, "lr=9"]) == 2
    assert "lr=9 is not allowed" in capsys.readouterr().err
    assert store.applied_changes(run_id) == []


def test_the_run_page_pauses_steps_changes_the_lr_and_marks_it_on_the_curves(lab_home, store, monkeypatch):
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    run_id = store.create_run(vae_spec(steps=100))
    store.claim_slot(run_id, os.getpid(), QueueLimits(cpu=8, cuda=1))  # "running", its worker alive
    store.log_metrics(run_id, [("loss", step, 1.0 / step) for step in range(1, 6)], step=5)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.switch_page("pages/run.py")
    at.query_params["run"] = run_id
    at.run()

    def button(label):
        return next(b for b in at.button if b.label == label)

    button("Pause training").click().run()
    assert store.control_state(run_id).paused and button("Continue training")
    assert any("keeps its device slot" in caption.value for caption in at.caption)
    at.number_input(key=f"step.count.{run_id}").set_value(7)
    button("Step").click().run()
    assert store.control_state(run_id).hold_at == 5 + 7  # from the step the page showed
    button("Step").click().run()  # the same page's click again (the worker has not moved): same step
    assert store.control_state(run_id).hold_at == 5 + 7
    at.number_input(key=f"adjust.{run_id}.lr").set_value(3e-4)
    button("Apply").click().run()
    assert store.control_state(run_id).pending == {"lr": 3e-4}

    store.record_changes_applied(run_id, store.take_control(run_id).changes, 5)  # what the worker does
    store.set_held_step(run_id, 5)
    at.run()
    assert any("paused** at step 5" in markdown.value for markdown in at.markdown)
    loss = next(spec for spec in (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
                if spec["layout"].get("xaxis", {}).get("title", {}).get("text") == "step")
    assert [shape["x0"] for shape in loss["layout"]["shapes"]] == [5]
    assert [note["text"] for note in loss["layout"]["annotations"]] == ["lr 0.0003"]
    assert at.number_input(key=f"adjust.{run_id}.lr").value == 3e-4
