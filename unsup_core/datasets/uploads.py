"""Users' files kept in the lab's data folder, so runs on them can be reopened and repeated.

Each file is stored once by content, ``$UNSUP_LAB_HOME/datasets/uploads/<sha256 prefix>/<name>``,
and never changes afterwards; next to it the loader caches what it read (``.table-v2-*.parquet`` and
``.report-v2-*.json``, or the decoded images), so a worker starting a run on a million-row CSV reads a
Parquet file in a second instead of parsing the text again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.files import check_size, read_file
from unsup_core.datasets.report import LoadedFile, ReadReport
from unsup_core.paths import data_home

CACHE_VERSION = "v2"  # bump when the loader reads the same bytes differently
_HASH_PREFIX = 16
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")
_HASH_FOLDER = re.compile(r"[0-9a-f]{16}")
MAX_NAME_BYTES = 150


def uploads_root() -> Path:
    return data_home() / "datasets" / "uploads"


def _safe_name(name: str) -> str:
    """The name kept on disk: safe characters, at most MAX_NAME_BYTES in UTF-8 (filesystems allow 255)."""
    cleaned = _UNSAFE_NAME.sub("_", Path(name).name).strip(" .") or "upload"
    suffix = Path(cleaned).suffix if len(Path(cleaned).suffix.encode()) <= 16 else ""
    stem = cleaned[:len(cleaned) - len(suffix)] if suffix else cleaned
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.strip(" .") or "upload") + suffix


def _store(source: Path | bytes, name: str) -> Path:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with open(source, "rb") as handle:
            while chunk := handle.read(8 * 1024 * 1024):
                digest.update(chunk)
    folder = uploads_root() / digest.hexdigest()[:_HASH_PREFIX]
    target = folder / _safe_name(name)
    if target.exists():
        return target
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload.")
        with os.fdopen(handle, "wb") as stream:
            if isinstance(source, bytes):
                stream.write(source)
            else:
                with open(source, "rb") as original:
                    shutil.copyfileobj(original, stream, 8 * 1024 * 1024)
        os.replace(temporary, target)
    except BaseException:
        # A full disk must leave nothing behind: no partial copy, and no empty folder listed as an upload.
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # not empty: another upload of the same bytes is being stored
                folder.rmdir()
        raise
    return target


def save_upload(data: bytes, name: str, max_bytes: int | None = None) -> Path:
    """Keep uploaded bytes under their content hash; returns the stored file's path."""
    check_size(name, len(data), max_bytes)
    return _store(data, name)


def add_upload(data: bytes, name: str, max_bytes: int | None = None) -> tuple[Path, LoadedFile]:
    """Store an upload and read it; a file that cannot be read is not kept (it would fail again)."""
    path = save_upload(data, name, max_bytes)
    fresh = not any(p.name.startswith(".table-") for p in path.parent.iterdir())
    try:
        return path, load_file(path)
    except DatasetError:
        if fresh:
            shutil.rmtree(path.parent, ignore_errors=True)
        raise


def import_file(path: str | Path, max_bytes: int | None = None) -> Path:
    """Copy a file from disk into the store (the CLI's ``--dataset FILE``); returns the stored path."""
    path = Path(path)
    if is_stored(path):
        return path
    if not path.is_file():
        raise DatasetError(f"{path} is not a file" if path.exists() else f"no file at {path}")
    check_size(path.name, path.stat().st_size, max_bytes)
    return _store(path, path.name)


def is_stored(path: Path) -> bool:
    """Whether ``path`` is an uploaded file in the store: ``<uploads>/<16 hex digits>/<name>``, no cache file."""
    try:
        resolved = Path(path).resolve()
        return (resolved.parent.parent == uploads_root().resolve() and _HASH_FOLDER.fullmatch(resolved.parent.name)
                is not None and not resolved.name.startswith(".") and resolved.is_file())
    except (OSError, RuntimeError):
        return False


def _cache_paths(path: Path, image_size: int, colour: str) -> tuple[Path, Path, Path]:
    # Per name too: the same bytes stored as .csv and .tsv may be read with different delimiters.
    name = hashlib.sha256(path.name.encode()).hexdigest()[:8]
    suffix = f"{CACHE_VERSION}-{name}-{image_size}-{colour}"
    return (path.parent / f".table-{suffix}.parquet", path.parent / f".report-{suffix}.json",
            path.parent / f".images-{suffix}.npy")


def _write_atomic(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_file(path: str | Path, image_size: int = 0, colour: str = "auto") -> LoadedFile:
    """Read a file, through the store's cache when it is a stored upload."""
    path = Path(path)
    if not is_stored(path):
        return read_file(path, image_size=image_size, colour=colour)
    table_path, report_path, images_path = _cache_paths(path, image_size, colour)
    if table_path.exists() and report_path.exists():
        report = ReadReport.from_dict(json.loads(report_path.read_text()))
        images = np.load(images_path, allow_pickle=False) if report.image_shape else None
        import pyarrow.parquet

        # Column by column, freeing Arrow's copy as it goes: the peak stays near one copy of the table.
        table = pyarrow.parquet.read_table(table_path).to_pandas(self_destruct=True, split_blocks=True)
        if table.columns.empty:  # Parquet keeps no row count without columns
            table = pd.DataFrame(index=pd.RangeIndex(report.n_rows))
        return LoadedFile(table, report, images)
    loaded = read_file(path, image_size=image_size, colour=colour)
    if loaded.images is not None:
        buffer = io.BytesIO()
        np.save(buffer, loaded.images, allow_pickle=False)
        _write_atomic(images_path, buffer.getvalue())
    buffer = io.BytesIO()
    loaded.table.to_parquet(buffer, index=False)
    _write_atomic(table_path, buffer.getvalue())
    _write_atomic(report_path, json.dumps(loaded.report.as_dict()).encode())
    return loaded
