"""Delimited text (CSV, TSV, TXT) into a clean table, with what was assumed written down.

pandas' ``read_csv`` fails silently on real files (a ``;`` file read as one column, decimal commas
shifting fields, rows wider than the header moving a value into the index), so it only parses here:
the layout comes from :mod:`sniff`, every column gets a name and a position, rows wider than the
header keep their extra values in their own columns, and parser warnings are errors.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.columns import EXTRA_MISSING_MARKERS, clean_header, clean_table
from unsup_core.datasets.preflight import check_table_shape
from unsup_core.datasets.report import LoadedFile, ReadReport, describe_columns, distinct_note
from unsup_core.datasets.sniff import WHITESPACE, TextLayout, csv_error, sniff_text, split_fields
from unsup_core.settings import FileLimits

_CHUNK = 16 * 1024 * 1024


def _header_cells(path: Path, layout: TextLayout) -> list[str]:
    with open(path, encoding=layout.encoding, newline="") as handle:
        for index, line in enumerate(handle):
            if index == layout.first_line:
                try:
                    return split_fields(line.rstrip("\r\n"), layout.delimiter)
                except csv.Error as error:
                    raise csv_error(path.name, error) from None
    return []


def _line_count(path: Path) -> int:
    """Lines in the file, counted in bytes: at least its number of rows (quoted fields may hold breaks)."""
    newlines = returns = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            newlines += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            last = chunk[-1:]
    return max(newlines, returns) + (last not in (b"\n", b"\r"))


def _max_fields(path: Path, layout: TextLayout) -> int:
    """The widest row in the whole file (a pass in Python: only when the sample's width was too small)."""
    if layout.delimiter is None:
        return 1
    widest, quoted = 0, False
    with open(path, encoding=layout.encoding, newline="") as handle:
        for index, line in enumerate(handle):
            if index < layout.first_line:
                continue
            if layout.delimiter == WHITESPACE:
                widest = max(widest, len(line.split()))
            else:
                widest = max(widest, line.count(layout.delimiter) + 1)
                quoted = quoted or '"' in line
    if quoted:
        # Quoted fields may hold delimiters or line breaks: count with the real CSV rules.
        with open(path, encoding=layout.encoding, newline="") as handle:
            for _ in range(layout.first_line):
                handle.readline()
            try:
                widest = max((len(row) for row in csv.reader(handle, delimiter=layout.delimiter)), default=1)
            except csv.Error as error:
                raise csv_error(path.name, error) from None
    return max(widest, 1)


class _TooNarrow(Exception):
    """A row has more fields than the width the parser was given."""


def _parse(path: Path, layout: TextLayout, width: int) -> pd.DataFrame:
    options = dict(
        sep=layout.delimiter or "\x1f",  # one column: a separator that never occurs
        encoding=layout.encoding, header=None, names=list(range(width)), index_col=False,
        skiprows=layout.first_line + (1 if layout.header else 0), skip_blank_lines=True,
        decimal=layout.decimal, na_values=EXTRA_MISSING_MARKERS, low_memory=False, engine="c",
    )
    if layout.delimiter != WHITESPACE:
        options["skipinitialspace"] = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, **options)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        detail = str(error).strip().splitlines()[-1].replace("Error tokenizing data. C error: ", "")
        if "fields in line" in detail or "does not match length" in detail:
            raise _TooNarrow(detail) from None
        raise DatasetError(f"could not parse {path.name}: {detail}. Is a quote left open?") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(range(width)))


def _parse_all_rows(path: Path, layout: TextLayout, lines: int, limits: FileLimits) -> tuple[pd.DataFrame, int]:
    """The table with as many columns as its widest row; the width of the sample is tried first,
    which is right for every rectangular file and spares a pass over a large file in Python."""
    try:
        return _parse(path, layout, layout.sample_width), layout.sample_width
    except _TooNarrow:
        width = _max_fields(path, layout)
    check_table_shape(path.name, lines, width, limits, rows_word="lines")
    try:
        return _parse(path, layout, width), width
    except _TooNarrow as error:
        raise DatasetError(f"could not parse {path.name}: {error}. Is a quote left open?") from None


def read_text_table(path: Path) -> LoadedFile:
    """Read a delimited text file; numeric columns become float64, the others strings."""
    layout, limits = sniff_text(path), FileLimits.from_env()
    lines = _line_count(path) - layout.first_line - (1 if layout.header else 0)
    check_table_shape(path.name, lines, layout.sample_width, limits, rows_word="lines")
    raw, width = _parse_all_rows(path, layout, lines, limits)
    notes = list(layout.notes)
    if layout.header:
        header = _header_cells(path, layout)
        names, renamed = clean_header(header)
        notes += renamed
        names += [f"extra_{position}" for position in range(len(names) + 1, width + 1)]
        padding_from = len(header)
    else:
        names, padding_from = [f"column_{position}" for position in range(1, width + 1)], None
    raw.columns = names[:width]
    if len(raw) == 0:
        raise DatasetError(f"{path.name} has {'a header but ' if layout.header else ''}no data rows")
    table, kinds, warnings_found = clean_table(raw, decimal=layout.decimal, thousands=layout.thousands,
                                               padding_from=padding_from)
    if layout.delimiter is None:
        notes.append("no delimiter found (tried comma, semicolon, tab, pipe, spaces): read as one column")
    report = ReadReport(
        file_name=path.name, format="text table", n_rows=len(table),
        columns=describe_columns(table, kinds), encoding=layout.encoding, delimiter=layout.delimiter,
        decimal=layout.decimal, thousands=layout.thousands, notes=notes + distinct_note(table),
        warnings=warnings_found,
    )
    return LoadedFile(table, report)
