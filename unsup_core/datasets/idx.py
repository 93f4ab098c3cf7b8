"""MNIST and Fashion-MNIST from their standard IDX files (raw or .gz), downloaded only on request.

Loading never writes: a download happens in :func:`fetch_idx_dataset`, which only a run's worker calls,
and a shared server refuses the ``path`` and ``download`` options (see ``OPTIONS``).

IDX layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then one
big-endian int32 per dimension, then the values in C order.
"""

from __future__ import annotations

import gzip
import os
import struct
import urllib.request
from pathlib import Path

import numpy as np

from unsup_core.datasets.base import Dataset, DatasetError, Option
from unsup_core.paths import data_home
from unsup_core.settings import SharingSettings

_UBYTE = 0x08

IDX_SETS = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/"],
        "labels": [str(d) for d in range(10)],
        "description": "Handwritten digits 0-9, 28x28 (LeCun et al.).",
    },
    "fashion_mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "labels": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "description": "Zalando clothing images in 10 classes, 28x28 (Xiao et al.).",
    },
}
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
OPTIONS = {
    "path": Option("", help="Folder holding the IDX files (default: the lab's data folder).", local_only=True),
    "split": Option("train", choices=tuple(_FILES)),
    "download": Option(False, help="Download missing files when the run starts.", local_only=True),
    "limit": Option(0, 0, 70_000, help="Use only the first images (0: all)."),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a uint8 array, validating its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"cannot read IDX file {path}: {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetError(f"{path} is not an IDX file (bad magic number)")
    type_code, ndim = raw[2], raw[3]
    if type_code != _UBYTE:
        raise DatasetError(f"{path}: only unsigned-byte IDX files are supported (type 0x{type_code:02x})")
    header_end = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_end:
        raise DatasetError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}i", raw[4:header_end])
    expected = int(np.prod(shape))
    if len(raw) - header_end != expected:
        raise DatasetError(f"{path}: header says {expected} values but the file holds {len(raw) - header_end}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_end).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def default_folder(name: str) -> Path:
    return data_home() / "datasets" / name


def _download(name: str, folder: Path, stems: tuple[str, ...]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for stem in stems:
        if _find(folder, stem):
            continue
        for mirror in IDX_SETS[name]["mirrors"]:
            target = folder / f"{stem}.gz"
            try:
                with urllib.request.urlopen(mirror + f"{stem}.gz", timeout=30) as response:
                    partial = target.with_suffix(".part")
                    partial.write_bytes(response.read())
                    os.replace(partial, target)
                break
            except OSError as error:
                errors.append(f"{mirror}: {error}")
        else:
            raise DatasetError(f"could not download {name} ({'; '.join(errors)}); "
                               f"copy the IDX files into {folder} instead")


def missing_files_message(name: str, folder: Path | None = None) -> str | None:
    """None when the training files are present, else what the user should do."""
    folder = Path(folder) if folder else default_folder(name)
    missing = [stem for stem in _FILES["train"] if _find(folder, stem) is None]
    if not missing:
        return None
    remedy = ("ask whoever runs this server to copy them there" if SharingSettings.from_env().shared
              else "copy them there or load with download=true when online")
    return f"{name} needs {', '.join(s + '(.gz)' for s in missing)} in {folder}; {remedy}"


def _folder(name: str, path: str) -> Path:
    return Path(path) if path else default_folder(name)


def _split_missing_message(name: str, folder: Path, split: str) -> str | None:
    if all(_find(folder, stem) for stem in _FILES[split]):
        return None
    message = missing_files_message(name, folder) if split == "train" else None
    return message or f"{name} {split} files are missing in {folder}"


def check_idx_options(name: str, options: dict) -> str:
    """At submit: the folder exists and holds the split's files (unless the run will download them)."""
    path, split = options.get("path", ""), options.get("split", "train")
    folder = _folder(name, path)
    if path and not folder.is_dir():
        raise DatasetError(f"{name} path {path!r} is not a folder; give the folder that holds the IDX files")
    message = None if options.get("download") else _split_missing_message(name, folder, split)
    if message:
        raise DatasetError(message)
    return "images"


def fetch_idx_dataset(name: str, path: str = "", split: str = "train", download: bool = False,
                      limit: int = 0) -> None:
    """Download the split's missing files when asked to (a run's worker, before loading)."""
    if download:
        _download(name, _folder(name, path), _FILES[split])


def load_idx_dataset(name: str, path: str = "", split: str = "train", download: bool = False,
                     limit: int = 0) -> Dataset:
    """Load MNIST-style IDX images and labels from ``path`` (default: the data home).

    ``download`` is :func:`fetch_idx_dataset`'s; loading only reads, so a preview has no side effects.
    """
    if split not in _FILES:
        raise DatasetError(f"split must be one of {', '.join(_FILES)}, got {split!r}")
    folder = _folder(name, path)
    stems = _FILES[split]
    image_file, label_file = (_find(folder, stem) for stem in stems)
    if image_file is None or label_file is None:
        raise DatasetError(_split_missing_message(name, folder, split))
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{name}: expected images [N, H, W] and N labels, got {images.shape} and {labels.shape}")
    if limit:
        images, labels = images[:limit], labels[:limit]
    height, width = images.shape[1:]
    return Dataset(
        name=name,
        kind="images",
        X=images.reshape(len(images), -1).astype(np.float32) / 255.0,
        y=labels.astype(np.int64),
        feature_names=[f"px{i}" for i in range(height * width)],
        label_names=list(IDX_SETS[name]["labels"]),
        image_shape=(height, width),
        description=IDX_SETS[name]["description"],
    )
