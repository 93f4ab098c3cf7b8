"""A .zip of images (PNG, JPEG, ...) into one image dataset of a common size, greyscale or colour.

Images are decoded with Pillow, centre-cropped to a square when they are not square (so shapes keep
their proportions), resized to ``image_size`` pixels and scaled to [0, 1]. A sub-folder in the
archive becomes a ``folder`` column, usable as a label. Archives are checked before decoding so
a zip bomb or a huge image is refused, not unpacked.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.columns import clean_table
from unsup_core.datasets.report import LoadedFile, ReadReport, describe_columns
from unsup_core.datasets.sniff import IMAGE_SUFFIXES

MAX_IMAGES = 20_000
MAX_UNPACKED_BYTES = 2 * 1024**3
MAX_IMAGE_PIXELS = 50_000_000
SIZE_RANGE = (8, 48)  # automatic size: the median image side, kept in this range
COLOUR_CHOICES = ("auto", "grey", "rgb")
_GREY_TOLERANCE = 2 / 255  # mean channel difference below which an image counts as grey


def _members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist()
               if not info.is_dir() and PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES
               and not info.filename.startswith("__MACOSX/")
               and not PurePosixPath(info.filename).name.startswith(".")]
    if not members:
        raise DatasetError(f"{name} holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
    if len(members) > MAX_IMAGES:
        raise DatasetError(f"{name} holds {len(members):,} images; the limit is {MAX_IMAGES:,}: zip a sample")
    unpacked = sum(info.file_size for info in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DatasetError(f"{name} would unpack to {unpacked / 1024**3:.1f} GB of images; "
                           f"the limit is {MAX_UNPACKED_BYTES / 1024**3:.0f} GB: zip smaller images")
    return sorted(members, key=lambda info: info.filename)


def _folders(paths: list[str]) -> list[str]:
    """Each image's folder inside the archive, without a top folder that every image shares."""
    parts = [PurePosixPath(path).parent.parts for path in paths]
    shared = 0
    while parts and all(len(p) > shared for p in parts) and len({p[shared] for p in parts}) == 1:
        shared += 1
    return ["/".join(p[shared:]) or "." for p in parts]


def read_image_zip(path: Path, image_size: int = 0, colour: str = "auto") -> LoadedFile:
    """Decode every image in the archive; ``image_size`` 0 picks the median side within 8-48 pixels."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if colour not in COLOUR_CHOICES:
        raise DatasetError(f"colour must be one of {', '.join(COLOUR_CHOICES)}, got {colour!r}")
    with zipfile.ZipFile(path) as archive:
        members = _members(archive, path.name)
        sizes, failed = {}, []
        for info in members:  # headers only: sizes, and which files are images at all
            try:
                with archive.open(info) as stream, Image.open(stream) as image:
                    sizes[info.filename] = image.size
            except Image.DecompressionBombError:
                raise DatasetError(f"{info.filename} is too large an image to decode safely") from None
            except (UnidentifiedImageError, OSError, zipfile.BadZipFile):
                failed.append(info.filename)
        if not sizes:
            raise DatasetError(f"none of the {len(members)} images in {path.name} could be decoded")
        too_large = [(name, size) for name, size in sizes.items() if size[0] * size[1] > MAX_IMAGE_PIXELS]
        if too_large:
            name, (width, height) = too_large[0]
            raise DatasetError(f"{name} is {width} x {height} pixels; images above {MAX_IMAGE_PIXELS:,} "
                               "pixels are refused")
        if not image_size:
            image_size = int(np.clip(np.median([max(size) for size in sizes.values()]), *SIZE_RANGE))
        names, squares = [], []
        for name in sizes:
            try:
                with archive.open(name) as stream, Image.open(stream) as image:
                    squares.append(np.asarray(ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"),
                                                           (image_size, image_size), Image.Resampling.LANCZOS)))
                names.append(name)
            except OSError:  # a valid header over truncated or corrupt pixel data
                failed.append(name)
    if not names:
        raise DatasetError(f"none of the {len(members)} images in {path.name} could be decoded")
    pixels = np.stack(squares)
    notes, warnings = [f"{len(names):,} images", f"resized to {image_size} x {image_size} pixels"], []
    cropped = sum(sizes[name][0] != sizes[name][1] for name in names)
    if cropped:
        notes.append(f"{cropped} non-square image{'s' if cropped > 1 else ''} centre-cropped to a square first")
    if failed:
        warnings.append(f"{len(failed)} file{'s' if len(failed) > 1 else ''} could not be decoded and "
                        f"{'were' if len(failed) > 1 else 'was'} skipped: {', '.join(failed[:5])}")
    images = pixels.astype(np.float32) / 255.0
    channel_spread = np.abs(images - images.mean(axis=3, keepdims=True)).mean(axis=(1, 2, 3))
    if colour == "auto":
        colour = "rgb" if (channel_spread > _GREY_TOLERANCE).any() else "grey"
        notes.append("colour images found: kept in colour" if colour == "rgb" else "all images are grey")
    images = images.transpose(0, 3, 1, 2) if colour == "rgb" else images.mean(axis=3)
    raw = pd.DataFrame({"file": names})
    folders = _folders(names)
    if len(set(folders)) > 1:
        raw["folder"] = folders
        notes.append("sub-folders found: their names are in the 'folder' column (usable as a label)")
    table, kinds, _ = clean_table(raw)
    kinds["file"] = "text"
    report = ReadReport(file_name=path.name, format="image zip", n_rows=len(table),
                        columns=describe_columns(table, kinds), image_shape=tuple(images.shape[1:]),
                        notes=notes, warnings=warnings)
    return LoadedFile(table, report, np.ascontiguousarray(images))
