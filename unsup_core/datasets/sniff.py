"""Guessing what a file is before reading it: format, text encoding, delimiter, header, number style.

Every guess is made from evidence in the file (magic bytes, the first lines, which decodings
succeed) and is reported back, so the user can see what was assumed and correct it.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.preflight import ZIP_DAMAGE
from unsup_core.settings import FILE_LIMIT_VARS, FileLimits

HEAD_BYTES = 256 * 1024
SAMPLE_LINES = 2000
DELIMITERS = (",", ";", "\t", "|")
WHITESPACE = r"\s+"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_CHUNK = 16 * 1024 * 1024

_REFUSED_SIGNATURES = {
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or other Office file: save it as .xlsx or CSV",
    b"%PDF": "a PDF document, not a table: export the table as CSV",
    b"\x1f\x8b": "gzip-compressed: decompress it first",
    b"\x89PNG": "a single image: put images in a .zip to cluster them",
    b"\xff\xd8\xff": "a single image: put images in a .zip to cluster them",
}


def detect_format(path: Path) -> str:
    """csv, excel, parquet, npy, npz or image zip, from the magic bytes (the extension only breaks ties)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_format(path)
    for signature, meaning in _REFUSED_SIGNATURES.items():
        if head.startswith(signature):
            raise DatasetError(f"{path.name} is {meaning}")
    return "csv"


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except ZIP_DAMAGE:
        raise DatasetError(f"{path.name} looks like a zip archive but cannot be opened (damaged?): "
                           "create the archive again and upload the new file") from None
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        return "excel"
    if names and all(name.endswith(".npy") for name in names):
        return "npz"
    if any(name.lower().endswith(IMAGE_SUFFIXES) for name in names):
        return "image zip"
    raise DatasetError(f"{path.name} is a zip archive without images, .npy arrays or an Excel workbook inside")


@dataclass
class TextLayout:
    """How a delimited text file is written."""

    encoding: str
    delimiter: str | None  # None: a single column
    decimal: str
    thousands: str | None
    header: bool
    first_line: int  # index of the header (or first data) line; lines above it are titles or notes
    sample_width: int = 1  # the most fields in a sampled line
    notes: list[str] = field(default_factory=list)


def detect_encoding(path: Path, head: bytes) -> str:
    """utf-8 (with or without BOM), utf-16 (with BOM), else cp1252, else latin-1 (which always decodes)."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    return "latin-1"


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, read in chunks so a large file is never held as text."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    control = sum(byte < 32 and byte not in (9, 10, 12, 13) for byte in head)
    return control > 0.01 * max(len(head), 1)


def use_cell_limit(limits: FileLimits) -> None:
    """The csv module's longest field (128 KB by default) becomes the lab's cell limit.

    The csv module has no per-reader limit, so this sets the process-wide one; every reader in the
    lab sets the same value, so concurrent reads agree.
    """
    csv.field_size_limit(limits.max_cell_kb * 1024)


def csv_error(name: str, error: csv.Error) -> DatasetError:
    if "field larger than field limit" in str(error):
        return DatasetError(f"{name} has a field longer than the limit of {csv.field_size_limit() // 1024:,} KB "
                            f"(${FILE_LIMIT_VARS['max_cell_kb']}): close the quote left open, or shorten that text")
    return DatasetError(f"could not parse {name}: {error}")


def split_fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return [line]
    if delimiter == WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def _choose_delimiter(lines: list[str], suffix: str) -> str | None:
    """The delimiter that splits most lines into the same number (>= 2) of fields; None: one column.

    Runs of whitespace are tried only when no delimiter character works, so spaces inside text
    fields never outvote a real delimiter.
    """
    candidates = sorted(DELIMITERS, key=lambda d: d != "\t") if suffix == ".tsv" else list(DELIMITERS)
    best, best_score = None, (0.0, 0)
    for delimiter in candidates:
        counts = Counter(len(split_fields(line, delimiter)) for line in lines)
        modal, frequency = counts.most_common(1)[0]
        score = (frequency / len(lines), modal)
        if modal >= 2 and score > best_score:
            best, best_score = delimiter, score
    if best is None:
        counts = Counter(len(line.split()) for line in lines)
        modal, frequency = counts.most_common(1)[0]
        if modal >= 2 and frequency >= 0.9 * len(lines):
            best = WHITESPACE
    return best


_NUMERIC_LOOKING = re.compile(r"[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*(?:[eE][+-]?\d+)?%?")
_EU_DECIMAL = re.compile(r"[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|0,\d+|,\d+|\d{1,3}(?:\.\d{3})+,\d+)")
_EN_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+|[+-]?\d{1,3}(?:,\d{3}){2,}")
_AMBIGUOUS_COMMA = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")  # 1,234: a decimal comma or a thousands group
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?"),
    ",": re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"),
    " ": re.compile(r"[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?"),
    "'": re.compile(r"[+-]?\d{1,3}(?:'\d{3})+(?:[.,]\d+)?"),
}


def is_numeric_looking(cell: str) -> bool:
    return bool(_NUMERIC_LOOKING.fullmatch(cell.strip()))


def _number_style(cells: list[str], delimiter: str | None) -> tuple[str, str | None]:
    """(decimal mark, thousands separator) from the numbers in the sample."""
    cells = [cell.strip() for cell in cells if cell.strip()]
    european = sum(bool(_EU_DECIMAL.fullmatch(cell)) for cell in cells)
    english = sum(bool(_EN_GROUPED.fullmatch(cell)) for cell in cells)
    ambiguous = sum(bool(_AMBIGUOUS_COMMA.fullmatch(cell)) for cell in cells)
    # "1,234" alone: a semicolon-separated file is most likely European (decimal comma).
    if delimiter == ";":
        european += ambiguous
    else:
        english += ambiguous
    decimal = "," if european > english else "."
    for separator in (("." if decimal == "," else ","), " ", "'"):
        if any(_GROUPED[separator].fullmatch(cell) for cell in cells):
            return decimal, separator
    return decimal, None


def sniff_text(path: Path) -> TextLayout:
    """Encoding, delimiter, header, lines to skip and number style of a delimited text file."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise DatasetError(f"{path.name} is empty")
    if _looks_binary(head) and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DatasetError(f"{path.name} is not a text table (it holds binary data); upload CSV/TSV/TXT, "
                           "Excel .xlsx, Parquet, .npy/.npz or a .zip of images")
    use_cell_limit(FileLimits.from_env())
    encoding = detect_encoding(path, head)
    text = head.decode(encoding, errors="replace")
    physical = split_lines(text)
    if len(head) == HEAD_BYTES and len(physical) > 1:
        physical = physical[:-1]  # the last line may be cut short
    numbered = [(index, line) for index, line in enumerate(physical) if line.strip()][:SAMPLE_LINES]
    lines = [line for _, line in numbered]
    notes = []
    if encoding in ("cp1252", "latin-1"):
        notes.append(f"not valid UTF-8: decoded as {encoding} (Western European)")
    try:
        # Later splits use the delimiter chosen here on the same lines, so only this one can fail.
        delimiter = _choose_delimiter(lines, path.suffix.lower())
    except csv.Error as error:
        raise csv_error(path.name, error) from None
    field_counts = [len(split_fields(line, delimiter)) for line in lines]
    modal = Counter(field_counts).most_common(1)[0][0]
    skip = 0
    while skip < len(lines) - 1 and field_counts[skip] < max(2, modal // 2 + 1) <= modal:
        skip += 1
    if skip:
        notes.append(f"skipped {skip} line{'s' if skip > 1 else ''} above the header (title or notes): "
                     f"{lines[0][:60]!r}")
    rows = [split_fields(line, delimiter) for line in lines[skip:]]
    first = [cell for cell in rows[0] if cell.strip()]
    header = not first or not all(is_numeric_looking(cell) for cell in first)
    if not header:
        notes.append("the first row holds only numbers, so it is data: columns are named column_1, column_2, ...")
    decimal, thousands = _number_style([cell for row in rows[1 if header else 0:] for cell in row], delimiter)
    return TextLayout(encoding, delimiter, decimal, thousands, header, numbered[skip][0],
                      sample_width=max(len(row) for row in rows), notes=notes)


def split_lines(text: str) -> list[str]:
    """Lines as the CSV parser sees them (\\n, \\r\\n or \\r), unlike str.splitlines' extra breaks."""
    return re.split(r"\r\n|\n|\r", text)
