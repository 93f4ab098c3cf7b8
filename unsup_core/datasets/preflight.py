"""Checks made from a file's headers before it is decoded, so that a small file declaring a huge
array, sheet or table is refused before it costs gigabytes or minutes.

Each check compares what the file declares with :class:`~unsup_core.settings.FileLimits` and raises
a :class:`DatasetError` that names the limit and the environment variable that tunes it.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from unsup_core.datasets.base import DatasetError
from unsup_core.settings import FILE_LIMIT_VARS, FileLimits

# What zipfile raises while reading a damaged member: a wrong checksum, a corrupt deflate stream,
# an archive cut short.
ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError)
_MB = 1024**2


def check_limit(limits: FileLimits, limit_name: str, value: float, what: str, unit: str, advice: str) -> None:
    """Refuse ``value`` above ``limits.<limit_name>``: "<what> <value> <unit>, over the limit of ..."."""
    limit = getattr(limits, limit_name)
    if value > limit:
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        raise DatasetError(f"{what} {shown} {unit}, over the limit of {limit:,} {unit} "
                           f"(${FILE_LIMIT_VARS[limit_name]}): {advice}")


def damaged_zip(name: str, error: Exception | str) -> DatasetError:
    return DatasetError(f"{name} is a damaged zip archive ({error}): create the archive again and upload the new file")


def zip_damage(path: Path, suffixes: tuple[str, ...]) -> str | None:
    """After a reader failed: the damage found in the members with these suffixes, else None.

    A member's checksum is checked only once it is read to the end, so a reader parsing a damaged
    member usually fails on the garbled content first.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith(suffixes):
                    with archive.open(info) as stream:
                        while stream.read(_MB):
                            pass
    except ZIP_DAMAGE as error:
        return str(error)
    return None


# -- NumPy ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArrayHeader:
    """What an .npy header declares: ``shape`` and ``dtype``, read without touching the data."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # a Python int: no overflow for a hostile shape

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def objects_refused(where: str) -> DatasetError:
    return DatasetError(f"{where} holds Python objects, which are never loaded (unpickling can run code); "
                        "save a numeric array instead (e.g. np.save with a float or int dtype)")


def read_array_header(stream: IO[bytes], where: str, stored_bytes: int) -> ArrayHeader:
    """The header of an .npy stream of ``stored_bytes`` bytes; refuses objects and a data size that
    differs from what the header declares (a few bytes claiming a huge array)."""
    try:
        version = np.lib.format.read_magic(stream)
        # Version 3.0 differs from 2.0 only in UTF-8 field names, which change no size.
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(stream)
    except ValueError as error:
        raise DatasetError(f"{where} is not a valid NumPy array ({error}): save it again with np.save") from None
    header = ArrayHeader(tuple(shape), dtype)
    if dtype.hasobject:
        raise objects_refused(where)
    data_bytes = stored_bytes - stream.tell()
    if data_bytes != header.nbytes:
        raise DatasetError(f"{where} is damaged: its header declares {header.nbytes:,} bytes of data "
                           f"(shape {header.shape}, {dtype}) but it holds {data_bytes:,}; save the array again")
    return header


def npy_header(path: Path) -> ArrayHeader:
    with open(path, "rb") as handle:
        return read_array_header(handle, path.name, path.stat().st_size)


def npz_headers(path: Path) -> dict[str, ArrayHeader]:
    """Each array's header, by the name np.load gives it (the member name without .npy)."""
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                with archive.open(info) as stream:
                    # file_size bounds what zipfile will ever decompress, whatever the data says.
                    headers[name] = read_array_header(stream, f"array {name!r} in {path.name}", info.file_size)
    except ZIP_DAMAGE as error:
        raise damaged_zip(path.name, error) from None
    return headers


def check_arrays(path: Path, headers: list[ArrayHeader], limits: FileLimits) -> None:
    """The arrays that will be loaded, together, against the element and memory limits."""
    advice = "save a sample of the rows, or images at a smaller size"
    check_limit(limits, "max_array_elements", sum(header.size for header in headers),
                f"{path.name} declares", "array elements", advice)
    check_limit(limits, "max_array_mb", sum(header.nbytes for header in headers) / _MB,
                f"{path.name} declares", "MB of arrays", advice)


# -- Excel ---------------------------------------------------------------------------------------
_SHEET_XML = re.compile(r"xl/worksheets/[^/]+\.xml")
_SHARED_STRINGS = "xl/sharedStrings.xml"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"", re.IGNORECASE)
_DIMENSION_BYTES = 8192  # <dimension> comes right after the sheet's properties
# openpyxl's own cells take 20-60 bytes of XML; above 64 bytes a cell, the XML holds more cells
# than it declares, or text long enough to cost as much.
XML_BYTES_PER_CELL = 64


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _declared_shape(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(rows, columns) of a sheet's ``<dimension ref="A1:Z999"/>``; (0, 0) when it has none."""
    with archive.open(info) as stream:
        match = _DIMENSION.search(stream.read(_DIMENSION_BYTES))
    if not match:
        return 0, 0
    first_column, first_row, last_column, last_row = match.groups()
    if last_column is None:
        return 1, 1
    return (abs(int(last_row) - int(first_row)) + 1,
            abs(_column_number(last_column) - _column_number(first_column)) + 1)


def check_workbook(path: Path, limits: FileLimits) -> None:
    """Sheets, declared cells and unpacked XML of an .xlsx against the limits, before openpyxl parses it."""
    advice = "save the data as CSV or Parquet (read much faster), or keep only the rows and sheets you need"
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [info for info in archive.infolist() if _SHEET_XML.fullmatch(info.filename)]
            check_limit(limits, "max_excel_sheets", len(sheets), f"{path.name} has", "sheets", advice)
            shapes = [_declared_shape(archive, info) for info in sheets]
            strings = [info for info in archive.infolist() if info.filename == _SHARED_STRINGS]
            xml_bytes = sum(info.file_size for info in sheets + strings)
    except ZIP_DAMAGE as error:
        raise damaged_zip(path.name, error) from None
    for rows, columns in shapes:
        check_limit(limits, "max_columns", columns, f"a sheet of {path.name} declares", "columns", advice)
    check_limit(limits, "max_excel_cells", sum(rows * columns for rows, columns in shapes),
                f"the sheets of {path.name} declare", "cells", advice)
    if xml_bytes > limits.max_excel_cells * XML_BYTES_PER_CELL:
        raise DatasetError(
            f"the sheets of {path.name} unpack to {xml_bytes / _MB:,.0f} MB of XML, more than the limit of "
            f"{limits.max_excel_cells:,} cells (${FILE_LIMIT_VARS['max_excel_cells']}) can take at "
            f"{XML_BYTES_PER_CELL} bytes a cell: {advice}")


# -- Parquet -------------------------------------------------------------------------------------
def check_parquet(path: Path, limits: FileLimits) -> None:
    """Rows x columns from the Parquet footer against the table limits, before any column is read."""
    import pyarrow.parquet

    try:
        metadata = pyarrow.parquet.read_metadata(path)
    except Exception as error:  # pyarrow's errors for damaged files have no common base class
        raise DatasetError(f"cannot read the Parquet file {path.name}: {error}") from None
    check_table_shape(path.name, metadata.num_rows, metadata.num_columns, limits)


def check_table_shape(name: str, rows: int, columns: int, limits: FileLimits, rows_word: str = "rows") -> None:
    """Columns, then cells, of a table about to be parsed (``rows_word``: "lines" for an upper bound)."""
    advice = "keep a sample of the rows or only the columns you need"
    check_limit(limits, "max_columns", columns, f"{name} has", "columns", advice)
    check_limit(limits, "max_table_cells", rows * columns,
                f"{name} has {rows:,} {rows_word} x {columns:,} columns =", "cells", advice)
