"""Run archives: a run exported here is the same run imported elsewhere, and a hostile zip changes nothing.

Every hostile case checks the same three things: a clear message, nothing written anywhere (not in the
store, not outside it), and every earlier run still listed.
"""

import io
import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest
import torch

from unsup_core.runs.archive import ArchiveError, export_run, import_run
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore, is_run_id
from tests.tables import measurements
from unsup_core.datasets.uploads import save_upload
from unsup_core.settings import QueueLimits


@pytest.fixture
def finished_run(store):
    run_id = store.create_run(make_spec("vae", "digits", {"latent_dim": 3}, steps=20), owner="alice")
    store.claim_slot(run_id, 1, QueueLimits(cpu=4, cuda=1))
    store.log_metrics(run_id, [("loss", step, 10.0 / step) for step in range(1, 21)] + [("kl", 20, float("nan"))],
                      step=20, steps_per_second=5.0)
    for step in (1, 20):
        store.save_snapshot(run_id, step, {"samples": np.full((4, 8, 8), step, np.float32),
                                           "label_names": np.array(["a", "b"])})
    store.save_checkpoint(run_id, {"step": 20, "state": {"w": torch.arange(3.0)}})
    store.finish(run_id, "cancelled")
    return run_id


@pytest.fixture
def other(tmp_path, monkeypatch):
    """Another machine's store (its own data home, so its uploads live there too)."""
    home = tmp_path / "other-machine"
    monkeypatch.setenv("UNSUP_LAB_HOME", str(home))
    return RunStore(home)


def _files_under(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _exported(store, run_id) -> dict[str, bytes]:
    buffer = io.BytesIO()
    export_run(store, run_id, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path, members: dict[str, bytes | str]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _with_run_json(members: dict, change) -> dict:
    meta = json.loads(members["run.json"])
    change(meta)
    return {**members, "run.json": json.dumps(meta)}


def test_a_run_exported_here_is_the_same_run_imported_elsewhere(store, finished_run, tmp_path, other):
    archive = tmp_path / "run.zip"
    export_run(store, finished_run, archive)
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"run.json", "config.json", "metrics.csv", "artifacts/checkpoint.pt",
            "artifacts/snapshots/000000020.npz"} <= names
    assert b"alice" not in zipfile.ZipFile(archive).read("run.json")  # no owner ever leaves the server

    imported = import_run(other, archive, owner="bob")
    assert is_run_id(imported) and imported != finished_run
    original, copy = store.get_run(finished_run), other.get_run(imported)
    assert (copy.status, copy.spec, copy.step) == (original.status, original.spec, 20)
    assert (copy.owner, copy.shared) == ("bob", False)
    assert other.metric_rows(imported) == store.metric_rows(finished_run)
    assert other.snapshot_steps(imported) == [1, 20]
    assert other.load_snapshot(imported)[1]["samples"].max() == 20
    assert other.load_checkpoint(imported)["state"]["w"].tolist() == [0.0, 1.0, 2.0]
    again = import_run(other, archive, owner="bob")  # importing twice gives two runs, never a clash
    assert again not in (imported, finished_run) and len(other.list_runs()) == 2


def test_a_run_on_a_users_file_carries_the_file_and_is_stored_again_by_its_bytes(store, tmp_path, other,
                                                                                 monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_HOME", str(store.home))
    path = save_upload(measurements(30, 3), "table.csv")
    run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 2}, steps=5,
                                        dataset_options={"path": str(path)}), owner="alice")
    store.finish(run_id, "cancelled")
    archive = _write_zip(tmp_path / "run.zip", _exported(store, run_id))
    assert "data/table.csv" in zipfile.ZipFile(archive).namelist()

    monkeypatch.setenv("UNSUP_LAB_HOME", str(other.home))
    imported = other.get_run(import_run(other, archive, owner="bob"))
    stored = imported.spec.dataset_options["path"]
    assert stored.startswith(str(other.uploads_dir)) and open(stored, "rb").read() == path.read_bytes()
    assert other.upload_for_path(stored).owners == {"bob"}


def _format_1(members: dict, **record) -> dict:
    """An archive as the previous version wrote it (with id, owner and sharing in run.json)."""
    return _with_run_json(members, lambda meta: (meta.update(format=1), meta["run"].update(record)))


def test_ids_owners_and_sharing_in_an_archive_are_never_trusted(store, finished_run, tmp_path, other):
    members = _format_1(_exported(store, finished_run), id="../../escaped", owner="teacher", shared=True,
                        parent_id="../x")
    outside = _files_under(tmp_path)
    run = other.get_run(import_run(other, _write_zip(tmp_path / "old.zip", members), owner="bob"))
    assert (run.owner, run.shared, run.parent_id) == ("bob", False, None) and is_run_id(run.id)
    assert not (tmp_path / "escaped").exists() and not (other.home.parent / "escaped").exists()
    added = set(_files_under(tmp_path)) - set(outside)
    assert all(name.startswith("other-machine") or name == "old.zip" for name in added)


@pytest.mark.parametrize("change, message", [
    (lambda meta: meta["run"].update(started_at="yesterday"), "started_at must be a time"),
    (lambda meta: meta["run"].update(id="/etc/cron.d/x"), "unknown fields in run: id"),
    (lambda meta: meta["run"].update(owner="teacher"), "unknown fields in run: owner"),
    (lambda meta: meta["run"].update(step=10**9), "step must be an integer"),
    (lambda meta: meta["run"].update(status="exploding"), "unknown status"),
    (lambda meta: meta["spec"].update(config={"latent_dim": -4}), "latent_dim=-4 is below the minimum"),
    (lambda meta: meta["spec"].update(config={"evil": 1}), "unknown config key 'evil'"),
    (lambda meta: meta["spec"].update(algorithm="os.system"), "unknown algorithm"),
    (lambda meta: meta["spec"].update(steps=10**12), "steps must be an integer from 1"),
    (lambda meta: meta["run"].update(created_at=10**400), "created_at must be a time"),
    (lambda meta: meta["spec"].update(seed=10**30), "seed"),
    (lambda meta: meta["spec"].update(shell="rm -rf /"), "unknown fields in spec: shell"),
    (lambda meta: meta["spec"].update(purpose="helper"), "only for embedding, tournament, outliers runs"),
    (lambda meta: meta.update(extra=1), "unknown fields in run.json"),
    (lambda meta: meta["spec"].update(dataset="file", dataset_options={"path": "/etc/passwd"}),
     "does not hold it"),
    (lambda meta: meta["spec"].update(dataset="mnist", dataset_options={"path": "/etc"}), "(?i)mnist|idx|path"),
    (lambda meta: meta["snapshots"].append({"step": 5}), "snapshot files for steps \\[5\\] are missing"),
])
def test_every_field_is_checked_as_a_new_runs_and_a_refusal_leaves_nothing(store, finished_run, tmp_path, change,
                                                                           message):
    before, uploads_before = _files_under(store.home), store.list_uploads()
    archive = _write_zip(tmp_path / "bad.zip", _with_run_json(_exported(store, finished_run), change))
    with pytest.raises(ArchiveError, match=message):
        import_run(store, archive, owner="bob")
    assert _files_under(store.home) == before and store.list_uploads() == uploads_before
    assert [run.id for run in store.list_runs()] == [finished_run]


def test_a_path_in_the_spec_is_replaced_by_the_file_the_archive_holds(store, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_HOME", str(store.home))
    path = save_upload(measurements(30, 3), "t.csv")
    run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 2}, steps=5,
                                        dataset_options={"path": str(path)}), owner="alice")
    store.finish(run_id, "cancelled")
    members = _with_run_json(_exported(store, run_id),
                             lambda meta: meta["spec"]["dataset_options"].update(path="/etc/passwd"))
    imported = store.get_run(import_run(store, _write_zip(tmp_path / "a.zip", members), owner="bob"))
    assert imported.spec.dataset_options["path"] == str(path)


def test_sizes_and_row_counts_are_bounded_before_anything_is_written(store, finished_run, tmp_path, monkeypatch):
    members = _exported(store, finished_run)
    before = _files_under(store.home)
    monkeypatch.setenv("UNSUP_LAB_MAX_IMPORT_METRIC_ROWS", "10")
    with pytest.raises(ArchiveError, match="more than 10 rows"):
        import_run(store, _write_zip(tmp_path / "rows.zip", members), owner="bob")
    monkeypatch.setenv("UNSUP_LAB_MAX_IMPORT_MB", "1")
    big = {**members, "artifacts/checkpoint.pt": os.urandom(2 * 1024**2)}
    with pytest.raises(ArchiveError, match="over the 1 MB allowed"):
        import_run(store, _write_zip(tmp_path / "big.zip", big), owner="bob")
    monkeypatch.delenv("UNSUP_LAB_MAX_IMPORT_MB")
    bomb = {**members, "artifacts/snapshots/000000020.npz": b"\0" * 50_000_000}
    with pytest.raises(ArchiveError, match="expands"):
        import_run(store, _write_zip(tmp_path / "bomb.zip", bomb), owner="bob")
    assert _files_under(store.home) == before


def test_a_damaged_zip_says_so(store, finished_run, tmp_path):
    archive = _write_zip(tmp_path / "crc.zip", _exported(store, finished_run))
    data = bytearray(archive.read_bytes())
    offset = data.index(b"run.json") + len(b"run.json") + 20  # inside run.json's compressed bytes
    data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="damaged|not valid|malformed"):
        import_run(store, archive, owner="bob")
    assert [run.id for run in store.list_runs()] == [finished_run]


def _zip_with(tmp_path, members: dict, symlink: str | None = None):
    path = _write_zip(tmp_path / "evil.zip", members)
    if symlink:
        with zipfile.ZipFile(path, "a") as archive:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("members, symlink, message", [
    ({"../../x": "boom"}, None, "unexpected file '../../x'"),
    ({"/etc/cron.d/x": "boom"}, None, "unexpected file '/etc/cron.d/x'"),
    ({"artifacts/../../x": "boom"}, None, "unexpected file"),
    ({"data/../x.py": "boom"}, None, "unexpected file"),
    ({"data/..": "boom"}, None, "unexpected file"),
    ({"artifacts/os.py": "import os"}, None, "unexpected file 'artifacts/os.py'"),
    ({"run.json": "{}"}, "artifacts/worker.log", "not a plain file"),
    ({"notes.txt": "hi"}, None, "unexpected file 'notes.txt'"),
    ({"run.json": "[1, 2]", "metrics.csv": ""}, None, "does not hold an object"),
    ({"run.json": "NaN", "metrics.csv": ""}, None, "not valid JSON"),
])
def test_unsafe_archives_are_refused_and_nothing_is_written(store, tmp_path, members, symlink, message):
    outside = _files_under(tmp_path)
    with pytest.raises(ArchiveError, match=message):
        import_run(store, _zip_with(tmp_path, members, symlink), owner="bob")
    assert store.list_runs() == [] and list(store.runs_dir.iterdir()) == []
    assert set(_files_under(tmp_path)) - set(outside) <= {"evil.zip"} | set(_files_under(store.home.parent)) \
        and not (tmp_path.parent / "x").exists()


def test_a_pickled_checkpoint_is_refused(store, finished_run, tmp_path, other):
    class Exploit:
        def __reduce__(self):
            return (print, ("never",))

    members = {**_exported(store, finished_run), "artifacts/checkpoint.pt": pickle.dumps(Exploit())}
    with pytest.raises(ArchiveError, match="does not load with weights_only=True"):
        import_run(other, _write_zip(tmp_path / "tampered.zip", members), owner="bob")
    assert other.list_runs() == [] and list(other.runs_dir.iterdir()) == []


def test_garbage_is_not_an_archive(store, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"\x89PNG not a zip")
    with pytest.raises(ArchiveError, match="not a zip file"):
        import_run(store, junk, owner="bob")
    with pytest.raises(ArchiveError, match="run.json is missing"):
        import_run(store, _zip_with(tmp_path, {"metrics.csv": "name,step,value,wall_time\n"}), owner="bob")


def test_one_damaged_record_hides_only_itself(store, finished_run):
    damaged = store.create_run(make_spec("kmeans", "blobs", steps=5), owner="mallory")
    store._execute("UPDATE runs SET started_at='yesterday' WHERE id=?", (damaged,))
    assert [run.id for run in store.list_runs()] == [finished_run]
    with pytest.raises(Exception, match="damaged record"):
        store.get_run(damaged)


def test_a_compressed_snapshot_bomb_is_refused_without_decoding_it(store, finished_run, tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as arrays:
        with arrays.open("samples.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False,
                                                          "shape": (16 * 1024**2,)})
            zeros = bytes(64 * 1024**2)
            for _ in range(2):  # 128 MB of zeros, 128 KB once deflated
                member.write(zeros)
    members = {**_exported(store, finished_run), "artifacts/snapshots/000000020.npz": bomb.getvalue()}
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as out:  # stored: the outer ratio is 1
        for name, data in members.items():
            out.writestr(name, data)
    before = _files_under(store.home)
    with pytest.raises(ArchiveError, match="expands|declare"):
        import_run(store, archive, owner="bob")
    assert _files_under(store.home) == before


def test_absurd_numbers_and_names_are_one_sentence(store, finished_run, tmp_path):
    members = _exported(store, finished_run)
    rows = members["metrics.csv"].decode() + f"loss,{10**20},1.0,1.0\n"
    with pytest.raises(ArchiveError, match="step must be 0 to 20"):
        import_run(store, _write_zip(tmp_path / "a.zip", {**members, "metrics.csv": rows}), owner="bob")
    with pytest.raises(ArchiveError, match="bytes long"):
        import_run(store, _write_zip(tmp_path / "b.zip", {**members, "data/" + "é" * 200: "x"}), owner="bob")
    assert [run.id for run in store.list_runs()] == [finished_run]


def test_an_image_size_from_an_archive_is_bounded(store, tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("UNSUP_LAB_HOME", str(store.home))
    images = io.BytesIO()
    with zipfile.ZipFile(images, "w") as archive:
        for index in range(12):
            picture = io.BytesIO()
            Image.new("L", (8, 8), color=index * 20).save(picture, format="PNG")
            archive.writestr(f"img{index}.png", picture.getvalue())
    path = save_upload(images.getvalue(), "faces.zip")
    run_id = store.create_run(make_spec("vae", "file", steps=5, dataset_options={"path": str(path)}), owner="alice")
    store.finish(run_id, "cancelled")
    members = _with_run_json(_exported(store, run_id),
                             lambda meta: meta["spec"]["dataset_options"].update(image_size=6000))
    before = _files_under(store.home)
    with pytest.raises(ArchiveError, match="image_size"):
        import_run(store, _write_zip(tmp_path / "huge.zip", members), owner="bob")
    assert _files_under(store.home) == before


@pytest.fixture
def changed_run(store):
    """A GAN run whose learning rates were changed while it trained (at steps 5 and 12)."""
    run_id = store.create_run(make_spec("gan", "ring8", {}, steps=20), owner="alice")
    store.claim_slot(run_id, 1, QueueLimits(cpu=4, cuda=1))
    store.log_metrics(run_id, [("loss_d", step, 1.0) for step in range(1, 21)], step=20)
    for name, value, step in (("lr_generator", 2e-4, 5), ("lr_discriminator", 1e-4, 12)):
        store.set_hyperparameter(run_id, name, value)
        store.record_changes_applied(run_id, store.take_control(run_id).changes, step)
    store.save_checkpoint(run_id, {"step": 20, "state": {"w": torch.arange(3.0)}})
    store.finish(run_id, "cancelled")
    return run_id


def test_hyperparameter_changes_travel_with_an_exported_run(store, changed_run, tmp_path, other):
    archive = tmp_path / "run.zip"
    export_run(store, changed_run, archive)
    assert json.loads(zipfile.ZipFile(archive).read("run.json"))["changes"] == [
        {"step": 5, "name": "lr_generator", "value": 2e-4}, {"step": 12, "name": "lr_discriminator", "value": 1e-4}]
    imported = import_run(other, archive, owner="bob")
    assert [(c.step, c.name, c.value) for c in other.applied_changes(imported)] == [
        (5, "lr_generator", 2e-4), (12, "lr_discriminator", 1e-4)]
    assert other.control_state(imported).pending == {}


@pytest.mark.parametrize("change, message", [
    (lambda changes: changes.append({"step": 3, "name": "os.system", "value": 1}), "gan cannot change 'os.system'"),
    (lambda changes: changes.append({"step": 3, "name": "lr_generator", "value": 10.0}), "is not allowed"),
    (lambda changes: changes.append({"step": 3, "name": "lr_generator", "value": 10**400}), "value a number"),
    (lambda changes: changes.append({"step": 3, "name": "lr_generator", "value": "0.001"}), "value a number"),
    (lambda changes: changes.append({"step": 3, "name": "lr_generator", "value": True}), "value a number"),
    (lambda changes: changes.append({"step": 21, "name": "lr_generator", "value": 1e-3}), "from 0 to 20"),
    (lambda changes: changes.append({"step": -1, "name": "lr_generator", "value": 1e-3}), "from 0 to 20"),
    (lambda changes: changes[0].update(author="mallory"), "must be \\{step, name, value\\}"),
    (lambda changes: changes[0].pop("step"), "must be \\{step, name, value\\}"),
    (lambda changes: changes.extend([changes[0]] * 10_000), "at most 10,000"),
])
def test_hostile_hyperparameter_changes_are_refused_and_nothing_is_written(store, changed_run, tmp_path, change,
                                                                          message):
    before = _files_under(store.home)
    archive = _write_zip(tmp_path / "bad.zip", _with_run_json(_exported(store, changed_run),
                                                              lambda meta: change(meta["changes"])))
    with pytest.raises(ArchiveError, match=message):
        import_run(store, archive, owner="bob")
    assert _files_under(store.home) == before and [run.id for run in store.list_runs()] == [changed_run]


def test_changes_in_an_older_format_or_not_a_list_are_refused(store, changed_run, tmp_path):
    for change, message in ((lambda meta: meta.update(format=2), "changes need format 3"),
                            (lambda meta: meta.update(changes={"lr": 1}), "changes must be a list")):
        archive = _write_zip(tmp_path / "bad.zip", _with_run_json(_exported(store, changed_run), change))
        with pytest.raises(ArchiveError, match=message):
            import_run(store, archive, owner="bob")
    assert [run.id for run in store.list_runs()] == [changed_run]
