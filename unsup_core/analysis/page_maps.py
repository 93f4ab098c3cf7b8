"""Maps of small data computed at once in the server's process, and the UMAP warm-up that keeps them quick.

A map of a few hundred rows takes well under a second to compute, but 15-30 s as a run (it waits in
the queue and a fresh worker imports torch), and UMAP's first fit in a process compiles its numba
code (15-90 s). So data under :class:`MapSettings`' row and cell limits is mapped right where the
page asks, with the very code an embedding run uses, and UMAP is compiled once per server, in a
background thread started with the server, never on a click. Larger data keeps the background run,
whose warm worker compiles UMAP while it waits (``algorithms/umap_compile.py``).
A t-SNE or UMAP fit holds the GIL (numba kernels), so at most one runs in the server at a time: a
second asker is told so at once and offered the background run, never queued behind the first.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms.umap_compile import warm_up_umap
from unsup_core.datasets import Dataset
from unsup_core.errors import UserError
from unsup_core.settings import MapSettings

_warm_up_lock = threading.Lock()
_warm_up: dict[str, object] = {"thread": None, "seconds": None}
NON_LINEAR_METHODS = ("tsne", "umap")
_non_linear_fit_lock = threading.Lock()  # one in-page t-SNE/UMAP fit per server process


class InPageMapBusy(UserError):
    """Another in-page t-SNE or UMAP map is being computed in this server right now."""


@dataclass(frozen=True)
class PageMap:
    """A map computed in this process: the same arrays an embedding run's snapshot holds, and its time."""

    arrays: dict[str, np.ndarray]
    seconds: float


def maps_in_page(n_rows: int, n_features: int, settings: MapSettings | None = None) -> bool:
    """Whether data of ``n_rows`` x ``n_features`` is mapped in the page's process (else by a background run)."""
    settings = settings or MapSettings.from_env()
    return 0 < n_rows < settings.in_page_max_rows and n_rows * max(n_features, 1) < settings.in_page_max_cells


def data_maps_in_page(data: Dataset, settings: MapSettings | None = None) -> bool:
    """Whether the prepared ``data`` (its rows and all their values) is mapped in the page's process."""
    return maps_in_page(data.n_samples, int(np.prod(data.X.shape[1:])), settings)


def map_arrays_problem(arrays: dict[str, np.ndarray], coordinates: list[str], n_samples: int,
                       n_labels: int) -> str | None:
    """Why a map's arrays (perhaps from an imported run) cannot be drawn over ``n_samples`` samples, or None.

    ``row_subset`` must be integers in [0, n_samples), each coordinate array as long, and the clustering's
    labels one per sample: checked before any indexing, so a crafted snapshot gets a sentence, not a traceback.
    """
    subset = np.asarray(arrays.get("row_subset", []))
    if n_labels != n_samples:
        return f"the clustering has {n_labels:,} labels for {n_samples:,} rows"
    if subset.ndim != 1 or not np.issubdtype(subset.dtype, np.integer):
        return "its row numbers are not a list of integers"
    if len(subset) and (subset.min() < 0 or subset.max() >= n_samples):
        return f"its row numbers are not all between 1 and {n_samples:,}"
    for name in coordinates:
        values = np.asarray(arrays.get(name, []))
        if values.shape != subset.shape or not np.issubdtype(values.dtype, np.number):
            return f"{name} does not hold one number per mapped row"
    return None


def compute_map(data: Dataset, config: dict, seed: int = 0) -> PageMap:
    """Fit the embedding ``config`` (method, dimensions...) on ``data`` as a run would, here and now.

    Raises :class:`InPageMapBusy` at once, without waiting, when the method is t-SNE or UMAP and another
    such fit is running in this process.
    """
    if config.get("method") not in NON_LINEAR_METHODS:
        return _fit_map(data, config, seed)
    if not _non_linear_fit_lock.acquire(blocking=False):
        raise InPageMapBusy("Another t-SNE or UMAP map is being computed on this server right now; "
                            "compute this one in a background run, or try again in a moment.")
    try:
        return _fit_map(data, config, seed)
    finally:
        _non_linear_fit_lock.release()


def _fit_map(data: Dataset, config: dict, seed: int) -> PageMap:
    from unsup_core.algorithms import get_algorithm

    algorithm_cls = get_algorithm("embedding")
    embedding = algorithm_cls(algorithm_cls.build_config(config))
    started = time.perf_counter()
    embedding.setup(data, "cpu", seed)
    embedding.step()
    return PageMap(embedding.snapshot(), time.perf_counter() - started)


def _warm_up_in_background() -> None:
    try:
        _warm_up["seconds"] = warm_up_umap()
    except Exception:  # a failed warm-up only means the first UMAP map compiles; never take the server down
        logging.getLogger(__name__).exception("UMAP warm-up failed")
        _warm_up["seconds"] = float("nan")


def start_umap_warm_up(settings: MapSettings | None = None) -> None:
    """Start the warm-up once per process (later calls do nothing), unless the settings turn it off."""
    settings = settings or MapSettings.from_env()
    with _warm_up_lock:
        if _warm_up["thread"] is not None or not settings.warm_up_umap:
            return
        thread = threading.Thread(target=_warm_up_in_background, name="umap-warm-up", daemon=True)
        _warm_up["thread"] = thread
        thread.start()


def umap_warm_up_state() -> str:
    """'warm' once the warm-up finished, 'warming' while it runs, 'cold' when it never started."""
    thread = _warm_up["thread"]
    if thread is None:
        return "cold"
    return "warming" if thread.is_alive() else "warm"
