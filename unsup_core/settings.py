"""Server-wide settings, read from the environment so one server can be tuned without code changes."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    """A whole-number setting; a value that is not one is refused in one sentence (the page shows it)."""
    from unsup_core.errors import UserError

    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"{name}={raw[:20]!r} must be a whole number") from None


def default_cpu_slots() -> int:
    """Concurrent CPU runs: at least two (so two runs both progress), half the cores on big machines."""
    return max(2, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class QueueLimits:
    """How many runs may train at once on each device (further runs wait as ``queued``, in order), and
    how many worker processes a server keeps started and imported for the next run."""

    cpu: int
    cuda: int
    warm_workers: int = 1

    @classmethod
    def from_env(cls) -> "QueueLimits":
        return cls(cpu=_int("UNSUP_LAB_MAX_CPU_RUNS", default_cpu_slots()),
                   cuda=_int("UNSUP_LAB_MAX_GPU_RUNS", 1),
                   warm_workers=max(0, _int("UNSUP_LAB_WARM_WORKERS", 1)))

    def slots(self, device: str) -> int:
        return self.cuda if device.startswith("cuda") else self.cpu


@dataclass(frozen=True)
class SharingSettings:
    """Shared-server (classroom) mode: each browser sees its own runs plus runs the teacher shared."""

    shared: bool
    max_active_runs_per_user: int  # 0 = no limit
    max_upload_mb: int

    @classmethod
    def from_env(cls) -> "SharingSettings":
        shared = os.environ.get("UNSUP_LAB_SHARED", "").strip().lower() in ("1", "true", "yes", "on")
        return cls(shared=shared,
                   max_active_runs_per_user=_int("UNSUP_LAB_MAX_RUNS_PER_USER", 3 if shared else 0),
                   max_upload_mb=_int("UNSUP_LAB_MAX_UPLOAD_MB", 50 if shared else 256))


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on a run archive, checked before anything is written (``UNSUP_LAB_MAX_IMPORT_MB``...)."""

    max_total_bytes: int
    max_member_bytes: int
    max_metric_rows: int
    max_members: int = 20_000
    max_compression_ratio: int = 100  # real arrays and checkpoints compress far less; bombs far more

    @classmethod
    def from_env(cls) -> "ImportLimits":
        total_mb = _int("UNSUP_LAB_MAX_IMPORT_MB", 1024)
        return cls(max_total_bytes=total_mb * 1024**2,
                   max_member_bytes=min(total_mb, _int("UNSUP_LAB_MAX_IMPORT_FILE_MB", 512)) * 1024**2,
                   max_metric_rows=_int("UNSUP_LAB_MAX_IMPORT_METRIC_ROWS", 2_000_000))


@dataclass(frozen=True)
class LoginLimits:
    """Wrong teacher passwords a client may try before it is locked out, and for how long."""

    max_failures: int
    lockout_seconds: int

    @classmethod
    def from_env(cls) -> "LoginLimits":
        return cls(max_failures=max(1, _int("UNSUP_LAB_LOGIN_MAX_FAILURES", 5)),
                   lockout_seconds=_int("UNSUP_LAB_LOGIN_LOCKOUT_SECONDS", 900))


FILE_LIMIT_VARS = {
    "max_array_elements": "UNSUP_LAB_MAX_ARRAY_ELEMENTS",
    "max_array_mb": "UNSUP_LAB_MAX_ARRAY_MB",
    "max_table_cells": "UNSUP_LAB_MAX_TABLE_CELLS",
    "max_columns": "UNSUP_LAB_MAX_COLUMNS",
    "max_cell_kb": "UNSUP_LAB_MAX_CELL_KB",
    "max_excel_cells": "UNSUP_LAB_MAX_EXCEL_CELLS",
    "max_excel_sheets": "UNSUP_LAB_MAX_EXCEL_SHEETS",
    "max_image_pixels": "UNSUP_LAB_MAX_IMAGE_PIXELS",
    "max_total_image_pixels": "UNSUP_LAB_MAX_TOTAL_IMAGE_PIXELS",
    "max_images": "UNSUP_LAB_MAX_IMAGES",
}


@dataclass(frozen=True)
class FileLimits:
    """How much a user's file may hold once decoded, checked from its headers before decoding starts.

    The file size limit alone does not bound memory or time: compressed formats (.npz, .xlsx,
    Parquet, PNG) can declare gigabytes in a few kilobytes. Each limit has its variable in
    ``FILE_LIMIT_VARS``.
    """

    max_array_elements: int = 250_000_000  # .npy/.npz, all arrays of a file together
    max_array_mb: int = 1024
    max_table_cells: int = 50_000_000  # rows x columns of a CSV, Parquet or NumPy table
    max_columns: int = 10_000
    max_cell_kb: int = 1024  # one field of a CSV
    max_excel_cells: int = 2_000_000  # pandas with openpyxl reads about 0.1M cells per CPU second
    max_excel_sheets: int = 50
    max_image_pixels: int = 4096 * 4096  # one image of a zip (a 12 MP phone photo fits)
    max_total_image_pixels: int = 300_000_000  # all images of a zip, as decoded (JPEG at reduced size)
    max_images: int = 20_000

    @classmethod
    def from_env(cls) -> "FileLimits":
        defaults = cls()
        return cls(**{name: _int(variable, getattr(defaults, name)) for name, variable in FILE_LIMIT_VARS.items()})


EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ClusterSettings:
    """Where runs train: local worker processes (default), or jobs placed on a Ray cluster.

    ``UNSUP_LAB_EXECUTOR=ray`` with ``UNSUP_LAB_RAY_ADDRESS`` (the Ray dashboard's http address, which
    serves the Jobs API); each run asks Ray for ``UNSUP_LAB_CPUS_PER_RUN`` CPUs, a GPU fraction
    ``UNSUP_LAB_GPU_PER_RUN`` (0.25: four runs share a card) and any custom resources given as JSON in
    ``UNSUP_LAB_RAY_RESOURCES`` (e.g. ``{"lab_gpu_node": 1}`` to keep runs on some machines).
    """

    executor: str = "local"
    ray_address: str | None = None
    cpus_per_run: float = 1.0
    gpu_per_run: float = 0.0
    ray_resources: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "ClusterSettings":
        from unsup_core.errors import UserError

        executor = os.environ.get("UNSUP_LAB_EXECUTOR", "").strip().lower() or "local"
        if executor not in EXECUTORS:
            raise UserError(f"UNSUP_LAB_EXECUTOR={executor[:20]!r} is not known; use one of: {', '.join(EXECUTORS)}")
        address = os.environ.get("UNSUP_LAB_RAY_ADDRESS", "").strip() or None
        if executor == "ray" and not address:
            raise UserError("UNSUP_LAB_EXECUTOR=ray needs UNSUP_LAB_RAY_ADDRESS, the Ray dashboard's address "
                            "(e.g. http://head-machine:8265)")
        return cls(executor, address, _amount("UNSUP_LAB_CPUS_PER_RUN", 1.0, 0.0, 256.0),
                   _amount("UNSUP_LAB_GPU_PER_RUN", 0.0, 0.0, 16.0), _resources("UNSUP_LAB_RAY_RESOURCES"))


def _amount(name: str, default: float, low: float, high: float) -> float:
    from unsup_core.errors import UserError

    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise UserError(f"{name}={raw[:20]!r} must be a number from {low:g} to {high:g}")
    return value


def _resources(name: str) -> dict:
    from unsup_core.errors import UserError

    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        resources = json.loads(raw)
    except ValueError:
        resources = None
    if not isinstance(resources, dict) or not all(
            isinstance(key, str) and isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 < value < 1e6 for key, value in resources.items()):
        raise UserError(f'{name} must be a JSON object of resource names to positive amounts, e.g. {{"node2": 1}}')
    return resources


@dataclass(frozen=True)
class MapSettings:
    """Where a map of a user's table is computed (``UNSUP_LAB_IN_PAGE_MAP_ROWS``, ``UNSUP_LAB_IN_PAGE_MAP_CELLS``).

    Data with fewer rows than ``in_page_max_rows`` and fewer cells (rows x features) than
    ``in_page_max_cells`` is mapped in the web server's own process when the page asks (PCA in well under
    a second, UMAP in a few seconds once warm); larger or wider data goes to a background run, which can
    take minutes without holding the page. Width counts too: 19,999 rows of 2,500 columns would hold the
    server for minutes.
    """

    in_page_max_rows: int = 20_000
    in_page_max_cells: int = 2_000_000  # e.g. 20,000 rows x 100 features, or 2,500 images of 28 x 28
    warm_up_umap: bool = True  # compile UMAP's numba code once per server and in each idle warm worker

    @classmethod
    def from_env(cls) -> "MapSettings":
        return cls(in_page_max_rows=_int("UNSUP_LAB_IN_PAGE_MAP_ROWS", cls.in_page_max_rows),
                   in_page_max_cells=_int("UNSUP_LAB_IN_PAGE_MAP_CELLS", cls.in_page_max_cells),
                   warm_up_umap=os.environ.get("UNSUP_LAB_WARM_UP_UMAP", "1").strip().lower()
                   not in ("0", "false", "no", "off"))


def check_environment() -> None:
    """Read every setting once, so a bad value is refused in one sentence when a server or command starts
    rather than on whichever page or run first reads it (raises ``UserError``)."""
    for settings in (QueueLimits, SharingSettings, ImportLimits, LoginLimits, FileLimits, ClusterSettings,
                     MapSettings):
        settings.from_env()
