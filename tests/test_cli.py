"""The CLI contract, through real `python -m unsup_core` processes."""

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, check_code=None):
    result = subprocess.run([sys.executable, "-m", "unsup_core", *args], capture_output=True, text=True,
                            cwd=ROOT, env=os.environ.copy(), timeout=120)
    if check_code is not None:
        assert result.returncode == check_code, result.stderr
    return result


def cli_in_process(*args) -> subprocess.CompletedProcess:
    """The same ``main`` as ``python -m unsup_core`` runs, in this process: for refusals, which end before
    any run starts, so each case does not pay a fresh interpreter's imports (about 4 s on 2 busy cores).
    ``test_a_refusal_in_a_real_process_is_one_line`` checks the real entry point prints the same."""
    from unsup_core.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as stop:  # argparse's own refusals
            code = stop.code
    return subprocess.CompletedProcess(list(args), code, stdout.getvalue(), stderr.getvalue())


def test_datasets_json_lists_kinds_sizes_and_labels(lab_home):
    datasets = {d["name"]: d for d in json.loads(cli("datasets", "--json", check_code=0).stdout)}
    assert {"digits", "iris", "wine", "breast_cancer", "moons", "circles", "blobs", "ring8",
            "swiss_roll_2d", "shapes", "mnist", "fashion_mnist"} <= set(datasets)
    assert (datasets["digits"]["kind"], datasets["digits"]["n_samples"], datasets["digits"]["n_features"],
            datasets["digits"]["has_labels"]) == ("images", 1797, 64, True)
    assert datasets["iris"]["kind"] == "table" and datasets["ring8"]["kind"] == "points2d"
    assert "digits" in cli("datasets", check_code=0).stdout


def test_algorithms_json_lists_config_fields_with_defaults(lab_home):
    algorithms = {a["name"]: a for a in json.loads(cli("algorithms", "--json", check_code=0).stdout)}
    assert algorithms["vae"]["family"] == "generative" and algorithms["vae"]["accepts"] == ["images"]
    fields = {f["name"]: f for f in algorithms["kmeans"]["config"]}
    assert fields["n_clusters"]["default"] == 8 and fields["n_clusters"]["low"] == 1


def test_run_wait_show_list_and_cancel(lab_home):
    result = cli("run", "kmeans", "--dataset", "blobs", "--set", "n_clusters=4", "--wait", "--json", check_code=0)
    shown = json.loads(result.stdout)
    assert shown["status"] == "done" and shown["config"]["n_clusters"] == 4
    assert shown["metrics"]["ari"] > 0.95
    assert json.loads(cli("show", shown["id"], "--json", check_code=0).stdout)["id"] == shown["id"]
    assert "status: done" in cli("show", shown["id"], check_code=0).stdout

    run_id = cli("run", "vae", "--dataset", "digits", "--steps", "1000000", check_code=0).stdout.strip()
    assert cli("cancel", run_id, check_code=0).stdout.strip() == f"{run_id}: cancelled"
    listed = {r["id"]: r for r in json.loads(cli("list", "--json", check_code=0).stdout)}
    assert listed[run_id]["status"] == "cancelled" and listed[shown["id"]]["status"] == "done"
    assert run_id in cli("list", check_code=0).stdout


@pytest.mark.parametrize("args, message", [
    (["run", "nope", "--dataset", "digits"], "unknown algorithm 'nope'"),
    (["run", "vae", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["run", "vae", "--dataset", "digits", "--set", "colour=red"], "unknown config key 'colour'"),
    (["run", "vae", "--dataset", "digits", "--set", "latent_dim=1000"], "latent_dim=1000 is above the maximum 128"),
    (["run", "vae", "--dataset", "iris"], "vae does not accept table data"),
    (["run", "vae", "--dataset", "digits", "--steps", "0"], "steps must be between 1"),
    (["run", "vae", "--dataset", "digits", "--device", "tpu"], "device must be one of auto, cpu, cuda"),
    (["show", "does-not-exist"], "no run with id 'does-not-exist'"),
])
def test_bad_arguments_exit_non_zero_with_one_line(lab_home, args, message):
    result = cli_in_process(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["run", "vae", "--dataset", "digits", "--set", "colour=red"], ["show", "nope"],
                                  ["run", "--no-such-flag"]])
def test_a_refusal_in_a_real_process_is_one_line_and_the_same_as_in_process(lab_home, args):
    real, in_process = cli(*args), cli_in_process(*args)
    assert real.returncode == in_process.returncode == 2
    assert real.stderr == in_process.stderr and real.stdout == in_process.stdout
    assert "Traceback" not in real.stderr


def test_a_failed_run_exits_non_zero(lab_home, tmp_path):
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):  # present, so accepted at submit
        (tmp_path / stem).write_bytes(b"not an IDX file")
    result = cli("run", "vae", "--dataset", "mnist", "--dataset-option", f"path={tmp_path}", "--wait")
    assert result.returncode == 1
    assert "status: failed" in result.stdout and "is not an IDX file" in result.stdout


def test_export_import_resume_and_delete(lab_home, tmp_path, monkeypatch):
    run_id = json.loads(cli("run", "kmeans", "--dataset", "blobs", "--set", "n_clusters=4", "--steps", "3",
                            "--wait", "--json", check_code=0).stdout)["id"]
    archive = tmp_path / "exported.zip"
    assert cli("export", run_id, "--zip", str(archive), check_code=0).stdout.strip() == str(archive)

    monkeypatch.setenv("UNSUP_LAB_HOME", str(tmp_path / "elsewhere"))
    run_id = json.loads(cli("import", str(archive), "--json", check_code=0).stdout)["id"]
    second = cli("import", str(archive), check_code=0).stdout.strip()  # a new id each time, never a clash
    assert second != run_id and cli("delete", second, "--yes", check_code=0)
    resumed = json.loads(cli("resume", run_id, "--steps", "10", "--wait", "--json", check_code=0).stdout)
    assert resumed["status"] == "done" and resumed["steps"] == 10
    assert "add --yes to confirm" in cli("delete", run_id).stderr
    assert cli("delete", run_id, "--yes", check_code=0).stdout.strip() == f"deleted {run_id}"
    assert json.loads(cli("list", "--json", check_code=0).stdout) == []


def test_resuming_a_running_or_missing_run_is_refused(lab_home):
    run_id = cli("run", "vae", "--dataset", "digits", "--steps", "1000000", check_code=0).stdout.strip()
    assert "only an ended run can be resumed" in cli("resume", run_id).stderr
    cli("cancel", run_id, check_code=0)
    assert "no run with id 'nope'" in cli("resume", "nope").stderr


def test_the_operator_can_print_a_one_time_teacher_link(lab_home):
    from unsup_core.runs.store import RunStore

    printed = cli("teacher-link", "--minutes", "5", check_code=0).stdout
    token = printed.split("?teacher=")[1].split()[0]
    assert RunStore(lab_home).redeem_teacher_link(token)
