"""The one entry point for a user's file: check its size, recognise its format, read it, check it is usable.

    loaded = read_file("survey.csv")      # LoadedFile: .table, .report, .images
    print("\\n".join(loaded.report.summary_lines()))

Every failure is a :class:`DatasetError` whose message says what is wrong and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.binary_tables import read_excel, read_npy, read_npz, read_parquet
from unsup_core.datasets.image_zip import read_image_zip
from unsup_core.datasets.report import LoadedFile
from unsup_core.datasets.sniff import detect_format
from unsup_core.datasets.text_tables import read_text_table

ENV_MAX_MB = "UNSUP_LAB_MAX_FILE_MB"
DEFAULT_MAX_MB = 1024
_READERS = {"csv": read_text_table, "excel": read_excel, "parquet": read_parquet, "npy": read_npy, "npz": read_npz}


def max_file_bytes() -> int:
    """The size limit for files read from disk (``$UNSUP_LAB_MAX_FILE_MB``, default 1024 MB)."""
    return int(float(os.environ.get(ENV_MAX_MB) or DEFAULT_MAX_MB) * 1024**2)


def readable_size(n_bytes: int) -> str:
    """A file's size as a person reads it: '359 bytes', '48 KB', '1.5 MB' (a 359-byte file is not '0 KB')."""
    if n_bytes < 1024:
        return f"{n_bytes:,} byte{'s' if n_bytes != 1 else ''}"
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.1f} {unit}"
    return f"{n_bytes / 1024:,.0f} KB"


def check_size(name: str, size: int, max_bytes: int | None = None) -> None:
    limit = max_file_bytes() if max_bytes is None else max_bytes
    if size == 0:
        raise DatasetError(f"{name} is empty")
    if size > limit:
        raise DatasetError(f"{name} is {size / 1024**2:,.1f} MB, over the {limit / 1024**2:,.0f} MB limit: "
                           f"use a sample of the rows, or Parquet or .npy, which are smaller than CSV "
                           f"(the limit is ${ENV_MAX_MB})")


def read_file(path: str | Path, *, max_bytes: int | None = None, image_size: int = 0,
              colour: str = "auto") -> LoadedFile:
    """Read a CSV/TSV/TXT, .xlsx, Parquet, .npy/.npz or .zip of images, reporting what was assumed."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} is not a file" if path.exists() else f"no file at {path}")
    check_size(path.name, path.stat().st_size, max_bytes)
    file_format = detect_format(path)
    if file_format == "image zip":
        loaded = read_image_zip(path, image_size=image_size, colour=colour)
    else:
        loaded = _READERS[file_format](path)
    check_usable(loaded)
    return loaded


def check_usable(loaded: LoadedFile) -> None:
    """A table needs a numeric column, or two categorical ones (one alone only restates its values)."""
    report = loaded.report
    if loaded.images is not None or report.names("numeric") or len(report.names("categorical")) >= 2:
        return
    if report.n_columns == 1 and report.format == "text table":
        raise DatasetError(
            f"{report.file_name} has one column and it holds text, so there is nothing to cluster. If it is a "
            "table, its delimiter was not recognised: save it with commas, semicolons or tabs between values")
    if report.n_columns == 1:  # a delimiter means nothing to Excel, Parquet or NumPy files
        raise DatasetError(f"{report.file_name} has one column and it holds text, so there is nothing to "
                           "cluster: add numeric or categorical columns")
    raise DatasetError(f"{report.file_name} has no numeric column and fewer than two categorical ones, so there "
                       "is nothing to cluster: add numeric or categorical columns")
