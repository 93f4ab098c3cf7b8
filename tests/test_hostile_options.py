"""What a hostile student on a shared server can send: unbounded options, server paths, bad seeds,
and a store or disk the server cannot write. Each is refused with one clear sentence."""

import gzip
import io
import re
import sqlite3
import struct
import subprocess
import urllib.request
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import unsup_core.datasets as datasets
from unsup_core.datasets import coerce_options, fetch_dataset, get_entry, list_datasets, load_dataset
from unsup_core.errors import UserError
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from tests.test_cli import cli, cli_in_process

IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def assert_one_line_error(result, message):
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# -- dataset options are bounded where they are declared -----------------------------------------
def test_every_built_in_option_declares_its_range_or_choices():
    for entry in list_datasets():
        for name, option in entry.options.items():
            spec = option.field(name)
            if spec.type in ("int", "float"):
                assert option.low is not None and option.high is not None, (entry.name, name)
            elif spec.type == "str":
                assert option.choices is not None or option.local_only, (entry.name, name)


@pytest.mark.parametrize("dataset, options, message", [
    ("moons", {"n_samples": 40_000_000}, "n_samples=40000000 is not allowed: give an integer from 10 to 200,000"),
    ("moons", {"n_samples": -5}, "n_samples=-5 is not allowed: give an integer from 10 to 200,000"),
    ("moons", {"n_samples": 1e20}, "n_samples=1e+20 is not allowed: give an integer from 10 to 200,000"),
    ("moons", {"n_samples": "1e20"}, "n_samples=1e20 is not allowed: give an integer from 10 to 200,000"),
    ("moons", {"n_samples": 2.5}, "n_samples=2.5 is not allowed: give an integer from 10 to 200,000"),
    ("moons", {"n_samples": True}, "n_samples=True is not allowed"),
    ("moons", {"noise": float("nan")}, "noise=nan is not allowed: give a number from 0 to 5"),
    ("circles", {"noise": "inf"}, "noise=inf is not allowed: give a number from 0 to 5"),
    ("swiss_roll_2d", {"noise": -0.1}, "noise=-0.1 is not allowed: give a number from 0 to 5"),
    ("blobs_outliers", {"share": 0.9}, "share=0.9 is not allowed: give a number from 0 to 0.5"),
    ("digits_anomalies", {"share": -0.1}, "share=-0.1 is not allowed: give a number from 0 to 0.5"),
    ("blobs", {"n_blobs": 0}, "n_blobs=0 is not allowed: give an integer from 1 to 20"),
    ("shapes", {"image_size": 65}, "image_size=65 is not allowed: give an integer from 8 to 64"),
    ("shapes", {"image_size": 4}, "image_size=4 is not allowed: give an integer from 8 to 64"),
    ("ring8", {"seed": -1}, "seed=-1 is not allowed: give an integer from 0 to 4,294,967,295"),
    ("ring8", {"seed": 2**32}, "seed=4294967296 is not allowed: give an integer from 0 to 4,294,967,295"),
    ("mnist", {"limit": 70_001}, "limit=70001 is not allowed: give an integer from 0 to 70,000"),
    ("mnist", {"split": "valid"}, "split=valid is not allowed: give one of train, test"),
])
def test_out_of_range_options_are_refused_naming_option_value_and_range(dataset, options, message):
    with pytest.raises(UserError, match=f"^dataset option {re.escape(message)}"):
        load_dataset(dataset, **options)
    with pytest.raises(UserError, match=re.escape(message)):
        make_spec("kmeans", dataset, dataset_options=options)


def test_the_limits_themselves_are_allowed():
    assert load_dataset("moons", n_samples=200_000, noise=5, seed=2**32 - 1).n_samples == 200_000
    assert load_dataset("moons", n_samples="10", noise="0").n_samples == 10
    assert load_dataset("shapes", n_samples=10, image_size=64).image_shape == (64, 64)


def test_shapes_bounds_the_product_of_its_options():
    with pytest.raises(UserError, match=r"shapes: 200,000 images of 64x64 are too large; .* n_samples=11,484"):
        load_dataset("shapes", n_samples=200_000, image_size=64)


def test_the_dataset_cache_stays_within_its_memory_budget(monkeypatch):
    monkeypatch.setattr(datasets, "_cache", OrderedDict())
    monkeypatch.setattr(datasets, "CACHE_BYTES", 100_000)  # one 5,000-point set is 80,000 bytes
    first = load_dataset("moons", n_samples=5000, seed=1)
    assert load_dataset("moons", n_samples=5000, seed=1) is first  # a rerun's preview is a cache hit
    load_dataset("moons", n_samples=5000, seed=2)
    assert sum(datasets._nbytes(data) for data in datasets._cache.values()) <= 100_000
    assert load_dataset("moons", n_samples=5000, seed=1) is not first  # evicted
    load_dataset("moons", n_samples=20_000)  # larger than the whole budget: built, never kept
    assert all(data.n_samples == 5000 for data in datasets._cache.values())


# -- MNIST-style paths and downloads ---------------------------------------------------------------
def _write_idx(folder, count=12):
    rng = np.random.default_rng(0)
    for stem, array in zip(IDX_STEMS, (rng.integers(0, 256, (count, 28, 28)), rng.integers(0, 10, count))):
        header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
        (folder / stem).write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no download was expected here")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.mark.parametrize("options, name", [({"path": "/etc"}, "path"), ({"download": "true"}, "download")])
def test_a_shared_server_refuses_idx_paths_and_downloads(shared, lab_home, options, name):
    message = f"dataset option {name} cannot be set on a shared server: mnist is read from the server's own folder"
    with pytest.raises(UserError, match=message):
        load_dataset("mnist", **options)
    with pytest.raises(UserError, match=message):
        make_spec("kmeans", "mnist", dataset_options=options)
    assert coerce_options(get_entry("mnist"), {"path": "", "download": False}) == {"path": "", "download": False}
    assert [field.name for field in get_entry("mnist").fields(shared=True)] == ["split", "limit"]


def test_a_preview_never_downloads_or_creates_folders(lab_home, tmp_path, no_network):
    target = tmp_path / "new" / "mnist"
    with pytest.raises(UserError, match="mnist needs train-images-idx3-ubyte"):
        load_dataset("mnist", path=str(target), download=True)
    with pytest.raises(UserError, match="mnist needs train-images-idx3-ubyte"):
        load_dataset("mnist", download=True)
    assert not (tmp_path / "new").exists() and not lab_home.exists()


@pytest.mark.parametrize("path, message", [
    ("/etc", r"mnist needs train-images-idx3-ubyte\(\.gz\), train-labels-idx1-ubyte\(\.gz\) in /etc"),
    ("/no/such/folder", "mnist path '/no/such/folder' is not a folder; give the folder that holds the IDX files"),
])
def test_a_path_without_idx_files_is_refused_at_submit(lab_home, path, message):
    with pytest.raises(UserError, match=message):
        make_spec("kmeans", "mnist", dataset_options={"path": path})


def test_a_folder_with_idx_files_is_accepted_at_submit(lab_home, tmp_path):
    _write_idx(tmp_path)
    assert make_spec("kmeans", "mnist", dataset_options={"path": str(tmp_path)}).dataset_options["path"] == str(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()  # the run's worker will download into it
    make_spec("kmeans", "mnist", dataset_options={"path": str(empty), "download": True})


def test_only_fetching_downloads(lab_home, tmp_path, monkeypatch):
    source = tmp_path / "mirror"
    source.mkdir()
    _write_idx(source)

    def serve(url, timeout):
        return io.BytesIO(gzip.compress((source / url.rsplit("/", 1)[1].removesuffix(".gz")).read_bytes()))

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    target = tmp_path / "downloaded"
    target.mkdir()
    fetch_dataset("mnist", path=str(target), download=True)
    assert sorted(p.name for p in target.iterdir()) == [f"{stem}.gz" for stem in IDX_STEMS]
    assert load_dataset("mnist", path=str(target)).n_samples == 12


# -- seeds ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1e20, -1, 2**32, 2.5, "seven", True])
def test_make_spec_refuses_seeds_that_numpy_cannot_take(seed):
    with pytest.raises(UserError, match=r"^seed=.* is not allowed: give an integer from 0 to 4,294,967,295$"):
        make_spec("kmeans", "blobs", seed=seed)


def test_make_spec_keeps_valid_seeds_as_integers():
    assert make_spec("kmeans", "blobs", seed=2**32 - 1).seed == 2**32 - 1
    assert make_spec("kmeans", "blobs", seed=7.0).seed == 7


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1e20", "2.5"])
def test_the_cli_refuses_bad_seeds_in_one_line(lab_home, seed):
    assert_one_line_error(cli_in_process("run", "kmeans", "--dataset", "blobs", "--seed", seed),
                          f"seed={seed} is not allowed: give an integer from 0 to 4,294,967,295")
    assert not (lab_home / "runs").exists() or not any((lab_home / "runs").iterdir())


def test_the_cli_refuses_out_of_range_dataset_options_in_one_line(lab_home):
    assert_one_line_error(cli_in_process("run", "kmeans", "--dataset", "moons", "--dataset-option",
                                         "n_samples=40000000"),
                          "dataset option n_samples=40000000 is not allowed: give an integer from 10 to 200,000")


# -- a store or a disk the server cannot write ---------------------------------------------------
def _mount(*args):
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mount is unavailable here ({result.stderr.strip() or result.returncode})")


@contextmanager
def read_only_view(folder: Path):
    """``folder`` bind-mounted read-only at a sibling path: a real read-only file system, even for root."""
    view = folder.with_name(folder.name + "-read-only")
    view.mkdir()
    _mount("--bind", str(folder), str(view))
    try:
        _mount("-o", "remount,ro,bind", str(view))
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=True)


def _store_with_a_run(home):
    store = RunStore(home)
    run_id = store.create_run(make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=3))
    store.log_metrics(run_id, [("inertia", 1, 5.0)], step=1)
    store.finish(run_id, "done")
    return store, run_id


def test_a_read_only_store_is_read_and_refuses_writes(lab_home):
    writer, run_id = _store_with_a_run(lab_home)
    writer._connect().close()  # the last connection gone: -wal and -shm are removed
    assert not Path(f"{writer.db_path}-shm").exists()
    with read_only_view(lab_home) as view:
        store = RunStore(view)
        assert store.read_only
        assert [run.id for run in store.list_runs()] == [run_id]
        assert store.last_metrics(run_id) == {"inertia": 5.0}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.request_cancel(run_id)
        store._connect().close()


def test_a_read_only_view_of_a_live_store_sees_new_runs(lab_home):
    writer, run_id = _store_with_a_run(lab_home)  # its connection stays open, so -wal and -shm exist
    with read_only_view(lab_home) as view:
        reader = RunStore(view)
        assert [run.id for run in reader.list_runs()] == [run_id]
        later = writer.create_run(make_spec("kmeans", "blobs", steps=3))
        assert {run.id for run in reader.list_runs()} == {run_id, later}
        reader._connect().close()


def test_a_read_only_folder_without_a_store_says_so(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with read_only_view(empty) as view:
        with pytest.raises(UserError, match=f"no run store at {view}: the folder is read-only and holds no runs.db"):
            RunStore(view)


def test_the_cli_reads_a_read_only_store_and_refuses_to_change_it(lab_home, tmp_path, monkeypatch):
    writer, run_id = _store_with_a_run(lab_home)
    writer._connect().close()
    archive = tmp_path / "run.zip"
    assert cli("export", run_id, "--zip", str(archive)).returncode == 0
    with read_only_view(lab_home) as view:
        monkeypatch.setenv("UNSUP_LAB_HOME", str(view))
        listed = cli("list")
        assert listed.returncode == 0 and run_id in listed.stdout, listed.stderr
        assert cli("show", run_id).returncode == 0
        exported = tmp_path / "again.zip"
        assert cli("export", run_id, "--zip", str(exported)).returncode == 0 and exported.exists()
        message = f"the run store at {view} is read-only; to start, import, cancel, delete or resume runs"
        for args in (["run", "kmeans", "--dataset", "blobs"], ["import", str(archive)], ["cancel", run_id],
                     ["delete", run_id, "--yes"], ["resume", run_id, "--steps", "5"]):
            assert_one_line_error(cli_in_process(*args), message)


@contextmanager
def tiny_disk(folder: Path, size: str):
    folder.mkdir(parents=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_full_disk_while_copying_a_file_gives_one_sentence_and_no_partial_file(tmp_path, monkeypatch):
    data = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    data.write_text("a,b\n" + "\n".join(f"{x:.6f},{y:.6f}" for x, y in rng.normal(size=(60_000, 2))))
    with tiny_disk(tmp_path / "lab", "512k") as home:
        monkeypatch.setenv("UNSUP_LAB_HOME", str(home))
        result = cli("run", "kmeans", "--dataset", str(data))
        assert_one_line_error(result, "disk full: no space left on device")
        assert "free some space and try again" in result.stderr
        assert list((home / "datasets" / "uploads").iterdir()) == []  # no partial copy, no empty folder
        assert cli("list").returncode == 0  # the store itself is intact


@pytest.mark.parametrize("options, message", [
    ({"max_rows": -1}, "max_rows=-1"),
    ({"image_size": 10**9}, "image_size"),
    ({"features": ["x"] * 20_000}, "at most 10,000 names"),
    ({"features": 7}, "must be a list"),
])
def test_a_users_file_options_are_bounded_too(lab_home, options, message):
    from unsup_core.datasets.uploads import save_upload

    path = save_upload(b"a,b\n1,2\n3,4\n5,6\n", "t.csv")
    with pytest.raises(UserError, match=message):
        make_spec("kmeans", "file", {"n_clusters": 2}, dataset_options={"path": str(path), **options})
