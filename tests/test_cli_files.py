"""The command line on a user's file: inspect, run, show, suggest, export, and clear refusals."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import cli, cli_in_process


@pytest.fixture
def flowers(tmp_path):
    """Iris written the European way: semicolons, decimal commas, Latin-1, a note in one row."""
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    table = iris.frame.drop(columns="target")
    table.columns = ["Kelchblattlänge", "Kelchblattbreite", "Blütenblattlänge", "Blütenblattbreite"]
    table["Art"] = iris.target.map(dict(enumerate(iris.target_names)))
    path = tmp_path / "blumen.csv"
    table.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    return path


def test_inspect_reports_what_was_read_and_assumed(lab_home, flowers):
    report = json.loads(cli("inspect", str(flowers), "--json", check_code=0).stdout)
    assert (report["n_rows"], report["n_columns"], report["delimiter"], report["decimal"]) == (150, 5, ";", ",")
    assert report["encoding"] in ("cp1252", "latin-1")
    assert {c["name"]: c["kind"] for c in report["columns"]}["Art"] == "categorical"
    assert report["preview"][0]["Kelchblattlänge"] == 5.1
    text = cli("inspect", str(flowers), check_code=0).stdout
    assert "delimiter: semicolon" in text and "Blütenblattbreite" in text and "first 5 rows" in text


def test_run_on_a_file_with_a_label_then_show_and_export(lab_home, flowers, tmp_path):
    result = cli("run", "kmeans", "--dataset", str(flowers), "--features",
                 "Kelchblattlänge,Kelchblattbreite,Blütenblattlänge,Blütenblattbreite", "--label", "Art",
                 "--set", "n_clusters=3", "--wait", "--json", check_code=0)
    run = json.loads(result.stdout)
    assert run["status"] == "done" and run["dataset"] == "file"
    assert run["dataset_options"]["label"] == "Art" and run["dataset_options"]["scaling"] == "standard"
    stored = run["dataset_options"]["path"]
    assert stored.startswith(str(lab_home)) and stored.endswith("blumen.csv")
    shown = json.loads(cli("show", run["id"], "--json", check_code=0).stdout)
    assert shown["metrics"]["ari"] > 0.5 and 0 < shown["metrics"]["nmi"] <= 1

    embedding = json.loads(cli("run", "embedding", "--dataset", str(flowers), "--features",
                               "Kelchblattlänge,Kelchblattbreite,Blütenblattlänge,Blütenblattbreite",
                               "--label", "Art", "--wait", "--json", check_code=0).stdout)
    out = tmp_path / "labelled.csv"
    message = cli("export", run["id"], "--labels", str(out), "--with", embedding["id"], check_code=0).stdout
    assert "wrote 150 rows with cluster, pca_1, pca_2" in message
    labelled = pd.read_csv(out)
    assert len(labelled) == 150 and list(labelled.columns)[-3:] == ["cluster", "pca_1", "pca_2"]
    assert set(labelled["cluster"]) == {0, 1, 2} and labelled["Art"].iloc[0] == "setosa"
    assert labelled["Kelchblattlänge"].iloc[0] == 5.1


def test_run_without_features_records_the_columns_it_chose(lab_home, flowers):
    run = json.loads(cli("run", "kmeans", "--dataset", str(flowers), "--label", "Art", "--set", "n_clusters=3",
                         "--dataset-option", "scaling=robust", "--json", "--wait", check_code=0).stdout)
    assert run["dataset_options"]["features"] == ["Kelchblattlänge", "Kelchblattbreite", "Blütenblattlänge",
                                                  "Blütenblattbreite"]
    assert run["dataset_options"]["scaling"] == "robust"


def test_suggest_json_carries_a_leaderboard_and_a_recommendation_that_run_repeats(lab_home, tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0]])
    points = centres.repeat(60, axis=0) + rng.normal(0, 0.7, (180, 3))
    table = pd.DataFrame(points, columns=["a", "b", "c"])
    table.insert(0, "id", np.arange(1, 181))
    table["year"], table["site"] = rng.integers(2015, 2020, 180), rng.choice(["x", "y"], 180)
    path = tmp_path / "three.csv"
    table.to_csv(path, index=False)
    result = json.loads(cli("suggest", str(path), "--set", "k_max=5", "--json", check_code=0).stdout)
    recommendation = result["recommendation"]
    assert recommendation["k"] == 3 and recommendation["reason"].endswith(".")
    assert recommendation["dataset_options"]["features"] == ["a", "b", "c"]
    assert {"scaling", "log_columns", "whiten"} <= set(recommendation["dataset_options"])
    assert result["leaderboard"][0]["title"] == recommendation["title"]
    assert all({"algorithm", "k", "config", "scores", "preparation"} <= set(row) for row in result["leaderboard"])
    options = recommendation["dataset_options"]
    run = json.loads(cli("run", recommendation["algorithm"], "--dataset", str(path), "--wait", "--json",
                         "--features", ",".join(options["features"]),
                         *[f"--set={key}={value}" for key, value in recommendation["config"].items()],
                         *[f"--dataset-option={key}={','.join(value) if isinstance(value, list) else value}"
                           for key, value in options.items() if key not in ("features", "label", "path")],
                         check_code=0).stdout)
    assert run["status"] == "done" and run["metrics"]["n_clusters_found"] == 3
    text = cli("suggest", str(path), "--set", "k_max=4", check_code=0).stdout
    assert "recommended: " in text and "k = 3" in text


@pytest.mark.parametrize("make_file, args, message", [
    (lambda p: p.write_bytes(np.random.default_rng(1).bytes(3000)), ["inspect"], "binary data"),
    (lambda p: p.write_text("x,y\n1,2\n"), ["run", "kmeans", "--dataset"], "only 1 row left to cluster"),
    (lambda p: p.write_text("x,y\n1,2\n3,4\n"), ["run", "kmeans", "--label", "z", "--dataset"], "no column 'z'"),
    (lambda p: p.write_text("x,y\n1,2\n3,4\n"), ["run", "vae", "--dataset"], "vae does not accept table data"),
])
def test_bad_files_exit_2_with_one_line(lab_home, tmp_path, make_file, args, message):
    path = tmp_path / "input.csv"
    make_file(path)
    result = cli_in_process(*args, str(path))
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_export_refuses_runs_without_row_results_and_bad_targets(lab_home, tmp_path):
    run = json.loads(cli("run", "kmeans", "--dataset", "blobs", "--set", "n_clusters=4", "--wait", "--json",
                         check_code=0).stdout)
    assert "--labels must end in .csv or .parquet" in cli_in_process("export", run["id"], "--labels", "x.txt").stderr
    out = tmp_path / "blobs.parquet"
    cli("export", run["id"], "--labels", str(out), check_code=0)
    exported = pd.read_parquet(out)
    assert list(exported.columns) == ["x", "y", "label", "cluster"] and len(exported) == 1000
    refused = cli_in_process("run", "kmeans", "--dataset", "blobs", "--features", "x")
    assert refused.returncode == 2 and "--features and --label choose columns of a file" in refused.stderr
