"""Taking results away: the original rows with cluster, outlier score and embedding columns; the config.

Runs hand back per-row results in their snapshots as ``row_<column>`` arrays (``row_cluster``,
``row_outlier_score``, ``row_pca_1``...), one value per sample of the dataset the run saw, or per
sample listed in ``row_subset`` when only a sample was used. The export puts them next to the
file's own rows; rows a run did not see (dropped for missing values, outside a sample) stay empty.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from unsup_core.datasets import Dataset, load_dataset

ROW_PREFIX = "row_"
SUBSET = "row_subset"
EXPORT_FORMATS = ("csv", "parquet")
# Rows one selection's download holds (a cluster may be a million rows; the whole file with its
# clusters is the page's export, not this): the page lists far fewer, this caps the CSV.
SELECTION_DOWNLOAD_MAX_ROWS = 100_000
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|...,
# @SUM(...)): in a CSV for download such text gets a leading ' so it opens as the text it is (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_text(value: object) -> object:
    """``value`` with a leading ' when it is text a spreadsheet would run as a formula, else unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv_safe_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.rename_categories([csv_safe_text(name) for name in column.cat.categories])
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype) \
            or pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    try:  # vectorised: non-text cells (numbers in a mixed column, gaps) count as safe
        risky = column.str.startswith(FORMULA_STARTS, na=False).astype(bool)
    except AttributeError:  # not a text column at all (e.g. lists, bytes): as it is
        return column
    if not risky.any():
        return column
    column = column.copy()
    column[risky] = "'" + column[risky].astype(str)
    return column


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text cells and column names made safe to open in a spreadsheet (a copy)."""
    safe = pd.DataFrame({position: _csv_safe_column(frame.iloc[:, position]) for position in range(frame.shape[1])},
                        index=frame.index)
    safe.columns = [csv_safe_text(name) for name in frame.columns]
    return safe


def row_outputs(snapshot: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-row arrays of a snapshot (with ``row_subset`` when present)."""
    return {name: values for name, values in snapshot.items() if name.startswith(ROW_PREFIX)}


def dataset_table(data: Dataset, rows: np.ndarray | None = None) -> pd.DataFrame:
    """A built-in dataset as a table (or only its samples ``rows``): features, and label names when labelled."""
    rows = np.arange(data.n_samples) if rows is None else np.asarray(rows, dtype=np.int64)
    table = pd.DataFrame(data.X[rows], columns=data.feature_names)
    if data.y is not None:
        names = data.label_names
        table["label"] = [names[value] if names and 0 <= value < len(names) else value for value in data.y[rows]]
    return table


def source_table(dataset: str, options: dict) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows to export for a run's dataset, and which of them each sample came from."""
    data = load_dataset(dataset, **options)
    if dataset == "file":
        from unsup_core.datasets.file_dataset import open_file

        return open_file(options).table, data.source_rows
    return dataset_table(data), np.arange(data.n_samples)


def _free_name(table: pd.DataFrame, name: str) -> str:
    candidate, number = name, 2
    while candidate in table.columns:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def labelled_rows(table: pd.DataFrame, source_rows: np.ndarray, outputs: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """``table`` plus one column per ``row_*`` array of each output; integer columns stay integers."""
    result = table.reset_index(drop=True)  # copy-on-write: the caller's table is never changed
    for arrays in outputs:
        subset = arrays.get(SUBSET)
        target = np.asarray(source_rows) if subset is None else np.asarray(source_rows)[subset]
        for name, values in arrays.items():
            if name == SUBSET:
                continue
            column = _free_name(result, name[len(ROW_PREFIX):])
            if len(values) != len(target):
                raise ValueError(f"{name} has {len(values)} values for {len(target)} rows")
            if np.issubdtype(values.dtype, np.integer):
                filled = pd.array(np.full(len(result), pd.NA), dtype="Int64")
            else:
                filled = np.full(len(result), np.nan)
            filled[target] = values
            result[column] = filled
    return result


def rows_of_samples(table: pd.DataFrame, source_rows: np.ndarray, samples: np.ndarray,
                    clusters: np.ndarray, cluster_column: str = "cluster") -> pd.DataFrame:
    """The original rows of ``samples`` (indices into the prepared data), in order, with their cluster.

    ``source_rows[i]`` is the table row sample ``i`` came from; ``clusters[i]`` its cluster.
    """
    samples = np.asarray(samples, dtype=np.int64)
    rows = table.iloc[np.asarray(source_rows)[samples]].reset_index(drop=True)
    rows.insert(0, _free_name(rows, cluster_column), np.asarray(clusters)[samples])
    return rows


def download_label(n_rows: int) -> str:
    """The button text of a selection's CSV download, saying when it holds only the first rows."""
    if n_rows > SELECTION_DOWNLOAD_MAX_ROWS:
        return f"Download the first {SELECTION_DOWNLOAD_MAX_ROWS:,} of these {n_rows:,} rows (CSV)"
    if n_rows == 1:  # a cluster of one row, or one clicked point
        return "Download this row (CSV)"
    return f"Download these {n_rows:,} rows (CSV)"


def sample_rows(dataset: str, options: dict, samples: np.ndarray, clusters: np.ndarray,
                cluster_column: str = "cluster") -> pd.DataFrame:
    """The original rows of ``samples`` of a run's dataset, with their cluster, building only those rows.

    ``clusters[i]`` is sample ``i``'s cluster; a listing passes the few samples it shows, never the whole data.
    """
    data = load_dataset(dataset, **options)
    if dataset == "file":
        from unsup_core.datasets.file_dataset import open_file

        return rows_of_samples(open_file(options).table, data.source_rows, samples, clusters, cluster_column)
    samples = np.asarray(samples, dtype=np.int64)
    rows = dataset_table(data, samples)
    rows.insert(0, _free_name(rows, cluster_column), np.asarray(clusters)[samples])
    return rows


def table_bytes(frame: pd.DataFrame, file_format: str) -> bytes:
    """CSV (UTF-8, comma, dot decimals, text quoted, formulas neutralised by :func:`csv_safe`) or Parquet.

    Arrow writes both: its CSV writer is about ten times faster than pandas' on a million rows.
    """
    import pyarrow
    import pyarrow.csv
    import pyarrow.parquet

    if file_format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {file_format!r}")
    table = pyarrow.Table.from_pandas(csv_safe(frame) if file_format == "csv" else frame, preserve_index=False)
    buffer = io.BytesIO()
    if file_format == "csv":
        pyarrow.csv.write_csv(table, buffer)
    else:
        pyarrow.parquet.write_table(table, buffer)
    return buffer.getvalue()


def config_json(runs: dict[str, dict]) -> str:
    """The runs behind an analysis ({role: run spec as a dict}), as indented JSON to keep or repeat."""
    return json.dumps({role: spec for role, spec in runs.items() if spec}, indent=2, default=str)
