"""Maps of small data computed at once in the server's process, and the UMAP warm-up that keeps them quick.

A map of a few hundred rows takes well under a second to compute, but 15-30 s as a run (it waits in
the queue and a fresh worker imports torch), and UMAP's first fit in a process compiles its numba
code (15-90 s). So data under :class:`MapSettings`' row limit is mapped right where the page asks,
with the very code an embedding run uses, and UMAP is compiled once per server, in a background
thread started with the server, never on a click. Larger data keeps the background run.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from unsup_core.datasets import Dataset
from unsup_core.settings import MapSettings

WARM_UP_SIZES = (60, 4_200)  # small data (exact neighbours), then past pynndescent's brute-force limit (4,096)

_warm_up_lock = threading.Lock()
_warm_up: dict[str, object] = {"thread": None, "seconds": None}


@dataclass(frozen=True)
class PageMap:
    """A map computed in this process: the same arrays an embedding run's snapshot holds, and its time."""

    arrays: dict[str, np.ndarray]
    seconds: float


def maps_in_page(n_rows: int, settings: MapSettings | None = None) -> bool:
    """Whether data of ``n_rows`` rows is mapped in the page's process (else by a background run)."""
    settings = settings or MapSettings.from_env()
    return 0 < n_rows < settings.in_page_max_rows


def compute_map(data: Dataset, config: dict, seed: int = 0) -> PageMap:
    """Fit the embedding ``config`` (method, dimensions...) on ``data`` as a run would, here and now."""
    from unsup_core.algorithms import get_algorithm

    algorithm_cls = get_algorithm("embedding")
    embedding = algorithm_cls(algorithm_cls.build_config(config))
    started = time.perf_counter()
    embedding.setup(data, "cpu", seed)
    embedding.step()
    return PageMap(embedding.snapshot(), time.perf_counter() - started)


def warm_up_umap() -> float:
    """Fit UMAP on tiny random data, which compiles its numba functions for this process; returns seconds."""
    import umap

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    for rows in WARM_UP_SIZES:
        points = rng.normal(size=(rows, 4)).astype(np.float32)
        umap.UMAP(n_neighbors=5, n_epochs=5, random_state=0).fit_transform(points)
    return time.perf_counter() - started


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
