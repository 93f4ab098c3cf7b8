import io
import stat
import zipfile

import numpy as np
import pytest
import torch

from unsup_core.runs.archive import ArchiveError, export_run, import_run
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
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


def test_a_run_exported_here_is_the_same_run_imported_elsewhere(store, finished_run, tmp_path):
    archive = tmp_path / "run.zip"
    export_run(store, finished_run, archive)
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"run.json", "config.json", "metrics.csv", "artifacts/checkpoint.pt",
            "artifacts/snapshots/000000020.npz"} <= names

    other = RunStore(tmp_path / "other-machine")
    assert import_run(other, archive) == finished_run
    original, copy = store.get_run(finished_run), other.get_run(finished_run)
    assert (copy.status, copy.spec, copy.step, copy.owner) == (original.status, original.spec, 20, "alice")
    assert other.metric_rows(finished_run) == store.metric_rows(finished_run)
    assert other.snapshot_steps(finished_run) == [1, 20]
    assert other.load_snapshot(finished_run)[1]["samples"].max() == 20
    assert other.load_checkpoint(finished_run)["state"]["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ArchiveError, match="already exists"):
        import_run(other, archive)


def _zip_with(tmp_path, members: dict, symlink: str | None = None):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("members, symlink, message", [
    ({"../../x": "boom"}, None, "unsafe path '../../x'"),
    ({"/etc/cron.d/x": "boom"}, None, "unsafe path '/etc/cron.d/x'"),
    ({"artifacts/../../x": "boom"}, None, "unsafe path"),
    ({"run.json": "{}"}, "artifacts/link", "symbolic link 'artifacts/link'"),
    ({"notes.txt": "hi"}, None, "unexpected file 'notes.txt'"),
    ({"artifacts/big.bin": b"\0" * 10_000_000}, None, "expands"),
])
def test_unsafe_archives_are_refused_and_nothing_is_written(store, tmp_path, members, symlink, message):
    with pytest.raises(ArchiveError, match=message):
        import_run(store, _zip_with(tmp_path, members, symlink))
    assert store.list_runs() == [] and [p for p in store.runs_dir.iterdir()] == []


def test_a_pickled_checkpoint_is_refused(store, finished_run, tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("never",))

    buffer = io.BytesIO()
    export_run(store, finished_run, buffer)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "artifacts/checkpoint.pt":
                import pickle

                data = pickle.dumps(Exploit())
            target.writestr(info.filename, data)
    other = RunStore(tmp_path / "other")
    with pytest.raises(ArchiveError, match="does not load with weights_only=True"):
        import_run(other, tampered)
    assert other.list_runs() == [] and list(other.runs_dir.iterdir()) == []


def test_garbage_is_not_an_archive(store, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"\x89PNG not a zip")
    with pytest.raises(ArchiveError, match="not a zip file"):
        import_run(store, junk)
    with pytest.raises(ArchiveError, match="run.json is missing"):
        import_run(store, _zip_with(tmp_path, {"metrics.csv": "name,step,value,wall_time\n"}))
