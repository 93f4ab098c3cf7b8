"""Whole runs as zip files: export on one machine, import on another, and see the same run.

Layout (format 1)::

    run.json        the run record, its spec and the snapshot index
    config.json     the spec alone (algorithm, dataset, config, steps, seed, device)
    metrics.csv     name, step, value, wall_time
    artifacts/...   the run folder: snapshots/*.npz, checkpoint.pt, logs

Import trusts nothing in the zip: member names must be plain relative paths inside the layout (no
``..``, no absolute paths, no symlinks), sizes are bounded, snapshots must load without pickles and
the checkpoint with ``weights_only=True``; otherwise the import is refused and nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from unsup_core.errors import UserError
from unsup_core.runs.spec import RunSpec
from unsup_core.runs.store import TERMINAL_STATUSES, RunStore

ARCHIVE_FORMAT = 1
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 200  # zip bombs compress far better than real arrays and checkpoints
_RECORD_FIELDS = ("id", "algorithm", "dataset", "status", "steps", "step", "device", "device_label",
                  "created_at", "queued_at", "started_at", "ended_at", "error", "owner", "shared", "parent_id")


class ArchiveError(UserError):
    """The zip is not a run archive we can safely import; the message says why."""


def export_run(store: RunStore, run_id: str, target: str | Path | BinaryIO) -> None:
    """Write ``run_id`` (record, config, metrics, snapshots, checkpoint, logs) as one zip."""
    run = store.get_run(run_id)
    record = {name: getattr(run, name) for name in _RECORD_FIELDS}
    snapshots = [{"step": step, "file": f"snapshots/{step:09d}.npz"} for step in store.snapshot_steps(run_id)]
    metrics = io.StringIO()
    writer = csv.writer(metrics)
    writer.writerow(["name", "step", "value", "wall_time"])
    writer.writerows(store.metric_rows(run_id))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.json", json.dumps({"format": ARCHIVE_FORMAT, "run": record,
                                                 "spec": run.spec.as_dict(), "snapshots": snapshots}, indent=2))
        archive.writestr("config.json", json.dumps(run.spec.as_dict(), indent=2))
        archive.writestr("metrics.csv", metrics.getvalue())
        folder = store.run_dir(run_id)
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                archive.write(path, f"artifacts/{path.relative_to(folder).as_posix()}")


def _check_members(archive: zipfile.ZipFile) -> None:
    total = 0
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if (info.filename.startswith("/") or "\\" in info.filename or ".." in name.parts
                or (name.parts and ":" in name.parts[0])):
            raise ArchiveError(f"refused: the zip holds an unsafe path {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(f"refused: the zip holds a symbolic link {info.filename!r}")
        if info.is_dir():
            continue
        if str(name) not in ("run.json", "config.json", "metrics.csv") and name.parts[0] != "artifacts":
            raise ArchiveError(f"refused: unexpected file {info.filename!r} (not a run archive)")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise ArchiveError(f"refused: {info.filename!r} expands {info.file_size // info.compress_size}x")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise ArchiveError(f"refused: the zip expands to {total / 1024**3:.1f} GiB")


def _read_json(archive: zipfile.ZipFile, name: str) -> dict:
    try:
        return json.loads(archive.read(name))
    except KeyError:
        raise ArchiveError(f"not a run archive: {name} is missing") from None
    except (ValueError, UnicodeDecodeError):
        raise ArchiveError(f"not a run archive: {name} is not valid JSON") from None


def _verify_artifacts(folder: Path) -> None:
    """Every snapshot must load without pickles, the checkpoint with weights_only."""
    import torch

    for path in folder.rglob("*.npz"):
        try:
            with np.load(path, allow_pickle=False) as arrays:
                for name in arrays.files:
                    arrays[name]
        except Exception as error:
            raise ArchiveError(f"refused: snapshot {path.name} is not a plain array file ({error})") from None
    checkpoint = folder / "checkpoint.pt"
    if checkpoint.exists():
        try:
            torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ArchiveError(f"refused: the checkpoint does not load with weights_only=True ({error})") from None


def import_run(store: RunStore, source: str | Path | BinaryIO) -> str:
    """Add the archived run to ``store`` under its own id; returns the id."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"not a zip file: {error}") from None
    with archive:
        _check_members(archive)
        meta = _read_json(archive, "run.json")
        if meta.get("format") != ARCHIVE_FORMAT:
            raise ArchiveError(f"unsupported archive format {meta.get('format')!r} (expected {ARCHIVE_FORMAT})")
        try:
            record = {name: meta["run"][name] for name in _RECORD_FIELDS}
            spec = RunSpec(**meta["spec"])
            snapshot_steps = [int(entry["step"]) for entry in meta.get("snapshots", [])]
            rows = [(row["name"], int(row["step"]), float(row["value"]) if row["value"] else None,
                     float(row["wall_time"]))
                    for row in csv.DictReader(io.StringIO(archive.read("metrics.csv").decode()))]
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as error:
            raise ArchiveError(f"not a run archive: malformed record ({error})") from None
        if store.has_run(record["id"]):
            raise ArchiveError(f"a run with id {record['id']} already exists here")
        if record["status"] not in TERMINAL_STATUSES:
            record["status"], record["error"] = "interrupted", "imported while it was still running"
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=store.runs_dir))
        try:
            for info in archive.infolist():
                if info.filename.startswith("artifacts/") and not info.is_dir():
                    target = staging.joinpath(*PurePosixPath(info.filename).parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(info) as stream, open(target, "wb") as output:
                        shutil.copyfileobj(stream, output)
            _verify_artifacts(staging)
            missing = [step for step in snapshot_steps if not (staging / f"snapshots/{step:09d}.npz").exists()]
            if missing:
                raise ArchiveError(f"not a run archive: snapshot files for steps {missing[:3]} are missing")
            staging.rename(store.run_dir(record["id"]))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    store.insert_imported(record, spec, rows, snapshot_steps)
    return record["id"]
