"""Whole runs as zip files: export on one machine, import on another, and see the same run.

Layout (format 3; 1 and 2 are read too)::

    run.json        the run's outcome (status, step, times, error), its spec, the snapshot index and
                    the hyperparameter changes applied while it trained ({step, name, value} each)
    config.json     the spec alone (algorithm, dataset, config, steps, seed, device)
    metrics.csv     name, step, value, wall_time
    data/NAME       the user's file, for a run on one (so the run can be repeated elsewhere)
    artifacts/...   checkpoint.pt, snapshots/NNNNNNNNN.npz, worker.log, error.log

An archive is data from a stranger. Import trusts no id, path, owner or flag in it: the run gets a
new id made by the store, belongs to whoever imports it and is not shared; its spec is validated
exactly as a new run's (:func:`make_spec`), each hyperparameter change as a change asked of a running
run (a name the algorithm declares adjustable, a value in its range, a step within the run, and at most
``_MAX_CHANGES`` of them); a user's file is stored again under the hash of its bytes;
every member name must be one of the layout's, every size and count is bounded before anything is
written, snapshots load without pickles and the checkpoint with ``weights_only=True``. A refused
import leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from unsup_core.analysis.export import csv_safe_text
from unsup_core.device import resolve_device
from unsup_core.errors import UserError
from unsup_core.runs.control import Change, check_change
from unsup_core.runs.spec import MAX_STEPS, RunSpec, make_spec
from unsup_core.runs.store import TERMINAL_STATUSES, RunStore
from unsup_core.settings import ImportLimits

ARCHIVE_FORMAT = 3
READABLE_FORMATS = (1, 2, 3)
_OUTCOME_FIELDS = ("status", "step", "device_label", "created_at", "started_at", "ended_at", "error")
# Format 1 also wrote these; they are read and thrown away: ids, owners and flags come from this server.
_IGNORED_FIELDS = ("id", "algorithm", "dataset", "steps", "device", "queued_at", "owner", "shared", "parent_id")
_SPEC_FIELDS = ("algorithm", "dataset", "config", "steps", "seed", "device", "dataset_options", "purpose")
_SMALL_MEMBERS = {"run.json": 4 * 1024**2, "config.json": 1024**2, "artifacts/worker.log": 8 * 1024**2,
                  "artifacts/error.log": 1024**2}
_SNAPSHOT = re.compile(r"artifacts/snapshots/(\d{9})\.npz")
_DATA = re.compile(r"data/([\w\-][\w.\- ]{0,199})")
_MAX_METRIC_NAMES = 1000
_MAX_NAME_LENGTH = 200
_MAX_ERROR_LENGTH = 4000
_MAX_SNAPSHOTS = 100_000
_MAX_CHANGES = 10_000
_CHANGE_FIELDS = {"step", "name", "value"}
_METRIC_HEADER = ["name", "step", "value", "wall_time"]
_COPY_CHUNK = 1024**2


class ArchiveError(UserError):
    """The zip is not a run archive we can safely import; the message says why."""


@dataclass
class ImportedMetrics:
    """Metric rows read from an archive, kept compact (a million rows in about 25 MB)."""

    names: list[str]
    codes: np.ndarray  # index into names, per row
    steps: np.ndarray
    values: np.ndarray  # NaN where the archive had no value
    wall_times: np.ndarray


# -- export --------------------------------------------------------------------------------------
def export_run(store: RunStore, run_id: str, target: str | Path | BinaryIO) -> None:
    """Write ``run_id`` (outcome, spec, metrics, snapshots, checkpoint, logs, the user's file) as one zip.

    No owner, id or sharing flag is written: they mean nothing on another server and must never
    become someone's identity there.
    """
    run = store.get_run(run_id)
    outcome = {name: getattr(run, name) for name in _OUTCOME_FIELDS}
    snapshots = [{"step": step} for step in store.snapshot_steps(run_id)]
    changes = [{"step": change.step, "name": change.name, "value": change.value}
               for change in store.applied_changes(run_id)]
    metrics = io.StringIO()
    writer = csv.writer(metrics)
    writer.writerow(_METRIC_HEADER)
    # Metric names can come from an imported archive: no spreadsheet formula leaves this server.
    writer.writerows((csv_safe_text(name), *rest) for name, *rest in store.metric_rows(run_id))
    spec = run.spec.as_dict()
    data_file = store.upload_for_path(spec["dataset_options"].get("path", "")) if run.dataset == "file" else None
    if data_file is not None:
        spec["dataset_options"] = {**spec["dataset_options"], "path": f"data/{data_file.name}"}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run.json", json.dumps({"format": ARCHIVE_FORMAT, "run": outcome, "spec": spec,
                                                 "snapshots": snapshots, "changes": changes}, indent=2))
        archive.writestr("config.json", json.dumps(spec, indent=2))
        archive.writestr("metrics.csv", metrics.getvalue())
        if data_file is not None:
            archive.write(store.upload_path(data_file), f"data/{data_file.name}")
        folder = store.run_dir(run_id)
        for path in sorted(folder.rglob("*")):
            name = f"artifacts/{path.relative_to(folder).as_posix()}"
            if path.is_file() and not path.is_symlink() and _member_limit(name, None) is not None:
                archive.write(path, name)


# -- checking an archive before anything is written -----------------------------------------------
def _member_limit(name: str, limits: ImportLimits | None) -> int | None:
    """The size limit of a member the layout allows, or None for a name it does not allow."""
    member_bytes = limits.max_member_bytes if limits else 0
    if name in _SMALL_MEMBERS:
        return _SMALL_MEMBERS[name] if limits is None else min(_SMALL_MEMBERS[name], member_bytes)
    if name in ("metrics.csv", "artifacts/checkpoint.pt") or _SNAPSHOT.fullmatch(name) or _DATA.fullmatch(name):
        return member_bytes
    return None


def _check_members(archive: zipfile.ZipFile, limits: ImportLimits) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveError(f"refused: the zip holds {len(infos):,} files; a run archive holds at most "
                           f"{limits.max_members:,}")
    members, total = {}, 0
    for info in infos:
        name = info.filename
        if len(name.encode()) > 240:  # a name the filesystem cannot hold is no layout name
            raise ArchiveError(f"refused: a file name in the zip is {len(name.encode())} bytes long")
        if info.is_dir():
            if not name.rstrip("/") in ("artifacts", "artifacts/snapshots", "data"):
                raise ArchiveError(f"refused: unexpected folder {name[:80]!r} (not a run archive)")
            continue
        limit = _member_limit(name, limits)
        if limit is None:
            raise ArchiveError(f"refused: unexpected file {name[:80]!r} (not a run archive)")
        if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):
            raise ArchiveError(f"refused: {name!r} is not a plain file (a link or device)")
        if name in members:
            raise ArchiveError(f"refused: {name!r} appears twice in the zip")
        if info.file_size > limit:
            raise ArchiveError(f"refused: {name} is {info.file_size / 1024**2:,.1f} MB, over the "
                               f"{limit / 1024**2:,.0f} MB allowed for it")
        if info.file_size > 1024**2 and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise ArchiveError(f"refused: {name} expands {info.file_size // max(info.compress_size, 1):,}x "
                               "(a zip bomb?)")
        total += info.file_size
        members[name] = info
    if total > limits.max_total_bytes:
        raise ArchiveError(f"refused: the zip expands to {total / 1024**2:,.0f} MB; the limit is "
                           f"{limits.max_total_bytes / 1024**2:,.0f} MB ($UNSUP_LAB_MAX_IMPORT_MB)")
    if len([name for name in members if name.startswith("data/")]) > 1:
        raise ArchiveError("refused: a run archive holds at most one data file")
    return members


def _read_json(archive: zipfile.ZipFile, members: dict, name: str) -> dict:
    if name not in members:
        raise ArchiveError(f"not a run archive: {name} is missing")
    try:
        value = json.loads(archive.read(members[name]), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ArchiveError(f"not a run archive: {name} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ArchiveError(f"not a run archive: {name} does not hold an object")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ArchiveError(f"not a valid run archive: {message}")


def _timestamp(record: dict, name: str, optional: bool = True) -> float | None:
    value = record.get(name)
    if value is None and optional:
        return None
    try:
        seconds = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # a JSON integer with hundreds of digits
        seconds = math.nan
    _expect(math.isfinite(seconds) and 0 <= seconds <= time.time() + 86400,
            f"{name} must be a time in seconds, got {str(value)[:40]!r}")
    return seconds


def _outcome(meta: dict, steps: int) -> dict:
    """The checked run outcome: only known fields, each of its type and range."""
    record = meta.get("run")
    _expect(isinstance(record, dict), "run must be an object")
    unknown = set(record) - set(_OUTCOME_FIELDS) - (set(_IGNORED_FIELDS) if meta["format"] == 1 else set())
    _expect(not unknown, f"unknown fields in run: {', '.join(sorted(unknown))[:200]}")
    status = record.get("status")
    _expect(isinstance(status, str), "status must be a string")
    error = record.get("error")
    _expect(error is None or isinstance(error, str), "error must be text")
    if status not in TERMINAL_STATUSES:
        _expect(status in ("queued", "running"), f"unknown status {status[:20]!r}")
        status, error = "interrupted", "imported while it was still running"
    step = record.get("step")
    _expect(isinstance(step, int) and not isinstance(step, bool) and 0 <= step <= steps,
            f"step must be an integer from 0 to {steps}")
    label = record.get("device_label")
    _expect(label is None or isinstance(label, str), "device_label must be text")
    outcome = {"status": status, "step": step, "device_label": None if label is None else label[:200],
               "error": None if error is None else error[:_MAX_ERROR_LENGTH],
               "created_at": _timestamp(record, "created_at", optional=False),
               "started_at": _timestamp(record, "started_at"), "ended_at": _timestamp(record, "ended_at")}
    return outcome


def _declared_steps(meta: dict) -> int:
    spec = meta.get("spec")
    _expect(isinstance(spec, dict), "spec must be an object")
    steps = spec.get("steps")
    _expect(isinstance(steps, int) and not isinstance(steps, bool) and 1 <= steps <= MAX_STEPS,
            f"steps must be an integer from 1 to {MAX_STEPS:,}")
    return steps


def _snapshot_steps(meta: dict, members: dict) -> list[int]:
    entries = meta.get("snapshots", [])
    _expect(isinstance(entries, list) and len(entries) <= _MAX_SNAPSHOTS, "snapshots must be a list")
    steps = []
    for entry in entries:
        _expect(isinstance(entry, dict) and set(entry) <= {"step", "file"}, "a snapshot entry must be {step}")
        step = entry.get("step")
        _expect(isinstance(step, int) and not isinstance(step, bool) and 0 <= step < 10**9,
                "a snapshot step must be a whole number")
        steps.append(step)
    _expect(len(set(steps)) == len(steps), "a snapshot step is listed twice")
    missing = [step for step in steps if f"artifacts/snapshots/{step:09d}.npz" not in members]
    _expect(not missing, f"snapshot files for steps {missing[:3]} are missing")
    return sorted(steps)


def _changes(meta: dict, spec: RunSpec, last_step: int) -> list[Change]:
    """The applied hyperparameter changes, each checked as a change asked of a running run."""
    entries = meta.get("changes", [])
    _expect(meta["format"] >= 3 or not entries, "changes need format 3")
    _expect(isinstance(entries, list) and len(entries) <= _MAX_CHANGES,
            f"changes must be a list of at most {_MAX_CHANGES:,}")
    changes = []
    for entry in entries:
        _expect(isinstance(entry, dict) and set(entry) == _CHANGE_FIELDS, "a change must be {step, name, value}")
        step, name, value = entry["step"], entry["name"], entry["value"]
        _expect(isinstance(step, int) and not isinstance(step, bool) and 0 <= step <= last_step,
                f"a change's step must be a whole number from 0 to {last_step}")
        _expect(isinstance(name, str) and isinstance(value, (int, float)) and not isinstance(value, bool)
                and -1e300 < value < 1e300, "a change's name must be text and its value a number")
        try:
            changes.append(Change(name, check_change(spec.algorithm, name, value), step))
        except UserError as error:
            raise ArchiveError(f"not a valid run archive: a change is not allowed: {error}") from None
    return sorted(changes, key=lambda change: change.step)


def _read_metrics(archive: zipfile.ZipFile, members: dict, limits: ImportLimits, steps: int) -> ImportedMetrics:
    """Stream metrics.csv into compact arrays, refusing it past the row limit."""
    if "metrics.csv" not in members:
        raise ArchiveError("not a run archive: metrics.csv is missing")
    names: dict[str, int] = {}
    codes, step_values, values, wall_times = [], [], [], []
    try:
        with archive.open(members["metrics.csv"]) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            _expect(next(reader, None) == _METRIC_HEADER, "metrics.csv must start with name,step,value,wall_time")
            for number, row in enumerate(reader, start=1):
                if number > limits.max_metric_rows:
                    raise ArchiveError(f"refused: metrics.csv has more than {limits.max_metric_rows:,} rows "
                                       "($UNSUP_LAB_MAX_IMPORT_METRIC_ROWS)")
                _expect(len(row) == 4, f"metrics.csv line {number + 1} does not have 4 fields")
                name, step, value, wall_time = row
                _expect(0 < len(name) <= _MAX_NAME_LENGTH, f"metrics.csv line {number + 1}: bad metric name")
                if name not in names:
                    _expect(len(names) < _MAX_METRIC_NAMES, f"more than {_MAX_METRIC_NAMES} metric names")
                    names[name] = len(names)
                codes.append(names[name])
                step_values.append(int(step))
                _expect(0 <= step_values[-1] <= steps, f"metrics.csv line {number + 1}: step must be 0 to {steps}")
                values.append(float(value) if value else math.nan)
                wall_times.append(float(wall_time))
    except (ValueError, csv.Error, UnicodeDecodeError) as error:
        if isinstance(error, ArchiveError):
            raise
        raise ArchiveError(f"not a valid run archive: metrics.csv is malformed ({str(error)[:120]})") from None
    metrics = ImportedMetrics(list(names), np.asarray(codes, np.int32), np.asarray(step_values, np.int64),
                              np.asarray(values, np.float64), np.asarray(wall_times, np.float64))
    _expect(bool(((metrics.steps >= 0) & (metrics.steps <= steps)).all()), f"metric steps must be 0 to {steps}")
    _expect(bool(np.isfinite(metrics.wall_times).all()), "metric wall times must be finite")
    keys = metrics.codes.astype(np.int64) * (steps + 1) + metrics.steps
    _expect(len(np.unique(keys)) == len(keys), "a metric has two values at one step")
    return metrics


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member, trusting its declared size no further than zipfile's own checks do."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as stream, open(target, "xb") as output:
        while chunk := stream.read(_COPY_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise ArchiveError(f"refused: {info.filename} is larger than the zip says")
            output.write(chunk)


def _verify_snapshots(folder: Path, limits: ImportLimits) -> None:
    """Every snapshot holds plain arrays (no pickles) of bounded size, judged from headers, not decoded.

    An .npz is itself a zip: a few kilobytes stored in the archive can declare gigabytes of zeros.
    """
    from unsup_core.datasets.preflight import npz_headers

    declared = 0
    for path in folder.rglob("*.npz"):
        try:
            with zipfile.ZipFile(path) as arrays:
                for info in arrays.infolist():
                    if info.file_size > 1024**2 and info.file_size > limits.max_compression_ratio * max(
                            info.compress_size, 1):
                        raise ArchiveError(f"refused: snapshot {path.name} expands {info.file_size // max(info.compress_size, 1):,}x")
            declared += sum(header.nbytes for header in npz_headers(path).values())
        except (UserError, zipfile.BadZipFile, ValueError, OSError) as error:
            if isinstance(error, ArchiveError):
                raise
            raise ArchiveError(f"refused: snapshot {path.name} is not a plain array file ({str(error)[:120]})") from None
        if declared > limits.max_total_bytes:
            raise ArchiveError(f"refused: the snapshots declare more than {limits.max_total_bytes / 1024**2:,.0f} MB "
                               "of arrays ($UNSUP_LAB_MAX_IMPORT_MB)")


def _verify_checkpoint(folder: Path) -> None:
    """The checkpoint must load with weights_only=True and be one this lab wrote."""
    import torch

    checkpoint = folder / "checkpoint.pt"
    if checkpoint.exists():
        try:
            payload = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ArchiveError("refused: the checkpoint does not load with weights_only=True "
                               f"({str(error)[:120]})") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("step"), int) or "state" not in payload:
            raise ArchiveError("refused: the checkpoint is not one this lab wrote (no step and state)")


def _spec(meta: dict, data_path: Path | None) -> RunSpec:
    """The spec, validated exactly as a new run's; a user's file is the one just stored, never a path."""
    spec = meta.get("spec")
    _expect(isinstance(spec, dict), "spec must be an object")
    unknown = set(spec) - set(_SPEC_FIELDS)
    _expect(not unknown, f"unknown fields in spec: {', '.join(sorted(unknown))[:200]}")
    config, options = spec.get("config", {}), spec.get("dataset_options", {})
    _expect(isinstance(config, dict) and isinstance(options, dict), "config and dataset_options must be objects")
    for name in ("algorithm", "dataset", "device", "purpose"):
        _expect(isinstance(spec.get(name, "auto"), str), f"{name} must be text")
    for name in ("steps", "seed"):
        _expect(isinstance(spec.get(name), int) and not isinstance(spec.get(name), bool), f"{name} must be an integer")
    if spec["dataset"] == "file":
        if data_path is None:
            raise ArchiveError("refused: the run is on a user's file but the archive does not hold it (data/...)")
        options = {**options, "path": str(data_path)}
    device, purpose = spec.get("device", "auto"), spec.get("purpose", "")
    try:
        return make_spec(spec["algorithm"], spec["dataset"], config, steps=spec["steps"], seed=spec["seed"],
                         device=device, dataset_options=options, purpose=purpose)
    except UserError as error:
        if device == "auto":
            raise ArchiveError(f"refused: the archived run's settings are not valid here: {error}") from None
    # A GPU run imported on a machine without one: same run, device chosen here.
    try:
        return make_spec(spec["algorithm"], spec["dataset"], config, steps=spec["steps"], seed=spec["seed"],
                         device="auto", dataset_options=options, purpose=purpose)
    except UserError as error:
        raise ArchiveError(f"refused: the archived run's settings are not valid here: {error}") from None


def _store_data_file(store: RunStore, archive: zipfile.ZipFile, members: dict, staging: Path, owner: str):
    """The archive's data file, stored under the hash of its bytes (or None); returns (path, fresh)."""
    from unsup_core.datasets.uploads import import_file

    names = [name for name in members if name.startswith("data/")]
    if not names:
        return None, False
    info = members[names[0]]
    local = staging / "data" / _DATA.fullmatch(names[0]).group(1)
    _copy_member(archive, info, local)
    existed = {path.parent for path in store.uploads_dir.glob("*/*")} if store.uploads_dir.exists() else set()
    stored = import_file(local)
    local.unlink()
    local.parent.rmdir()
    return stored, stored.parent not in existed


def import_run(store: RunStore, source: str | Path | BinaryIO, *, owner: str,
               limits: ImportLimits | None = None) -> str:
    """Add the archived run to ``store`` as a new run of ``owner``; returns its new id."""
    limits = limits or ImportLimits.from_env()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ArchiveError(f"not a zip file: {str(error)[:120]}") from None
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=store.runs_dir))
    stored_data, fresh_data = None, False
    try:
        with archive:
            members = _check_members(archive, limits)
            meta = _read_json(archive, members, "run.json")
            _expect(set(meta) <= {"format", "run", "spec", "snapshots", "changes"}, "unknown fields in run.json")
            _expect(meta.get("format") in READABLE_FORMATS, f"unsupported format {str(meta.get('format'))[:20]!r}")
            # Everything that needs no data file first: a refused archive never makes the file read.
            steps = _declared_steps(meta)
            outcome = _outcome(meta, steps)
            snapshot_steps = _snapshot_steps(meta, members)
            metrics = _read_metrics(archive, members, limits, steps)
            stored_data, fresh_data = _store_data_file(store, archive, members, staging, owner)
            spec = _spec(meta, stored_data)
            outcome["device"] = resolve_device(spec.device)
            changes = _changes(meta, spec, outcome["step"])
            artifacts = staging / "run"
            artifacts.mkdir()
            for name, info in members.items():
                if name.startswith("artifacts/"):
                    _copy_member(archive, info, artifacts / name.removeprefix("artifacts/"))
            _verify_snapshots(artifacts, limits)
            _verify_checkpoint(artifacts)
        if stored_data is not None:
            store.record_upload(stored_data, owner)
        run_id = store.add_imported_run(spec, outcome, artifacts, metrics, snapshot_steps, owner=owner,
                                        changes=changes)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        _discard(stored_data if fresh_data else None)
        raise ArchiveError(f"the zip is damaged: {str(error)[:120]}") from None
    except BaseException:
        _discard(stored_data if fresh_data else None)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return run_id


def _discard(stored_data: Path | None) -> None:
    """Remove a data file this refused import stored (never one that was there before)."""
    if stored_data is not None:
        shutil.rmtree(stored_data.parent, ignore_errors=True)
