"""Cleaning shared by every table format: header names, empty columns, numbers stored as text.

After :func:`clean_table` every column is either float (numeric: float64, or float32 when the file
stores float32) or strings with NaN for missing
values, names are unique non-empty strings, and each column has a kind: numeric, categorical (few
distinct values, one-hot encodable) or text (free text and identifiers, not used as features).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


# Cells that mean "no value" in exported spreadsheets, on top of pandas' defaults (NA, n/a, null...).
EXTRA_MISSING_MARKERS = ["-", "--", "?", "."]
MISSING_MARKERS = {"", "na", "n/a", "nan", "null", "none", "#n/a", "#na", "<na>", "-nan", *EXTRA_MISSING_MARKERS}
# A column is numeric when most of its cells are numbers and the rest are a few repeated words
# ("unknown", "n.a."): those become missing values. Codes like A12/345 stay text.
NUMERIC_SHARE = 0.5
MAX_WORDS_IN_NUMBERS = 3
MAX_CATEGORIES = 50
# A space as thousands separator also stands for the non-breaking spaces spreadsheets write.
_THOUSANDS_PATTERNS = {" ": "[ \u00a0\u202f]"}


def clean_header(raw_names: list, start_position: int = 1) -> tuple[list[str], list[str]]:
    """Unique, non-empty column names; returns (names, notes about what was renamed)."""
    names, notes, seen = [], [], {}
    unnamed = []
    for position, raw in enumerate(raw_names, start=start_position):
        name = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw).strip()
        if not name or name.lower().startswith("unnamed:"):
            name = f"unnamed_{position}"
            unnamed.append(position)
        if name in seen:
            seen[name] += 1
            renamed = f"{name}_{seen[name]}"
            while renamed in seen:
                seen[name] += 1
                renamed = f"{name}_{seen[name]}"
            notes.append(f"duplicate column name {name!r}: the copy in column {position} is called {renamed!r}")
            name = renamed
        seen.setdefault(name, 1)
        names.append(name)
    if unnamed:
        called = ", ".join(f"unnamed_{position}" for position in unnamed)
        notes.append(f"column{'s' if len(unnamed) > 1 else ''} {', '.join(map(str, unnamed))} "
                     f"had no name and {'are' if len(unnamed) > 1 else 'is'} called {called}")
    return names, notes


def parse_numbers(values: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Strings to floats with the file's decimal mark and thousands separator; non-numbers become NaN."""
    text = values.astype("string").str.strip()
    if thousands:
        separator = _THOUSANDS_PATTERNS.get(thousands, re.escape(thousands))
        grouped = text.str.fullmatch(rf"[+-]?\d{{1,3}}(?:{separator}\d{{3}})+(?:{re.escape(decimal)}\d*)?")
        text = text.mask(grouped.fillna(False).astype(bool), text.str.replace(separator, "", regex=True))
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    return pd.Series(np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan)), index=values.index)


def _as_strings(column: pd.Series) -> pd.Series:
    """Any non-numeric column as stripped strings, NaN for missing cells and markers like 'n/a'."""
    strings = column.astype("string").str.strip()
    strings = strings.mask(strings.str.lower().isin(MISSING_MARKERS).fillna(False).astype(bool))
    return strings.astype(object).where(strings.notna(), np.nan)


def classify_text(column: pd.Series) -> str:
    """categorical when few distinct values (<= 50, and repeated), else text."""
    present = column.dropna()
    distinct = present.nunique()
    return "categorical" if distinct <= min(MAX_CATEGORIES, max(2, len(present) // 2)) else "text"


def _infinite_as_missing(name: str, numbers: pd.Series, warnings: list[str]) -> pd.Series:
    """±inf breaks scaling and every distance downstream; like a non-number, it counts as missing."""
    infinite = np.isinf(numbers.to_numpy())
    count = int(infinite.sum())
    if not count:
        return numbers
    warnings.append(f"column {name!r}: {count} infinite value{'s' if count > 1 else ''} treated as missing")
    return numbers.mask(infinite)


def clean_table(table: pd.DataFrame, *, decimal: str = ".", thousands: str | None = None,
                padding_from: int | None = None) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Drop empty columns, turn numbers stored as text into floats (±inf as missing), give each column a kind.

    ``padding_from``: columns from this position on were not in the header; the empty ones are
    padding and dropped silently, the others are reported as values beyond the header (notes).
    Returns (table, kinds by column name, warnings).
    """
    warnings = []
    columns, kinds = {}, {}
    empty, extra = [], []
    for position, name in enumerate(table.columns):
        column = table[name]
        beyond_header = padding_from is not None and position >= padding_from
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            column = _as_strings(column)
        if column.notna().sum() == 0:
            if not beyond_header:
                empty.append(name)
            continue
        if beyond_header:
            extra.append((name, int(column.notna().sum())))
        if pd.api.types.is_numeric_dtype(column):
            # float32 data (an .npy or Parquet file) stays float32: half the memory, and exports
            # write its values with float32's 9 digits rather than float64's 17.
            float_type = np.float32 if column.dtype == np.float32 else np.float64
            columns[name] = _infinite_as_missing(name, column.astype(float_type), warnings)
            kinds[name] = "numeric"
            continue
        numbers = parse_numbers(column, decimal, thousands)
        present = column.notna()
        parsed = numbers.notna() & present
        text_cells = column[present & ~parsed]
        few_words = text_cells.nunique() <= max(MAX_WORDS_IN_NUMBERS, 0.05 * present.sum())
        if parsed.sum() >= NUMERIC_SHARE * present.sum() and few_words:
            if len(text_cells):
                examples = ", ".join(repr(v) for v in text_cells.unique()[:3])
                plural = "s" if len(text_cells) > 1 else ""
                warnings.append(f"column {name!r}: {len(text_cells)} non-numeric value{plural} ({examples}) "
                                "treated as missing")
            columns[name], kinds[name] = _infinite_as_missing(name, numbers, warnings), "numeric"
        else:
            columns[name], kinds[name] = column, classify_text(column)
    if empty:
        warnings.append(f"{len(empty)} empty column{'s' if len(empty) > 1 else ''} dropped: "
                        f"{', '.join(map(str, empty[:8]))}{' ...' if len(empty) > 8 else ''}")
    for name, count in extra:
        warnings.append(f"{count} row{'s' if count > 1 else ''} had values beyond the header's last column "
                        f"(notes?); kept as column {name!r}")
    cleaned = pd.DataFrame(columns, index=pd.RangeIndex(len(table)))
    return cleaned, kinds, warnings

