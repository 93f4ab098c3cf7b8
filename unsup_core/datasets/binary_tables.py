"""Excel workbooks, Parquet files and NumPy arrays (.npy/.npz, never unpickled) into clean tables.

Each reader first checks what the file declares (:mod:`preflight`) and only then decodes it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.columns import clean_header, clean_table
from unsup_core.datasets.preflight import (ZIP_DAMAGE, ArrayHeader, check_arrays, check_parquet, check_table_shape,
                                           check_workbook, damaged_zip, npy_header, npz_headers, zip_damage)
from unsup_core.datasets.report import LoadedFile, ReadReport, describe_columns
from unsup_core.datasets.sniff import is_numeric_looking
from unsup_core.settings import FileLimits

DATA_ARRAY_NAMES = ("X", "x", "data", "features", "images", "arr_0")


def _finish(path: Path, raw: pd.DataFrame, file_format: str, notes: list[str],
            padding_from: int | None = None, images: np.ndarray | None = None) -> LoadedFile:
    table, kinds, warnings = clean_table(raw, padding_from=padding_from)
    report = ReadReport(file_name=path.name, format=file_format, n_rows=len(table),
                        columns=describe_columns(table, kinds), notes=notes, warnings=warnings,
                        image_shape=None if images is None else tuple(images.shape[1:]))
    return LoadedFile(table, report, images)


# -- Excel ---------------------------------------------------------------------------------------
def _non_empty(row: pd.Series) -> list:
    return [value for value in row if not (value is None or (isinstance(value, float) and np.isnan(value))
                                           or (isinstance(value, str) and not value.strip()))]


def _first_sheet_with_data(path: Path) -> tuple[str, pd.DataFrame, int, list[str]] | None:
    """(sheet name, its non-empty rows and columns, number of sheets, sheets passed over); sheets after it are
    never parsed. A table has two columns and two rows: a cover sheet (a title, a note) before it is passed
    over; a workbook without such a sheet gives its first sheet with data."""
    first_with_data = None
    passed_over = []
    with pd.ExcelFile(path, engine="openpyxl") as workbook:
        for sheet in workbook.sheet_names:
            grid = pd.read_excel(workbook, sheet_name=sheet, header=None).dropna(how="all").dropna(axis=1, how="all")
            if grid.empty:
                continue
            if grid.shape[0] >= 2 and grid.shape[1] >= 2:
                return sheet, grid, len(workbook.sheet_names), passed_over
            passed_over.append(sheet)
            first_with_data = first_with_data or (sheet, grid, len(workbook.sheet_names), [])
    return first_with_data


def read_excel(path: Path) -> LoadedFile:
    """The first sheet with data; a title block above the header is skipped and reported."""
    check_workbook(path, FileLimits.from_env())
    try:
        found = _first_sheet_with_data(path)
    except ZIP_DAMAGE as error:
        raise damaged_zip(path.name, error) from None
    except Exception as error:  # openpyxl raises many types for damaged or encrypted workbooks
        damage = zip_damage(path, (".xml", ".rels"))  # what openpyxl parses
        raise (damaged_zip(path.name, damage) if damage else
               DatasetError(f"cannot read the Excel workbook {path.name}: {error}")) from None
    if found is None:
        raise DatasetError(f"every sheet of {path.name} is empty")
    sheet, grid, n_sheets, passed_over = found
    notes = [f"sheet {sheet!r}" + (f" (the first with data; {n_sheets} sheets in all)" if n_sheets > 1 else "")]
    if passed_over:
        notes[0] = (f"sheet {sheet!r} (the first holding a table; {n_sheets} sheets in all; passed over "
                    f"{', '.join(map(repr, passed_over))}: not two columns and two rows)")
    counts = [len(_non_empty(row)) for _, row in grid.iterrows()]
    modal = max(set(counts), key=counts.count)
    skip = 0
    while skip < len(counts) - 1 and counts[skip] < max(2, modal // 2 + 1) <= modal:
        skip += 1
    if skip:
        notes.append(f"skipped {skip} row{'s' if skip > 1 else ''} above the header (title or notes)")
    first = grid.iloc[skip]
    cells = _non_empty(first)
    header = not all(isinstance(cell, (int, float)) or is_numeric_looking(str(cell)) for cell in cells)
    if header:
        names, renamed = clean_header(list(first))
        notes += renamed
        raw = grid.iloc[skip + 1:]
    else:
        names = [f"column_{position}" for position in range(1, grid.shape[1] + 1)]
        raw = grid.iloc[skip:]
    raw = raw.set_axis(names, axis=1).reset_index(drop=True)
    if raw.empty:
        raise DatasetError(f"sheet {sheet!r} of {path.name} has a header but no data rows")
    return _finish(path, raw, "excel", notes)


# -- Parquet -------------------------------------------------------------------------------------
def read_parquet(path: Path) -> LoadedFile:
    check_parquet(path, FileLimits.from_env())
    try:
        raw = pd.read_parquet(path)
    except Exception as error:  # pyarrow's errors for damaged files have no common base class
        raise DatasetError(f"cannot read the Parquet file {path.name}: {error}") from None
    names, notes = clean_header(list(raw.columns))
    raw = raw.set_axis(names, axis=1).reset_index(drop=True)
    if raw.empty:
        raise DatasetError(f"{path.name} has no rows")
    return _finish(path, raw, "parquet", notes)


# -- NumPy ---------------------------------------------------------------------------------------
def as_images(array: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """[N, H, W], [N, H, W, C] or [N, C, H, W] as float32 in [0, 1] ([N, H, W] or [N, C, H, W]); else None.

    A float32 ``array`` is scaled in place.
    """
    notes = []
    if array.ndim == 4 and array.shape[-1] in (1, 3, 4) and array.shape[1] not in (1, 3):
        array = np.moveaxis(array, -1, 1)
    if array.ndim == 4:
        if array.shape[1] == 4:
            array = array[:, :3]
            notes.append("alpha channel dropped")
        if array.shape[1] == 1:
            array = array[:, 0]
    if array.ndim not in (3, 4):
        return None
    images = array.astype(np.float32, copy=False)  # float32 data is scaled in place: it may be a gigabyte
    if not np.isfinite(images).all():
        raise DatasetError("the image array holds NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if array.dtype == np.uint8:
        images /= 255.0
        notes.append("pixel values 0-255 scaled to [0, 1]")
    elif low < 0 or high > 1:
        images -= low
        images /= high - low or 1.0
        notes.append(f"pixel values in [{low:g}, {high:g}] scaled to [0, 1]")
    return images, notes


def _check_numeric(path: Path, name: str, array: np.ndarray) -> None:
    text_column = array.ndim == 1 and array.dtype.kind in "US"
    if array.dtype.names is None and array.dtype.kind not in "biuf" and not text_column:
        raise DatasetError(f"array {name!r} in {path.name} has dtype {array.dtype}, not numbers")


def _array_table(array: np.ndarray, name: str) -> pd.DataFrame:
    if array.dtype.names is not None:  # a structured (record) array: its fields are the columns
        return pd.DataFrame({field: array[field] for field in array.dtype.names})
    if array.ndim == 1:
        return pd.DataFrame({name: array})
    flat = array.reshape(len(array), -1)
    return pd.DataFrame(flat, columns=[f"x{i}" for i in range(flat.shape[1])])


def _table_or_images(path: Path, data_name: str, data: np.ndarray, extra: dict[str, np.ndarray],
                     file_format: str, notes: list[str]) -> LoadedFile:
    _check_numeric(path, data_name, data)
    if len(data) == 0:
        raise DatasetError(f"array {data_name!r} in {path.name} has no rows")
    extra_table = pd.DataFrame({name: values for name, values in extra.items()})
    converted = as_images(data) if data.dtype.names is None else None
    if converted is not None:
        images, image_notes = converted
        notes.append(f"images from array {data_name!r}, {' x '.join(map(str, images.shape[1:]))} each")
        return _finish(path, extra_table.reindex(range(len(images))), file_format, notes + image_notes,
                       images=images)
    if data.ndim > 2:
        notes.append(f"array {data_name!r} of shape {data.shape} flattened to {len(data)} rows")
    table = _array_table(data, data_name)
    for name in extra:
        if name in table.columns:
            raise DatasetError(f"{path.name}: array {name!r} has the same name as a column of {data_name!r}")
    return _finish(path, pd.concat([table, extra_table], axis=1), file_format, notes)


def _check_table_size(path: Path, where: str, header: ArrayHeader, extra_columns: int, limits: FileLimits) -> None:
    """Arrays that become tables meet the table limits; images (3-D, 4-D) only the array limits."""
    if header.dtype.names is None and len(header.shape) in (3, 4):
        return
    if not header.shape:
        raise DatasetError(f"{where} holds a single value, not rows of data: save an array of shape [rows, columns]")
    columns = len(header.dtype.names) if header.dtype.names else math.prod(header.shape[1:])
    check_table_shape(path.name, header.shape[0], columns + extra_columns, limits)


def read_npy(path: Path) -> LoadedFile:
    header, limits = npy_header(path), FileLimits.from_env()
    check_arrays(path, [header], limits)
    _check_table_size(path, path.name, header, 0, limits)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read {path.name}: {error}") from None
    return _table_or_images(path, "array", array, {}, "npy", [f"array of shape {array.shape}, dtype {array.dtype}"])


def _load_arrays(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except ZIP_DAMAGE as error:
        raise damaged_zip(path.name, error) from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"cannot read {path.name}: {error}") from None


def read_npz(path: Path) -> LoadedFile:
    """The main array (X, data, ... or the largest one) plus 1-D arrays of the same length as columns;
    only these are decoded, after their headers passed the limits."""
    headers = npz_headers(path)
    if not headers:
        raise DatasetError(f"{path.name} holds no arrays")
    named = [name for name in DATA_ARRAY_NAMES if name in headers and len(headers[name].shape) >= 2]
    data_name = named[0] if named else max(headers, key=lambda name: (len(headers[name].shape) >= 2,
                                                                       headers[name].size))
    rows = headers[data_name].shape[:1]
    extra_names = [name for name, header in headers.items()
                   if name != data_name and len(header.shape) == 1 and header.shape[:1] == rows]
    limits = FileLimits.from_env()
    check_arrays(path, [headers[name] for name in [data_name, *extra_names]], limits)
    _check_table_size(path, f"array {data_name!r} in {path.name}", headers[data_name], len(extra_names), limits)
    extra = _load_arrays(path, [data_name, *extra_names])
    data = extra.pop(data_name)
    for name, values in extra.items():
        _check_numeric(path, name, values)
    ignored = sorted(set(headers) - set(extra) - {data_name})
    notes = [f"data from array {data_name!r} of shape {data.shape}"]
    if extra:
        notes.append(f"1-D arrays {', '.join(map(repr, extra))} added as columns")
    if ignored:
        notes.append(f"arrays {', '.join(map(repr, ignored))} ignored (their length does not match)")
    return _table_or_images(path, data_name, data, extra, "npz", notes)
