"""UMAP's numba code compiled once: an on-disk cache for its functions, and a warm-up fit that fills it.

umap-learn and pynndescent compile about 250 numba functions on the first fit in a process (15-90 s of
CPU on 2 cores), and most of them are declared without ``cache=True``, so every new process (the
server, each worker that maps) compiled them all again. :func:`import_umap` turns numba's on-disk cache
on for them, in ``<lab home>/numba-cache``: a later process loads their machine code instead (measured
on 2 busy cores, 2026-12-03: the warm-up fit's CPU 45-49 s cold, 16-17 s from the cache).

What the cache cannot hold is pynndescent's ``nn_descent`` family: it receives the distance function
as an argument, which numba compiles to a process-specific address ("dynamic globals"), so its 15 s or
so are paid once per process whatever we do. That is why a warm worker also runs :func:`warm_up_umap`
while it waits (``runs/worker.py``): the map run it may take finds everything compiled.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings

import numpy as np

from unsup_core.paths import data_home

CACHE_FOLDER = "numba-cache"
# Small data (exact neighbours), then past pynndescent's brute-force limit (4,096 rows), so both
# neighbour searches a map can take are compiled.
WARM_UP_SIZES = (60, 4_200)
CACHED_PACKAGES = ("umap", "pynndescent")

_cache_lock = threading.Lock()
_cache_enabled = False
# One UMAP fit at a time per process: a map run that a warm worker takes while its warm-up still runs
# waits for it (the fit would wait on numba's compiler lock anyway), and numba's "workqueue" thread
# pool, where no OpenMP or TBB is installed, must not be entered by two threads at once.
fit_lock = threading.Lock()


def import_umap():
    """``import umap``, with its and pynndescent's numba functions cached on disk (set up once per process)."""
    import umap

    global _cache_enabled
    with _cache_lock:
        if not _cache_enabled:
            _cache_enabled = True
            try:
                _enable_disk_cache()
            except Exception as error:  # numba internals moved: UMAP still works, it only compiles
                warnings.warn(f"UMAP's numba functions are not cached on disk: {error!r}", RuntimeWarning)
    return umap


def _enable_disk_cache() -> None:
    import numba
    from numba.core.dispatcher import Dispatcher

    cache_dir = data_home() / CACHE_FOLDER
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_class = _cache_class()
    # numba reads its cache folder when a function's cache is created; set it for ours only, then restore.
    previous, numba.config.CACHE_DIR = numba.config.CACHE_DIR, str(cache_dir)
    try:
        for name, module in list(sys.modules.items()):
            if module is None or name.split(".")[0] not in CACHED_PACKAGES:
                continue
            for function in list(vars(module).values()):
                # Functions the packages already cache (cache=True) keep their own place; only the rest here.
                if isinstance(function, Dispatcher) and type(function._cache).__name__ == "NullCache":
                    function._cache = cache_class(function.py_func)
    finally:
        numba.config.CACHE_DIR = previous
    # nn_descent and its kind cannot be cached (see above); numba says so at each compile, which is expected.
    warnings.filterwarnings("ignore", message=".*Cannot cache compiled function", category=numba.NumbaWarning)


def _cache_class():
    from numba.core import sigutils, types
    from numba.core.caching import FunctionCache

    class ProcessIndependentCache(FunctionCache):
        """Saves only what another process can load: a compilation for a jitted function passed as an
        argument is keyed by that function object, so it never matches again and would pile up on disk."""

        def save_overload(self, sig, data):
            arguments, _ = sigutils.normalize_signature(sig)
            if not any(isinstance(argument, types.Dispatcher) for argument in arguments):
                super().save_overload(sig, data)

    return ProcessIndependentCache


def warm_up_umap() -> float:
    """Fit UMAP on tiny random data, which compiles (or loads from the cache) its numba functions for this
    process; returns seconds."""
    umap = import_umap()
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    for rows in WARM_UP_SIZES:
        points = rng.normal(size=(rows, 4)).astype(np.float32)
        with fit_lock:
            umap.UMAP(n_neighbors=5, n_epochs=5, random_state=0).fit_transform(points)
    return time.perf_counter() - started


def umap_compiled() -> bool:
    """Whether this process holds compiled code for UMAP's layout step and pynndescent's neighbour search
    (what a map of 4,096 rows or more runs), so a fit here compiles nothing of its own."""
    if "umap" not in sys.modules:
        return False
    from pynndescent.pynndescent_ import nn_descent
    from umap.layouts import _nb_optimize_layout_euclidean_single_epoch as layout_epoch

    return bool(nn_descent.signatures) and bool(layout_epoch.signatures)
