"""A .zip of images (PNG, JPEG, ...) into one image dataset of a common size, greyscale or colour.

Images are decoded with Pillow, centre-cropped to a square when they are not square (so shapes keep
their proportions), resized to ``image_size`` pixels and scaled to [0, 1]. A sub-folder in the
archive becomes a ``folder`` column, usable as a label. Archives are checked before decoding so
a zip bomb or a huge image is refused, not unpacked: image sizes come from the headers, and the
pixels to decode, each image's and all together, are bounded by :class:`FileLimits`. JPEGs are
decoded at 1/2, 1/4 or 1/8 size when that is still larger than the target size.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from unsup_core.datasets.base import DatasetError
from unsup_core.datasets.file_dataset import COLOUR_CHOICES
from unsup_core.datasets.columns import clean_table
from unsup_core.datasets.preflight import ZIP_DAMAGE, check_limit, damaged_zip
from unsup_core.datasets.report import LoadedFile, ReadReport, describe_columns
from unsup_core.datasets.sniff import IMAGE_SUFFIXES
from unsup_core.settings import FILE_LIMIT_VARS, FileLimits

MAX_UNPACKED_BYTES = 2 * 1024**3
SIZE_RANGE = (8, 48)  # automatic size: the median image side, kept in this range
_GREY_TOLERANCE = 2 / 255  # mean channel difference below which an image counts as grey


def _members(archive: zipfile.ZipFile, name: str, limits: FileLimits) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist()
               if not info.is_dir() and PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES
               and not info.filename.startswith("__MACOSX/")
               and not PurePosixPath(info.filename).name.startswith(".")]
    if not members:
        raise DatasetError(f"{name} holds no images (looked for {', '.join(IMAGE_SUFFIXES)})")
    check_limit(limits, "max_images", len(members), f"{name} holds", "images", "zip a sample of them")
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


def _header_sizes(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], target: int,
                  limits: FileLimits) -> tuple[dict[str, tuple[int, int]], int, list[str]]:
    """Each image's (width, height) from its header, the pixels all of them will decode to at
    ``target`` pixels a side at most, and the files that are not images."""
    from PIL import Image

    sizes, decoded_pixels, failed = {}, 0, []
    advice = "resize the images (a few hundred pixels a side is plenty here) and zip them again"
    for info in members:
        try:
            with archive.open(info) as stream, Image.open(stream) as image:
                width, height = image.size
                check_limit(limits, "max_image_pixels", width * height, f"{info.filename} is {width:,} x {height:,} =",
                            "pixels", advice)
                image.draft("RGB", (target, target))  # JPEG only: its size now is the size it decodes to
                decoded_pixels += image.size[0] * image.size[1]
                sizes[info.filename] = (width, height)
        except Image.DecompressionBombError:
            raise DatasetError(f"{info.filename} is over the limit of {limits.max_image_pixels:,} pixels an image "
                               f"(${FILE_LIMIT_VARS['max_image_pixels']}): {advice}") from None
        except OSError:  # not an image (UnidentifiedImageError) or a broken header
            failed.append(info.filename)
    return sizes, decoded_pixels, failed


def _decode_squares(archive: zipfile.ZipFile, names: list[str], image_size: int,
                    failed: list[str]) -> tuple[list[str], list[np.ndarray]]:
    """Each image centre-cropped and resized to [image_size, image_size, 3] uint8; failures join ``failed``."""
    from PIL import Image, ImageOps

    decoded, squares = [], []
    for name in names:
        try:
            with archive.open(name) as stream, Image.open(stream) as image:
                image.draft("RGB", (image_size, image_size))
                squares.append(np.asarray(ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"),
                                                       (image_size, image_size), Image.Resampling.LANCZOS)))
            decoded.append(name)
        except OSError:  # a valid header over truncated or corrupt pixel data
            failed.append(name)
    return decoded, squares


def read_image_zip(path: Path, image_size: int = 0, colour: str = "auto") -> LoadedFile:
    """Decode every image in the archive; ``image_size`` 0 picks the median side within 8-48 pixels."""
    from PIL import Image

    if colour not in COLOUR_CHOICES:
        raise DatasetError(f"colour must be one of {', '.join(COLOUR_CHOICES)}, got {colour!r}")
    limits = FileLimits.from_env()
    # Pillow refuses at open what is over twice its limit: with ours, it agrees with the check here.
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, path.name, limits)
            sizes, decoded_pixels, failed = _header_sizes(archive, members, image_size or SIZE_RANGE[1], limits)
            if not sizes:
                raise DatasetError(f"none of the {len(members)} images in {path.name} could be decoded")
            check_limit(limits, "max_total_image_pixels", decoded_pixels, f"the images in {path.name} decode to",
                        "pixels", "zip fewer or smaller images")
            if not image_size:
                image_size = int(np.clip(np.median([max(size) for size in sizes.values()]), *SIZE_RANGE))
            # What the resized images hold in memory (float32, up to 3 channels), before resizing any.
            check_limit(limits, "max_array_mb", len(sizes) * image_size**2 * 3 * 4 / 2**20,
                        f"{len(sizes):,} images of {image_size} x {image_size} pixels take", "MB",
                        "choose a smaller image size or zip fewer images")
            names, squares = _decode_squares(archive, list(sizes), image_size, failed)
    except ZIP_DAMAGE as error:
        raise damaged_zip(path.name, error) from None
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
