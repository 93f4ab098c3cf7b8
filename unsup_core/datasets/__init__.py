"""The dataset registry: one place that lists every dataset a page or the CLI can offer."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from unsup_core.config import MAX_SEED, ConfigError, parse_allowed
from unsup_core.datasets import anomalies, builtin, file_dataset, idx, points2d, shapes
from unsup_core.datasets.base import KINDS, Dataset, DatasetEntry, DatasetError, Option
from unsup_core.settings import SharingSettings

_REGISTRY: dict[str, DatasetEntry] = {}
MAX_LIST_ITEMS = 10_000  # column names in a features list: as many as a file may have columns
MAX_NAME_LENGTH = 1_000


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
    """Check option names, types and ranges against the entry's declaration; returns typed values.

    A list option takes a list or a comma-separated string (``features=age,income`` on the CLI).
    A user's file gets every option spelled out, so its run records exactly how it was prepared.
    A shared server refuses local-only options (server paths, downloads) set to anything but their default.
    """
    coerced = {} if entry.listed else entry.defaults
    for key, value in options.items():
        if key not in entry.options:
            allowed = ", ".join(entry.options) or "(none)"
            raise ConfigError(f"dataset {entry.name!r} has no option {key!r}; allowed: {allowed}")
        option = entry.options[key]
        spec = option.field(key)
        if spec.type == "list":
            items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) \
                else None
            if items is None or len(items) > MAX_LIST_ITEMS or any(len(str(item)) > MAX_NAME_LENGTH for item in items):
                raise ConfigError(f"dataset option {key} must be a list of at most {MAX_LIST_ITEMS:,} names of at "
                                  f"most {MAX_NAME_LENGTH} characters")
            coerced[key] = [str(item).strip() for item in items if str(item).strip()]
            continue
        coerced[key] = parse_allowed(spec, value, "dataset option ")
        if option.local_only and coerced[key] != option.default and SharingSettings.from_env().shared:
            raise ConfigError(f"dataset option {key} cannot be set on a shared server: {entry.name} is "
                              "read from the server's own folder")
    return coerced


# Built-ins are kept for identical options (a page rerun draws the same preview), within a memory budget:
# options are bounded, but a few large variants must not stay resident in the server.
CACHE_BYTES = 256 * 2**20
_cache: OrderedDict[tuple, Dataset] = OrderedDict()
_cache_lock = threading.Lock()


def _nbytes(data: Dataset) -> int:
    arrays = [data.X, data.y, data.source_rows, *data.factors.values()]
    return sum(array.nbytes for array in arrays if array is not None)


def _load_cached(name: str, options: dict) -> Dataset:
    key = (name, tuple(sorted(options.items())))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    data = get_entry(name).loader(**options)
    if _nbytes(data) > CACHE_BYTES:
        return data
    with _cache_lock:
        _cache[key] = data
        while sum(_nbytes(kept) for kept in _cache.values()) > CACHE_BYTES:
            _cache.popitem(last=False)
    return data


def load_dataset(name: str, **options) -> Dataset:
    """Build the named dataset; never writes (downloads are :func:`fetch_dataset`'s, in a run's worker)."""
    entry = get_entry(name)
    options = coerce_options(entry, options)
    if not entry.listed:  # a user's file: its loader keeps what it read, the prepared arrays are not kept
        return entry.loader(**options)
    return _load_cached(name, options)


def fetch_dataset(name: str, **options) -> None:
    """Do what the options ask before loading (download missing files); only a run's worker calls this."""
    entry = get_entry(name)
    if entry.fetch is not None:
        entry.fetch(**coerce_options(entry, options))


def dataset_label(name: str, options: dict) -> str:
    """How a run's data is named to people: a built-in's name, or the file's name for a user's file."""
    entry = _REGISTRY.get(name)
    path = options.get("path") if entry is not None and not entry.listed else None
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else name


def _n_samples(default: int) -> Option:
    return Option(default, 10, 200_000, help="How many samples to generate.")


def _noise(default: float) -> Option:
    return Option(default, 0, 5, help="Standard deviation of the Gaussian noise added to each point.")


_SEED = Option(0, 0, MAX_SEED, help="Same seed, same data.")
_SHARE = Option(0.03, 0, 0.5, help="Share of the samples that are planted anomalies.")


def _register_builtins() -> None:
    register(DatasetEntry("digits", "images", builtin.load_digits,
                          "Handwritten digits, 8x8 (bundled).", 1797, 64, True))
    register(DatasetEntry("shapes", "images", shapes.make_shapes,
                          "Generated squares, circles and triangles, 28x28, with their factors.",
                          5000, 784, True, {"n_samples": _n_samples(5000),
                                            "image_size": Option(28, 8, 64, help="Image height and width."),
                                            "seed": _SEED}))
    register(DatasetEntry("iris", "table", builtin.load_iris, "Iris flowers (bundled).", 150, 4, True))
    register(DatasetEntry("wine", "table", builtin.load_wine, "Wine chemistry (bundled).", 178, 13, True))
    register(DatasetEntry("breast_cancer", "table", builtin.load_breast_cancer,
                          "Breast cancer biopsies (bundled).", 569, 30, True))
    register(DatasetEntry("moons", "points2d", points2d.make_moons, "Two interleaving half circles.",
                          1000, 2, True, {"n_samples": _n_samples(1000), "noise": _noise(0.08), "seed": _SEED}))
    register(DatasetEntry("circles", "points2d", points2d.make_circles, "Two concentric circles.",
                          1000, 2, True, {"n_samples": _n_samples(1000), "noise": _noise(0.05), "seed": _SEED}))
    register(DatasetEntry("blobs", "points2d", points2d.make_blobs, "Four well-separated blobs.",
                          1000, 2, True, {"n_samples": _n_samples(1000),
                                          "n_blobs": Option(4, 1, 20, help="How many blobs."), "seed": _SEED}))
    register(DatasetEntry("ring8", "points2d", points2d.make_ring8, "8 Gaussians on a circle.",
                          2000, 2, True, {"n_samples": _n_samples(2000), "seed": _SEED}))
    register(DatasetEntry("swiss_roll_2d", "points2d", points2d.make_swiss_roll_2d, "A 2-D spiral.",
                          1000, 2, True, {"n_samples": _n_samples(1000), "noise": _noise(0.3), "seed": _SEED}))
    register(DatasetEntry("digits_anomalies", "images", anomalies.make_digits_anomalies,
                          "Digits with planted anomalies (noise, rotated, inverted); labels mark them.",
                          1797, 64, True, {"share": _SHARE, "seed": _SEED}))
    register(DatasetEntry("blobs_outliers", "points2d", anomalies.make_blobs_outliers,
                          "Four blobs plus far-away points; labels mark them.", 1030, 2, True,
                          {"n_samples": _n_samples(1000), "share": _SHARE, "seed": _SEED}))
    register(DatasetEntry("file", "table", file_dataset.load_file_dataset,
                          "Your own file (CSV/TSV/TXT, .xlsx, Parquet, .npy/.npz, .zip of images), prepared "
                          "as its options say.", None, None, False,
                          {name: Option(default, **file_dataset.FILE_OPTION_LIMITS.get(name, {}))
                           for name, default in file_dataset.FILE_OPTIONS.items()},
                          check_options=file_dataset.file_kind, listed=False))
    for name, meta in idx.IDX_SETS.items():
        register(DatasetEntry(
            name, "images", functools.partial(idx.load_idx_dataset, name), meta["description"],
            60000, 784, True, idx.OPTIONS, check_options=functools.partial(idx.check_idx_options, name),
            fetch=functools.partial(idx.fetch_idx_dataset, name),
        ))


_register_builtins()

__all__ = ["KINDS", "Dataset", "DatasetEntry", "DatasetError", "Option", "coerce_options", "dataset_label",
           "fetch_dataset", "get_entry", "list_datasets", "load_dataset", "register"]
