"""From a table as read to the matrix a clusterer sees: pick columns, handle missing values, encode, scale.

The :class:`Preparation` is plain data and goes into the run's dataset options, so a run on a file
can be repeated exactly. The label column is only kept for colouring and ARI/NMI, never as a feature.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.columns import MAX_CATEGORIES
from unsup_core.datasets.report import LoadedFile

MISSING_CHOICES = ("median", "mean", "drop")
SCALING_CHOICES = ("standard", "minmax", "robust", "none")
LABEL_NAME_HINTS = ("label", "labels", "class", "target", "y", "species", "category", "group", "segment")
SAMPLE_SEED = 0
# Default feature choice: what a careful analyst leaves out before clustering measurements.
ID_NAME_HINTS = ("id", "rownames", "row", "index", "idx", "no", "nr", "number", "record", "sample", "patient")
DATE_NAME_HINTS = ("year", "yr", "date", "time", "month", "day", "timestamp")
YEAR_RANGE = (1800, 2100)
MAX_CODE_LEVELS = 5  # an integer column with at most this many values is a code (0/1, 1-5), not a measurement
ROW_COUNTER_SHARE = 0.9  # share of consecutive rows going up by exactly one that marks a row counter
NEAR_CONSTANT_SHARE = 0.95  # one value in at least this share of the rows: nothing to separate groups by
MISSING_CATEGORY = "(missing)"


@dataclass(frozen=True)
class Preparation:
    """How to turn a table into features.

    ``features`` empty means :func:`default_features`. ``missing``: impute numbers with the column's
    median or mean (categories get their own "(missing)" level), or drop the rows. ``scaling``
    applies to numeric columns; one-hot columns stay 0/1. ``log_columns`` get sign(x) * log(1 + |x|),
    which tames long right tails. ``whiten`` rotates the scaled numeric columns onto their principal
    axes with unit variance each (PCA whitening). ``max_rows`` > 0 keeps a random sample.
    """

    features: tuple[str, ...] = ()
    label: str = ""
    missing: str = "median"
    scaling: str = "standard"
    one_hot: bool = True
    log_columns: tuple[str, ...] = ()
    max_rows: int = 0
    whiten: bool = False

    def __post_init__(self) -> None:
        if self.missing not in MISSING_CHOICES:
            raise DatasetError(f"missing must be one of {', '.join(MISSING_CHOICES)}, got {self.missing!r}")
        if self.scaling not in SCALING_CHOICES:
            raise DatasetError(f"scaling must be one of {', '.join(SCALING_CHOICES)}, got {self.scaling!r}")
        if self.max_rows < 0:
            raise DatasetError(f"max_rows must be 0 (all rows) or positive, got {self.max_rows}")

    def as_options(self) -> dict:
        values = dataclasses.asdict(self)
        values["features"], values["log_columns"] = list(self.features), list(self.log_columns)
        return values


@dataclass
class PreparedData:
    """Features [N, D] float32, where each row came from (``source_rows`` into the file's table), the label."""

    X: np.ndarray
    feature_names: list[str]
    source_rows: np.ndarray
    features: list[str]  # the table columns used (before one-hot encoding)
    y: np.ndarray | None = None
    label_names: list[str] | None = None
    image_shape: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)


def is_row_id(column: pd.Series) -> bool:
    """Consecutive distinct integers (1, 2, 3, ...): a row number, which carries no information."""
    values = column.dropna().to_numpy()
    if len(values) < 3 or len(values) != len(column) or not np.all(values == np.round(values)):
        return False
    ordered = np.sort(values)
    return bool(np.all(np.diff(ordered) == 1))


@dataclass(frozen=True)
class FeatureChoice:
    """One column's default role: used as a feature or not, and why in a few words."""

    name: str
    used: bool
    reason: str


def _name_tokens(name: str) -> set[str]:
    return {token for token in "".join(c if c.isalnum() else " " for c in name.lower()).split() if token}


def counts_up_in_runs(column: pd.Series) -> bool:
    """Integers that go up by exactly one from row to row almost everywhere (1..50, 1..50, ...): a row
    number restarted within each group of the file, which describes where a row sits, not the row."""
    values = column.to_numpy(dtype=np.float64)
    if len(values) < 10 or not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return False
    return bool(np.mean(np.diff(values) == 1) >= ROW_COUNTER_SHARE)


def _named_like_id(name: str) -> bool:
    """id, patient_no, SampleID, subjectid: an id word as a token, or a name ending in "id"."""
    return bool(_name_tokens(name) & set(ID_NAME_HINTS)) or name.lower().endswith("id")


def _looks_like_id(name: str, column: pd.Series) -> bool:
    """A row number (also one restarted per group), or integers named like an id, (nearly) all different.
    Integers only: "malic_acid" or "lipid" end in "id" but hold measured fractions."""
    if is_row_id(column) or counts_up_in_runs(column):
        return True
    present = column.dropna()
    integers = bool(len(present)) and bool(np.all(present == np.round(present)))
    return _named_like_id(name) and integers and column.nunique() >= 0.5 * column.notna().sum()


def _looks_like_date(name: str, column: pd.Series) -> bool:
    """Named year/date/time, integer years in a plausible range, or strings that start like 2024-05."""
    if _name_tokens(name) & set(DATE_NAME_HINTS):
        return True
    present = column.dropna()
    if pd.api.types.is_numeric_dtype(column):
        integers = len(present) and np.all(present == np.round(present))
        return bool(integers and present.between(*YEAR_RANGE).all() and present.nunique() <= 50)
    return bool(len(present) and present.astype(str).str.match(r"^\d{4}[-/.]\d{1,2}").mean() > 0.9)


def _numeric_role(name: str, column: pd.Series, n_rows: int) -> str:
    """Why a numeric column is not a measurement to cluster on, or '' when it is one."""
    present = column.dropna()
    if _looks_like_id(name, column):
        return "looks like a row number or an id: it orders the rows, it does not describe them"
    if _looks_like_date(name, column):
        return "looks like a year or a date: when a row was recorded, not what it measures"
    if len(present) and present.value_counts().iloc[0] >= NEAR_CONSTANT_SHARE * len(present):
        return "(nearly) constant: one value in at least 95% of the rows separates no groups"
    levels = present.nunique()
    # small integers (0/1, 1-5) repeated many times; a handful of rows with few values is just a small table
    if np.all(present == np.round(present)) and levels <= MAX_CODE_LEVELS and present.abs().max() <= 20 \
            and len(present) >= 4 * levels:
        return (f"integer codes with {levels} values: categories in disguise, whose distances "
                "mean nothing")
    return ""


def feature_choices(loaded: LoadedFile, label: str = "") -> list[FeatureChoice]:
    """Every column's default role with a one-line reason (what the page shows beside the choice).

    Measurements (numeric columns) are the default features. Left out: the label, row numbers and
    ids, years and dates, (nearly) constant columns, integer codes with few values, mostly empty
    columns, free text; categorical columns too when there are at least two measurements, because
    their 0/1 columns would outweigh the measurements in every distance (tick them to add them).
    """
    report, table = loaded.report, loaded.table
    choices = {}
    for info in report.columns:
        column = table[info.name]
        if info.name == label:
            reason = "the label: only for colouring and scoring (ARI/NMI), never a feature"
        elif info.kind == "text":
            reason = f"free text or identifiers ({info.distinct:,} different values)"
        elif info.distinct <= 1:
            reason = "constant: one value in every row"
        elif info.missing > report.n_rows / 2:
            reason = f"mostly empty ({info.missing:,} of {report.n_rows:,} missing)"
        elif info.kind == "numeric":
            reason = _numeric_role(info.name, column, report.n_rows)
        elif _looks_like_date(info.name, column):
            reason = "looks like a date: when a row was recorded, not what it measures"
        else:
            reason = "categorical"  # decided below, once the measurements are known
        choices[info.name] = reason
    measurements = [name for name, reason in choices.items() if reason == ""]
    result = []
    for name, reason in choices.items():
        if reason == "categorical":
            if len(measurements) >= 2:
                reason = ("categorical: its one-hot 0/1 columns would outweigh the measurements in every "
                          "distance; tick it to include it")
            else:
                reason = ""
        result.append(FeatureChoice(name, reason == "", reason or "a measurement"))
    return result


def default_features(loaded: LoadedFile, label: str = "") -> list[str]:
    """The columns a careful analyst would cluster on (see :func:`feature_choices` for the reasons)."""
    return [choice.name for choice in feature_choices(loaded, label) if choice.used]


def suggested_label(loaded: LoadedFile) -> str:
    """A categorical column whose name says it is a class (label, class, species...), the sub-folders of
    an image zip, or ''."""
    if loaded.images is not None and any(info.name == "folder" for info in loaded.report.columns):
        return "folder"
    for info in loaded.report.columns:
        if info.name.strip().lower() in LABEL_NAME_HINTS and info.distinct <= MAX_CATEGORIES:
            return info.name
    return ""


def skewed_columns(table: pd.DataFrame, columns: list[str], threshold: float = 1.0) -> list[str]:
    """Numeric columns whose sample skewness is above ``threshold`` (candidates for a log transform)."""
    skewed = []
    for name in columns:
        if pd.api.types.is_numeric_dtype(table[name]) and table[name].nunique() > 2:
            skewness = table[name].skew()
            if np.isfinite(skewness) and skewness > threshold:
                skewed.append(name)
    return skewed


def check_preparation(loaded: LoadedFile, preparation: Preparation) -> list[str]:
    """The feature columns ``preparation`` uses, after checking every column it names fits its role."""
    report = loaded.report
    if report.n_rows < 2:
        raise DatasetError(_too_few_rows(report.n_rows, preparation))
    known = set(report.names())
    for name in [*preparation.features, preparation.label, *preparation.log_columns]:
        if name and name not in known:
            raise DatasetError(f"no column {name!r} in {report.file_name}; columns: {', '.join(report.names())}")
    if loaded.images is not None:
        return []
    features = list(preparation.features) or default_features(loaded, preparation.label)
    features = [name for name in features if name != preparation.label]
    if not features:
        raise DatasetError("choose at least one feature column (the label column is never a feature)")
    for name in features:
        kind = report.column(name).kind
        if kind == "text":
            raise DatasetError(f"column {name!r} holds free text ({report.column(name).distinct:,} different "
                               "values), not a feature: leave it out")
        if kind == "categorical" and not preparation.one_hot:
            raise DatasetError(f"column {name!r} is categorical: turn on one-hot encoding or leave it out")
    for name in preparation.log_columns:
        if name not in features or report.column(name).kind != "numeric":
            raise DatasetError(f"log transform: {name!r} is not one of the numeric feature columns")
    return features


def _too_few_rows(count: int, preparation: Preparation) -> str:
    advice = " (impute missing values instead of dropping their rows)" if preparation.missing == "drop" else ""
    return f"only {count} row{'s' if count != 1 else ''} left to cluster; clustering needs at least 2{advice}"


def _labels(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes [N] and their names; numbers sort numerically, a missing label is its own group."""
    present = column.dropna()
    if present.nunique() > MAX_CATEGORIES:
        raise DatasetError(f"label column {column.name!r} has {present.nunique():,} different values; a label "
                           f"names a few groups (at most {MAX_CATEGORIES})")
    if pd.api.types.is_numeric_dtype(column):
        values = np.sort(present.unique())
        names = [f"{value:g}" for value in values]
        codes = np.searchsorted(values, column.fillna(values[0] if len(values) else 0).to_numpy())
    else:
        names = sorted(present.astype(str).unique())
        codes = pd.Categorical(column.astype(str), categories=names).codes.astype(np.int64)
    missing = column.isna().to_numpy()
    if missing.any():
        codes = np.where(missing, len(names), codes)
        names.append("(missing)")
    return codes.astype(np.int64), names


def scale_columns(values: np.ndarray, scaling: str) -> np.ndarray:
    """In place, per column: standard (x - mean) / std, minmax (x - min) / range, robust (x - median) / IQR."""
    if scaling == "standard":
        centre, spread = values.mean(axis=0), values.std(axis=0)
    elif scaling == "minmax":
        centre, spread = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
    elif scaling == "robust":
        quartiles = np.percentile(values, [25, 50, 75], axis=0)
        centre, spread = quartiles[1], quartiles[2] - quartiles[0]
    else:
        return values
    values -= centre
    values /= np.where(spread > 0, spread, 1.0).astype(values.dtype)
    return values


def pca_whiten(values: np.ndarray, min_variance: float = 1e-9) -> np.ndarray:
    """[N, D] -> [N, D'] on the principal axes, each with unit variance; axes without variance are dropped.

    Whitening makes a correlated, elongated cloud round, so k-means and Ward stop splitting it along
    its longest axis; it also gives noise directions the same weight as signal ones.
    """
    centred = values - values.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    std = singular / np.sqrt(max(len(values) - 1, 1))
    keep = std > np.sqrt(min_variance) * max(std.max(initial=0.0), 1.0)
    return (centred @ axes[keep].T / std[keep]).astype(np.float32)


def prepare(loaded: LoadedFile, preparation: Preparation) -> PreparedData:
    """Apply ``preparation`` to a loaded file; raises DatasetError naming the problem."""
    features = check_preparation(loaded, preparation)
    table = loaded.table
    notes = []
    rows = np.arange(len(table))
    if features and preparation.missing == "drop":
        complete = table[features].notna().all(axis=1).to_numpy()
        rows = rows[complete]
        if (~complete).any():
            notes.append(f"dropped {int((~complete).sum()):,} of {len(table):,} rows with a missing value")
    if preparation.max_rows and len(rows) > preparation.max_rows:
        rows = np.sort(np.random.default_rng(SAMPLE_SEED).choice(rows, preparation.max_rows, replace=False))
        notes.append(f"kept a random sample of {preparation.max_rows:,} rows")
    if len(rows) < 2:
        raise DatasetError(_too_few_rows(len(rows), preparation))
    used = [*features, preparation.label] if preparation.label else features
    kept = table[used] if len(rows) == len(table) else table[used].iloc[rows]
    y, label_names = _labels(kept[preparation.label]) if preparation.label else (None, None)
    if loaded.images is not None:
        images = loaded.images[rows]
        return PreparedData(images.reshape(len(rows), -1), [f"px{i}" for i in range(images[0].size)], rows, [],
                            y, label_names, tuple(images.shape[1:]), notes)
    blocks, names = [], []
    numeric = [name for name in features if loaded.report.column(name).kind == "numeric"]
    if numeric:
        # float32 from the start, filled column by column: a million rows x 50 columns is 200 MB, with
        # no float64 copy of the block on the way, and every later step works in place.
        values = np.empty((len(kept), len(numeric)), dtype=np.float32)
        for index, name in enumerate(numeric):
            values[:, index] = kept[name].to_numpy()
        missing = np.isnan(values)
        if missing.any():
            fill = np.nanmedian(values, axis=0) if preparation.missing == "median" else np.nanmean(values, axis=0)
            fill = np.where(np.isnan(fill), 0.0, fill)  # a column with no value at all
            rows_missing, columns_missing = np.nonzero(missing)
            values[rows_missing, columns_missing] = fill[columns_missing]
            counts = ", ".join(f"{name} {count:,}" for name, count in zip(numeric, missing.sum(axis=0)) if count)
            notes.append(f"filled {int(missing.sum()):,} missing values with the column {preparation.missing} "
                         f"({counts})")
        for index, name in enumerate(numeric):
            if name in preparation.log_columns:
                values[:, index] = np.sign(values[:, index]) * np.log1p(np.abs(values[:, index]))
        if preparation.log_columns:
            notes.append(f"log transform sign(x) log(1 + |x|) on {', '.join(preparation.log_columns)}")
        values = scale_columns(values, preparation.scaling)
        if preparation.whiten:
            values = pca_whiten(values)
            notes.append(f"PCA-whitened the {len(numeric)} numeric columns (principal axes, unit variance each)")
            blocks.append(values)
            names += [f"pc{index + 1}" for index in range(values.shape[1])]
        else:
            blocks.append(values)
            names += numeric
    for name in features:
        if loaded.report.column(name).kind != "categorical":
            continue
        column = kept[name]
        if column.isna().any():
            notes.append(f"{int(column.isna().sum()):,} missing values in {name!r} became their own category "
                         f"{MISSING_CATEGORY!r}")
            column = column.fillna(MISSING_CATEGORY)
        levels = sorted(column.astype(str).unique())
        blocks.append((column.astype(str).to_numpy()[:, None] == np.array(levels)[None, :]).astype(np.float32))
        names += [f"{name}={level}" for level in levels]
    if any(loaded.report.column(name).kind == "categorical" for name in features):
        notes.append(f"one-hot encoded {sum(loaded.report.column(n).kind == 'categorical' for n in features)} "
                     "categorical column(s) into 0/1 columns (not scaled)")
    X = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    return PreparedData(X, names, rows, features, y, label_names, None, notes)
