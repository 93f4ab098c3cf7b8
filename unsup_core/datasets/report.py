"""What the file loader read and assumed, in a form a page, the CLI and JSON can all show."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COLUMN_KINDS = ("numeric", "categorical", "text")


@dataclass
class ColumnInfo:
    """One column as read: ``kind`` is numeric, categorical (few distinct values) or text."""

    name: str
    kind: str
    missing: int
    distinct: int
    example: str


@dataclass
class ReadReport:
    """Rows, columns and every assumption the loader made (encoding, delimiter, decimal mark...)."""

    file_name: str
    format: str  # csv, excel, parquet, npy, npz, image zip
    n_rows: int
    columns: list[ColumnInfo]
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    image_shape: tuple[int, ...] | None = None
    notes: list[str] = field(default_factory=list)  # what was assumed, for the record
    warnings: list[str] = field(default_factory=list)  # what the user should check

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def column(self, name: str) -> ColumnInfo:
        return next(info for info in self.columns if info.name == name)

    def names(self, kind: str | None = None) -> list[str]:
        return [info.name for info in self.columns if kind is None or info.kind == kind]

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["n_columns"] = self.n_columns
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "ReadReport":
        values = {key: value for key, value in values.items() if key != "n_columns"}
        values["columns"] = [ColumnInfo(**column) for column in values["columns"]]
        if values.get("image_shape") is not None:
            values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)

    def summary_lines(self) -> list[str]:
        """The report as plain text lines (the CLI's ``inspect``)."""
        lines = [f"file: {self.file_name} ({self.format})", f"rows: {self.n_rows:,}", f"columns: {self.n_columns}"]
        for label, value in (("encoding", self.encoding), ("delimiter", describe_delimiter(self.delimiter)),
                             ("decimal mark", self.decimal), ("thousands separator", self.thousands)):
            if value:
                lines.append(f"{label}: {value!r}" if label != "delimiter" else f"{label}: {value}")
        if self.image_shape:
            lines.append(f"images: {' x '.join(map(str, self.image_shape))}")
        width = max([len(info.name) for info in self.columns] + [6])
        lines.append(f"{'column':<{width}}  {'type':<11} {'missing':>8} {'distinct':>9}  example")
        for info in self.columns:
            lines.append(f"{info.name:<{width}}  {info.kind:<11} {info.missing:>8,} {info.distinct:>9,}  "
                         f"{info.example}")
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"warning: {warning}" for warning in self.warnings]
        return lines


def describe_delimiter(delimiter: str | None) -> str | None:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", r"\s+": "whitespace"}
    return None if delimiter is None else names.get(delimiter, repr(delimiter))


DISTINCT_SAMPLE_ROWS = 100_000


def describe_columns(table: pd.DataFrame, kinds: dict[str, str]) -> list[ColumnInfo]:
    """A :class:`ColumnInfo` per column of an already cleaned table.

    Distinct values of numeric columns are counted in the first 100,000 rows (counting them in a
    million rows costs seconds per column and only tells "many"); see :func:`distinct_note`.
    """
    infos = []
    for name in table.columns:
        column = table[name]
        present = column.dropna()
        counted = present[:DISTINCT_SAMPLE_ROWS] if kinds[name] == "numeric" else present
        example = "" if present.empty else str(present.iloc[0])
        infos.append(ColumnInfo(name=str(name), kind=kinds[name], missing=int(column.isna().sum()),
                                distinct=int(counted.nunique()), example=example[:40]))
    return infos


def distinct_note(table: pd.DataFrame) -> list[str]:
    if len(table) <= DISTINCT_SAMPLE_ROWS:
        return []
    return [f"distinct values of numeric columns are counted in the first {DISTINCT_SAMPLE_ROWS:,} rows"]


@dataclass
class LoadedFile:
    """A file as read: one table row per sample, plus images [N, H, W] or [N, C, H, W] for image sets.

    Numeric columns are floats (float64, or float32 as stored) and every other column holds strings
    (missing values are NaN).
    """

    table: pd.DataFrame
    report: ReadReport
    images: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return "images" if self.images is not None else "table"
