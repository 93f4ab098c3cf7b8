"""The dataset registry: one place that lists every dataset a page or the CLI can offer."""

from __future__ import annotations

import functools

from unsup_core.config import ConfigError
from unsup_core.datasets import anomalies, builtin, file_dataset, idx, points2d, shapes
from unsup_core.datasets.base import KINDS, Dataset, DatasetEntry, DatasetError

_REGISTRY: dict[str, DatasetEntry] = {}


def register(entry: DatasetEntry) -> DatasetEntry:
    if entry.name in _REGISTRY:
        raise ValueError(f"dataset {entry.name!r} is registered twice")
    _REGISTRY[entry.name] = entry
    return entry


def list_datasets() -> list[DatasetEntry]:
    """The datasets a page or the CLI offers by name (not the ``file`` entry, which needs a path)."""
    return [entry for entry in _REGISTRY.values() if entry.listed]


def get_entry(name: str) -> DatasetEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise DatasetError(f"unknown dataset {name!r}; available: {', '.join(_REGISTRY)}") from None


def coerce_options(entry: DatasetEntry, options: dict) -> dict:
    """Check option names against the entry's and give each the type of its default.

    A list option takes a list or a comma-separated string (``features=age,income`` on the CLI).
    A user's file gets every option spelled out, so its run records exactly how it was prepared.
    """
    coerced = {} if entry.listed else dict(entry.options)
    for key, value in options.items():
        if key not in entry.options:
            allowed = ", ".join(entry.options) or "(none)"
            raise ConfigError(f"dataset {entry.name!r} has no option {key!r}; allowed: {allowed}")
        default = entry.options[key]
        try:
            if isinstance(default, list):
                items = value.split(",") if isinstance(value, str) else list(value)
                coerced[key] = [str(item).strip() for item in items if str(item).strip()]
            elif isinstance(default, bool) and isinstance(value, str):
                coerced[key] = value.strip().lower() in ("1", "true", "yes", "on")
            else:
                coerced[key] = type(default)(value)
        except (TypeError, ValueError):
            raise ConfigError(f"dataset option {key}={value!r} must be a {type(default).__name__}") from None
    return coerced


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, frozen_options: tuple) -> Dataset:
    return get_entry(name).loader(**dict(frozen_options))


def load_dataset(name: str, **options) -> Dataset:
    """Build the named dataset (built-ins are cached per process for identical options)."""
    entry = get_entry(name)
    options = coerce_options(entry, options)
    if not entry.listed:  # a user's file: its loader keeps what it read, the prepared arrays are not kept
        return entry.loader(**options)
    return _load_cached(name, tuple(sorted(options.items())))


def dataset_label(name: str, options: dict) -> str:
    """How a run's data is named to people: a built-in's name, or the file's name for a user's file."""
    entry = _REGISTRY.get(name)
    path = options.get("path") if entry is not None and not entry.listed else None
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else name


def _register_builtins() -> None:
    register(DatasetEntry("digits", "images", builtin.load_digits,
                          "Handwritten digits, 8x8 (bundled).", 1797, 64, True))
    register(DatasetEntry("shapes", "images", shapes.make_shapes,
                          "Generated squares, circles and triangles, 28x28, with their factors.",
                          5000, 784, True, {"n_samples": 5000, "image_size": 28, "seed": 0}))
    register(DatasetEntry("iris", "table", builtin.load_iris, "Iris flowers (bundled).", 150, 4, True))
    register(DatasetEntry("wine", "table", builtin.load_wine, "Wine chemistry (bundled).", 178, 13, True))
    register(DatasetEntry("breast_cancer", "table", builtin.load_breast_cancer,
                          "Breast cancer biopsies (bundled).", 569, 30, True))
    register(DatasetEntry("moons", "points2d", points2d.make_moons, "Two interleaving half circles.",
                          1000, 2, True, {"n_samples": 1000, "noise": 0.08, "seed": 0}))
    register(DatasetEntry("circles", "points2d", points2d.make_circles, "Two concentric circles.",
                          1000, 2, True, {"n_samples": 1000, "noise": 0.05, "seed": 0}))
    register(DatasetEntry("blobs", "points2d", points2d.make_blobs, "Four well-separated blobs.",
                          1000, 2, True, {"n_samples": 1000, "n_blobs": 4, "seed": 0}))
    register(DatasetEntry("ring8", "points2d", points2d.make_ring8, "8 Gaussians on a circle.",
                          2000, 2, True, {"n_samples": 2000, "seed": 0}))
    register(DatasetEntry("swiss_roll_2d", "points2d", points2d.make_swiss_roll_2d, "A 2-D spiral.",
                          1000, 2, True, {"n_samples": 1000, "noise": 0.3, "seed": 0}))
    register(DatasetEntry("digits_anomalies", "images", anomalies.make_digits_anomalies,
                          "Digits with planted anomalies (noise, rotated, inverted); labels mark them.",
                          1797, 64, True, {"share": 0.03, "seed": 0}))
    register(DatasetEntry("blobs_outliers", "points2d", anomalies.make_blobs_outliers,
                          "Four blobs plus far-away points; labels mark them.", 1030, 2, True,
                          {"n_samples": 1000, "share": 0.03, "seed": 0}))
    register(DatasetEntry("file", "table", file_dataset.load_file_dataset,
                          "Your own file (CSV/TSV/TXT, .xlsx, Parquet, .npy/.npz, .zip of images), prepared "
                          "as its options say.", None, None, False, dict(file_dataset.FILE_OPTIONS),
                          check_options=file_dataset.file_kind, listed=False))
    for name, meta in idx.IDX_SETS.items():
        register(DatasetEntry(
            name, "images", functools.partial(idx.load_idx_dataset, name), meta["description"],
            60000, 784, True, {"path": "", "split": "train", "download": False, "limit": 0},
        ))


_register_builtins()

__all__ = ["KINDS", "Dataset", "DatasetEntry", "DatasetError", "coerce_options", "dataset_label", "get_entry",
           "list_datasets", "load_dataset", "register"]
