"""Excel workbooks, Parquet files and NumPy arrays (.npy/.npz, never unpickled) into clean tables."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.columns import clean_header, clean_table
from unsup_core.datasets.report import LoadedFile, ReadReport, describe_columns
from unsup_core.datasets.sniff import is_numeric_looking

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


def read_excel(path: Path) -> LoadedFile:
    """The first sheet with data; a title block above the header is skipped and reported."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for damaged or encrypted workbooks
        raise DatasetError(f"cannot read the Excel workbook {path.name}: {error}") from None
    filled = [(name, grid.dropna(how="all").dropna(axis=1, how="all")) for name, grid in sheets.items()]
    filled = [(name, grid) for name, grid in filled if not grid.empty]
    if not filled:
        raise DatasetError(f"every sheet of {path.name} is empty")
    sheet, grid = filled[0]
    notes = [f"sheet {sheet!r}" + (f" (the first with data; {len(sheets)} sheets in all)" if len(sheets) > 1 else "")]
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
def _refuse_objects(path: Path, name: str | None, error: ValueError) -> DatasetError:
    where = f"array {name!r} in {path.name}" if name else path.name
    if "pickle" in str(error) or "object" in str(error).lower():
        return DatasetError(f"{where} holds Python objects, which are never loaded (unpickling can run code); "
                            "save a numeric array instead (e.g. np.save with a float or int dtype)")
    return DatasetError(f"cannot read {where}: {error}")


def as_images(array: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """[N, H, W], [N, H, W, C] or [N, C, H, W] as float32 in [0, 1] ([N, H, W] or [N, C, H, W]); else None."""
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
    images = array.astype(np.float32)
    if not np.isfinite(images).all():
        raise DatasetError("the image array holds NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if array.dtype == np.uint8:
        images /= 255.0
        notes.append("pixel values 0-255 scaled to [0, 1]")
    elif low < 0 or high > 1:
        images = (images - low) / (high - low or 1.0)
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


def read_npy(path: Path) -> LoadedFile:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise _refuse_objects(path, None, error) from None
    return _table_or_images(path, "array", array, {}, "npy", [f"array of shape {array.shape}, dtype {array.dtype}"])


def read_npz(path: Path) -> LoadedFile:
    """The main array (X, data, ... or the largest one) plus 1-D arrays of the same length as columns."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DatasetError(f"cannot read {path.name}: {error}") from None
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:
                raise _refuse_objects(path, name, error) from None
    if not arrays:
        raise DatasetError(f"{path.name} holds no arrays")
    named = [name for name in DATA_ARRAY_NAMES if name in arrays and arrays[name].ndim >= 2]
    data_name = named[0] if named else max(arrays, key=lambda name: (arrays[name].ndim >= 2, arrays[name].size))
    data = arrays[data_name]
    extra = {name: values for name, values in arrays.items()
             if name != data_name and values.ndim == 1 and len(values) == len(data)}
    for name, values in extra.items():
        _check_numeric(path, name, values)
    ignored = sorted(set(arrays) - set(extra) - {data_name})
    notes = [f"data from array {data_name!r} of shape {data.shape}"]
    if extra:
        notes.append(f"1-D arrays {', '.join(map(repr, extra))} added as columns")
    if ignored:
        notes.append(f"arrays {', '.join(map(repr, ignored))} ignored (their length does not match)")
    return _table_or_images(path, data_name, data, extra, "npz", notes)
