"""SOM runs end to end without a browser: real worker processes, the CLI, views and pages."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.runs.executor import LocalExecutor
from unsup_core.runs.spec import make_spec
from unsup_core.viz import RunView, build_panels

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def executor(store):
    executor = LocalExecutor(store)
    yield executor
    executor.shutdown()


@pytest.mark.parametrize("backend,dataset", [("batched", "digits"), ("minisom", "iris")])
def test_a_som_trains_in_a_worker_and_records_its_maps(store, executor, backend, dataset):
    spec = make_spec("som", dataset, {"backend": backend, "rows": 6, "cols": 7, "batch_size": 32}, steps=60)
    run = executor.submit(spec).wait(timeout=120)
    assert run.status == "done", run.error
    assert run.step == 60
    metrics = store.read_metrics(run.id)
    assert {"qe_batch", "te_batch", "qe", "te", "sigma", "learning_rate"} <= set(metrics)
    assert len(metrics["qe_batch"][0]) == 60 and metrics["qe"][1][-1] < metrics["qe"][1][0]
    step, snapshot = store.load_snapshot(run.id)
    assert step == 60 and snapshot["weights"].shape[0] == 42 and snapshot["umatrix"].shape == (42,)
    assert str(snapshot["topology"]) == "hexagonal" and "label_counts" in snapshot
    assert store.load_checkpoint(run.id)["state"]["som"]["n_updates"] == 60 * 32


def test_the_cli_runs_a_som(lab_home):
    result = subprocess.run([sys.executable, "-m", "unsup_core", "run", "som", "--dataset", "blobs", "--set",
                             "rows=5", "--set", "cols=5", "--steps", "50", "--wait"],
                            capture_output=True, text=True, cwd=ROOT, env=os.environ.copy(), timeout=120)
    assert result.returncode == 0, result.stderr
    described = json.loads(subprocess.run([sys.executable, "-m", "unsup_core", "algorithms", "--json"],
                                          capture_output=True, text=True, cwd=ROOT, timeout=120).stdout)
    som = next(a for a in described if a["name"] == "som")
    assert {f["name"] for f in som["config"]} >= {"backend", "rows", "cols", "topology", "neighbourhood", "sigma",
                                                  "learning_rate", "sigma_decay", "lr_decay", "init"}


def _snapshot(kind, topology="hexagonal", rows=4, cols=5, features=4, labels=True):
    from unsup_core.algorithms.som_grid import MapGrid

    grid = MapGrid(rows, cols, topology)
    k = rows * cols
    rng = np.random.default_rng(0)
    arrays = {"weights": rng.random((k, features)).astype(np.float32), "feature_mean": np.zeros(features),
              "feature_scale": np.ones(features), "grid_shape": np.array([rows, cols]),
              "topology": np.array(topology), "positions": grid.positions, "umatrix": rng.random(k),
              "hits": rng.integers(0, 5, k), "n_evaluated": np.array(40), "qe": np.array(1.0),
              "te": np.array(0.1), "marker_units": rng.integers(0, k, 40), "data_kind": np.array(kind),
              "feature_names": np.array([f"f{i}" for i in range(features)])}
    if labels:
        arrays["label_counts"] = rng.integers(0, 3, (k, 3))
        arrays["marker_labels"] = rng.integers(0, 3, 40)
        arrays["label_names"] = np.array(["a", "b", "c"])
    if kind == "images":
        arrays["image_shape"] = np.array([2, 2])
    return arrays


@pytest.mark.parametrize("topology", ["hexagonal", "rectangular"])
def test_som_views(topology):
    metrics = {name: (np.arange(1, 4), np.array([3.0, 2.0, 1.0]))
               for name in ("qe_batch", "qe", "te_batch", "te", "sigma", "learning_rate")}
    images = build_panels(RunView("som", metrics, _snapshot("images", topology), 3))
    assert [p.key for p in images] == ["qe", "te", "schedules", "u-matrix", "hit-map", "labels-on-map",
                                       "samples-on-map", "prototypes"]
    table = build_panels(RunView("som", {}, _snapshot("table", topology, labels=False), 3))
    assert [p.key for p in table] == ["u-matrix", "hit-map", "samples-on-map", "component-planes"]
    for panel in images + table:
        assert pio.to_json(panel.figure)
    u_matrix = images[3].figure
    if topology == "hexagonal":  # real hexagons: filled polygons of 6 corners, closed, one per unit
        polygons = [t for t in u_matrix.data if t.fill == "toself"]
        corners = sum(sum(v is not None for v in t.x) for t in polygons)
        assert corners == 20 * 7
    else:
        assert u_matrix.data[0].type == "heatmap" and np.asarray(u_matrix.data[0].z).shape == (4, 5)


def _selectbox(at, label):
    return next(box for box in at.selectbox if box.label == label)


@pytest.fixture
def app(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    return AppTest.from_file(APP, default_timeout=120)


def test_the_som_page_trains_a_map_and_clusters_it(app, store):
    at = app.run()
    at.switch_page("pages/som.py").run()
    assert not at.exception
    assert any("No maps yet" in info.value for info in at.info)
    _selectbox(at, "Dataset").select("iris").run()
    next(w for w in at.number_input if w.label == "rows").set_value(5)
    next(w for w in at.number_input if w.label == "steps").set_value(80)
    next(b for b in at.button if b.label == "Train").click().run()
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0].algorithm == "som" and runs[0].spec.config["rows"] == 5
    from unsup_core.runs.executor import RunHandle

    assert RunHandle(store, runs[0].id).wait(timeout=120).status == "done"
    at.run()
    assert not at.exception and at.query_params["run"] == runs[0].id
    # The picker is drawn once per page run: a status in its labels would go stale while a map trains.
    assert not any("(" in label for label in _selectbox(at, "Map").options)
    assert any("Status: **done**" in block.value for block in at.markdown)
    assert [s.value for s in at.subheader] == ["The map as a clustering"]
    before = at.dataframe[0].value
    assert before["units"].sum() == 5 * 12 and before["samples"].sum() == 150
    at.slider[0].set_value(2).run()
    assert len(at.dataframe[0].value) == 2


def test_the_run_page_of_a_som_run_has_the_clustering_tools(app, store, executor):
    run = executor.submit(make_spec("som", "digits", {"rows": 6, "cols": 6}, steps=30)).wait(timeout=120)
    at = app.run()
    at.switch_page("pages/run.py")
    at.query_params["run"] = run.id
    at.run()
    assert not at.exception
    assert "The map as a clustering" in [s.value for s in at.subheader]
    from pages.som_tools import export_csv

    step, arrays = store.load_snapshot(run.id)
    clusters = np.arange(36) % 3
    lines = export_csv(run, arrays, clusters).splitlines()
    assert lines[0] == "sample,neuron,row,col,cluster,label,label_name" and len(lines) == 1798


@pytest.mark.slow  # two real workers (18 s); resume itself is covered by the fault and CLI tests
def test_resuming_a_som_continues_its_schedule_and_a_finished_map_stays_finished(store, executor):
    import time

    from unsup_core.runs.executor import RunHandle

    # minisom, one sample at a time: slow enough to cancel part way.
    spec = make_spec("som", "digits", {"backend": "minisom", "rows": 5, "cols": 5, "batch_size": 32}, steps=400)
    run_id = executor.submit(spec).run_id
    for _ in range(1200):
        if store.get_run(run_id).step >= 20:
            break
        time.sleep(0.02)
    executor.cancel(run_id)
    cancelled = RunHandle(store, run_id).wait(timeout=30)
    assert cancelled.status == "cancelled" and cancelled.step < 400
    resumed = executor.resume(run_id).wait(timeout=120)  # at once: within the cancel's kill grace
    assert resumed.status == "done" and resumed.step == 400
    sigma_steps, sigma = store.read_metrics(run_id)["sigma"]
    assert np.all(np.diff(sigma[np.argsort(sigma_steps)]) <= 1e-9) and sigma[-1] == pytest.approx(1.0, abs=0.02)
    # Given more steps, a map that has run its schedule is finished at once.
    again = executor.resume(run_id, steps=800).wait(timeout=120)
    assert again.status == "done" and again.step == 400
