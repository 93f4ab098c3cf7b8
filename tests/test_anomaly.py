"""Anomaly detection: planted anomalies get the top scores; the views, the threshold slider and the export."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from tests.test_cli import cli
from tests.test_generative_pages import finished_run, run_page  # noqa: F401  (run_page is a fixture)
from unsup_core.algorithms import get_algorithm
from unsup_core.analysis.anomaly import (average_precision, detection_at, precision_at_k, planted_anomalies,
                                         scores_table)
from unsup_core.datasets.uploads import import_file
from unsup_core.datasets import load_dataset
from unsup_core.snapshots import OutlierSnapshot
from unsup_core.viz.anomaly_views import score_panels
from unsup_core.viz.panels import RunView, build_panels


def build(name, data, steps=1, **config):
    cls = get_algorithm(name)
    algorithm = cls(cls.build_config(config))
    algorithm.setup(data, device="cpu", seed=0)
    values = [algorithm.step() for _ in range(steps)]
    return algorithm, values


def kind_precision(scores, kinds, kind):
    """precision@k for one kind of planted anomaly, the other kinds left out."""
    keep = (kinds == 0) | (kinds == kind)
    return precision_at_k(scores[keep], kinds[keep] == kind)


def test_average_precision_agrees_with_scikit_learn_also_with_ties():
    rng = np.random.default_rng(0)
    planted = rng.random(300) < 0.1
    for scores in (rng.normal(size=300) + 2 * planted, np.round(rng.normal(size=300) + planted, 1)):
        assert average_precision(scores, planted) == pytest.approx(average_precision_score(planted, scores))


@pytest.mark.parametrize("method", ["isolation_forest", "lof"])
def test_far_points_get_the_top_scores(method):
    data = load_dataset("blobs_outliers")
    algorithm, (values,) = build("outliers", data, method=method)
    planted = planted_anomalies(data)
    assert planted.sum() == 30
    assert values["precision_at_k"] >= 0.95 and values["average_precision"] >= 0.95
    assert precision_at_k(algorithm.snapshot()["row_outlier_score"], planted) == values["precision_at_k"]


def test_isolation_forest_finds_the_planted_digits():
    data = load_dataset("digits_anomalies")
    _, (values,) = build("outliers", data)
    assert values["precision_at_k"] >= 0.9  # measured 0.98
    assert values["recall"] == 1.0  # share 0.05 > 3% planted: every one flagged


def test_the_autoencoder_learns_what_digits_look_like_and_finds_the_rotated_ones():
    data = load_dataset("digits_anomalies")
    kinds = data.factors["anomaly_kind"]
    algorithm, _ = build("autoencoder_outliers", data, steps=0)
    untrained = kind_precision(algorithm.reconstruction_errors(), kinds, 2)
    values = [algorithm.step() for _ in range(300)]
    trained = algorithm.reconstruction_errors()
    assert float(values[-1]["loss"]) < 0.5 * float(values[0]["loss"])
    assert untrained < 0.3 and kind_precision(trained, kinds, 2) >= 0.8  # measured 0.06 -> 1.0
    assert values[-1]["precision_at_k"] >= 0.9  # logged every eval_every steps; measured 0.98
    snapshot = algorithm.snapshot()
    assert snapshot["top_reconstructions"].shape == (12, 8, 8)
    assert kinds[snapshot["top_rows"][:12]].min() > 0  # the 12 worst rebuilt are all planted


def test_trimming_keeps_the_autoencoder_from_learning_the_anomalies():
    data = load_dataset("digits_anomalies")
    trimmed, _ = build("autoencoder_outliers", data, steps=1000)
    plain, _ = build("autoencoder_outliers", data, steps=1000, trimmed=False)
    planted = planted_anomalies(data)
    trimmed_precision = precision_at_k(trimmed.reconstruction_errors(), planted)
    plain_precision = precision_at_k(plain.reconstruction_errors(), planted)
    assert trimmed_precision >= 0.9 and trimmed_precision > plain_precision + 0.2  # measured 1.0 vs 0.6


def test_the_autoencoder_scores_an_uploaded_table(lab_home, tmp_path):
    # Rows on a 2-D plane in 6 columns; ten rows break the relations between columns while each of
    # their values stays in its column's usual range.
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(400, 2))
    values = latent @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(400, 6))
    broken = rng.choice(400, 10, replace=False)
    values[broken] = rng.permuted(values[broken], axis=0) * rng.choice([-1, 1], size=(10, 6))
    path = tmp_path / "sensors.csv"
    pd.DataFrame(values, columns=[f"s{i}" for i in range(6)]).to_csv(path, index=False)
    data = load_dataset("file", path=str(import_file(path)))
    algorithm, _ = build("autoencoder_outliers", data, steps=400, bottleneck=2)
    is_broken = np.isin(np.arange(400), broken)
    assert precision_at_k(algorithm.reconstruction_errors(), is_broken) >= 0.8


def test_views_split_the_histogram_and_grade_the_threshold():
    data = load_dataset("blobs_outliers")
    algorithm, _ = build("outliers", data)
    snapshot = algorithm.snapshot()
    keys = [panel.key for panel in build_panels(RunView("outliers", {}, snapshot, 1))]
    assert keys == ["outlier-map", "outlier-histogram", "outlier-precision-recall", "outlier-top"]
    planted = planted_anomalies(data)
    threshold = float(np.sort(snapshot["row_outlier_score"])[-31])  # the top 30 above it
    histogram, precision_recall = score_panels(OutlierSnapshot.from_arrays(snapshot), threshold)
    assert [trace.name for trace in histogram.figure.data] == ["normal", "planted anomaly"]
    assert len(histogram.figure.data[1].x) == 30
    marker = precision_recall.figure.data[1]
    detection = detection_at(snapshot["row_outlier_score"], planted, threshold)
    assert detection.flagged == 30 and (marker.x[0], marker.y[0]) == (detection.recall, detection.precision)
    assert "precision 1.00 (30 of 30 flagged rows are planted)" in precision_recall.caption


def test_most_anomalous_rows_are_images_for_images_and_a_table_for_tables():
    digits, _ = build("outliers", load_dataset("digits_anomalies"))
    top = build_panels(RunView("outliers", {}, digits.snapshot(), 1))[-1]
    assert top.key == "outlier-top" and top.figure.data[0].type == "image"
    wine, _ = build("outliers", load_dataset("wine"))
    top = build_panels(RunView("outliers", {}, wine.snapshot(), 1))[-1]
    table = top.figure.data[0]
    assert table.type == "table" and list(table.header.values[:2]) == ["row", "score"]
    assert int(table.cells.values[0][0]) == int(wine.snapshot()["top_rows"][0])


def test_the_export_has_the_scores_as_columns(lab_home, tmp_path):
    run = json.loads(cli("run", "outliers", "--dataset", "blobs_outliers", "--wait", "--json", check_code=0).stdout)
    assert run["status"] == "done" and run["metrics"]["precision_at_k"] >= 0.95
    out = tmp_path / "scored.csv"
    cli("export", run["id"], "--labels", str(out), check_code=0)
    exported = pd.read_csv(out)
    assert list(exported.columns) == ["x", "y", "label", "outlier_score", "is_outlier"]
    top30 = exported.nlargest(30, "outlier_score")
    assert (top30["label"] == "planted anomaly").mean() >= 0.95
    same = scores_table("blobs_outliers", {}, exported["outlier_score"].to_numpy(), 0.6)
    assert same["is_outlier"].tolist() == (exported["outlier_score"] > 0.6).astype(int).tolist()


def test_the_threshold_slider_regrades_the_planted_anomalies(run_page, store):  # noqa: F811
    run_id = finished_run(store, "outliers", "blobs_outliers", 1, {})
    at = run_page(run_id)
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Recall"] == "1.00" and float(metrics["Precision"]) < 0.7  # share 5% flags 52 for 30 planted
    scores = store.load_snapshot(run_id)[1]["row_outlier_score"]
    at.slider(key=f"anomaly.threshold.{run_id}").set_value(float(np.sort(scores)[-31])).run()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert (metrics["Flagged rows"], metrics["Precision"], metrics["Recall"]) == ("30", "1.00", "1.00")
    assert at.get("download_button")


def test_on_large_data_the_periodic_grading_uses_a_sample_and_snapshots_score_every_row(monkeypatch):
    from unsup_core.algorithms import autoencoder_outliers

    monkeypatch.setattr(autoencoder_outliers, "MAX_GRADED_ROWS", 900)
    data = load_dataset("digits_anomalies")
    algorithm, values = build("autoencoder_outliers", data, steps=300)
    assert len(algorithm.graded_rows) == 900
    graded = values[-1]
    assert graded["precision_at_k"] >= 0.8 and 0.5 * 90 < graded["n_outliers"] < 1.5 * 90  # 5% of 1,797 rows
    snapshot = algorithm.snapshot()
    assert snapshot["row_outlier_score"].shape == (1797,)
    assert precision_at_k(snapshot["row_outlier_score"], planted_anomalies(data)) >= 0.9
