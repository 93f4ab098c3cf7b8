"""Several machines against one: Ray + PostgreSQL measured against subprocess workers + SQLite.

Figures (each a median where repeated), reference = the one-machine default measured in the same run:
1. Submit -> first metric row in the store: a Ray job on the cluster (no warm worker: the job starts a
   fresh Python) against a local warm worker, as the dashboard keeps one.
2. Metric rows/s one writer logs (batches of 500 rows, as the worker's writer thread sends them).
3. Metric rows/s of 8 writer processes at once, as a class's runs all logging together.

Needs a PostgreSQL URL and a Ray cluster address: UNSUP_LAB_DATABASE_URL / UNSUP_LAB_RAY_ADDRESS, or the
test ones .ci/services.sh starts (UNSUP_LAB_TEST_DATABASE_URL / UNSUP_LAB_TEST_RAY_ADDRESS). Without
them each figure's ``ours`` is None.

    python bench/scaleout.py
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from unsup_core.runs.executor import LocalExecutor
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from unsup_core.settings import ClusterSettings

REPEATS = 3
BATCH_ROWS = 500
BATCHES = 40
WRITERS = 8
FIRST_POINT_GOAL_SECONDS = 5.0
BUSY_RUN_ROWS_PER_SECOND = 3_000  # a run logging 3,000 rows/s is busy (bench/store_throughput.py)


def _service(name: str) -> str | None:
    return os.environ.get(name) or os.environ.get(name.replace("UNSUP_LAB_", "UNSUP_LAB_TEST_"))


@contextmanager
def fresh_postgres_schema(server_url: str):
    """A URL whose tables live in a new schema, dropped afterwards."""
    import psycopg

    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{server_url}{'&' if '?' in server_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def _wait_first_row(store: RunStore, run_id: str, timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while store.count_metric_rows(run_id) == 0:
        if store.get_run(run_id).status in ("failed", "cancelled", "interrupted") or time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} wrote no metric: {store.get_run(run_id).error}")
        time.sleep(0.01)
    return time.perf_counter()


def _first_point(store: RunStore, executor, ready=lambda: True) -> float:
    latencies = []
    spec = make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=1_000_000)
    for _ in range(REPEATS):
        deadline = time.monotonic() + 120
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        start = time.perf_counter()
        run_id = executor.submit(spec).run_id
        latencies.append(_wait_first_row(store, run_id) - start)
        executor.cancel(run_id)
        executor.attach(run_id).wait(timeout=30)
    return statistics.median(latencies)


def _write_rows(home: str, database_url: str | None, run_id: str, barrier) -> float:
    """Log BATCHES batches of BATCH_ROWS rows; returns the seconds it took."""
    store = RunStore(home, database_url=database_url)
    names = [f"metric_{index:02d}" for index in range(10)]
    if barrier is not None:
        barrier.wait()
    start = time.perf_counter()
    for batch in range(BATCHES):
        first_step = batch * BATCH_ROWS // len(names)
        rows = [(name, first_step + offset, float(offset)) for offset in range(BATCH_ROWS // len(names))
                for name in names]
        store.log_metrics(run_id, rows, step=first_step, steps_per_second=1.0)
    return time.perf_counter() - start


def _writer_process(args) -> float:
    return _write_rows(*args)


def _rows_per_second(home: str, database_url: str | None, writers: int) -> float:
    store = RunStore(home, database_url=database_url)
    spec = make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=10)
    run_ids = [store.create_run(spec) for _ in range(writers)]
    if writers == 1:
        return BATCHES * BATCH_ROWS / _write_rows(home, database_url, run_ids[0], None)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(writers)
        start = time.perf_counter()
        with context.Pool(writers) as pool:
            pool.map(_writer_process, [(home, database_url, run_id, barrier) for run_id in run_ids])
        elapsed = time.perf_counter() - start
    return writers * BATCHES * BATCH_ROWS / elapsed


def _row(figure: str, ours: float | None, reference: float, goal: str, met: bool | None) -> dict:
    """ratio = ours / reference (for the latency, below 1 is faster than one machine)."""
    return {"figure": figure, "ours": ours, "reference": reference,
            "ratio": None if ours is None else ours / reference, "goal": goal, "met": met}


def rows() -> list[dict]:
    """The figures above: dicts with figure, ours (Ray + PostgreSQL), reference (local + SQLite), ratio, goal, met."""
    database_server = _service("UNSUP_LAB_DATABASE_URL")
    ray_address = _service("UNSUP_LAB_RAY_ADDRESS")
    with tempfile.TemporaryDirectory() as local_home:
        store = RunStore(Path(local_home) / "lab")
        local = LocalExecutor(store, warm_workers=1)
        try:
            local_first = _first_point(store, local, local.warm_ready)
        finally:
            local.shutdown()
        local_single = _rows_per_second(str(Path(local_home) / "rows1"), None, 1)
        local_many = _rows_per_second(str(Path(local_home) / "rows8"), None, WRITERS)
    cluster_first = cluster_single = cluster_many = None
    if database_server and ray_address:
        from unsup_core.runs.ray_executor import RayExecutor

        with tempfile.TemporaryDirectory() as cluster_home, fresh_postgres_schema(database_server) as url:
            store = RunStore(Path(cluster_home) / "lab", database_url=url)
            executor = RayExecutor(store, ClusterSettings("ray", ray_address))
            try:
                cluster_first = _first_point(store, executor)
            finally:
                executor.shutdown()
            cluster_single = _rows_per_second(str(Path(cluster_home) / "rows1"), url, 1)
            cluster_many = _rows_per_second(str(Path(cluster_home) / "rows8"), url, WRITERS)
    return [
        _row("submit -> first metric row (s): Ray job + PostgreSQL vs local warm worker + SQLite",
             cluster_first, local_first, f"<= {FIRST_POINT_GOAL_SECONDS:g} s",
             None if cluster_first is None else cluster_first <= FIRST_POINT_GOAL_SECONDS),
        _row("metric rows/s, one writer: PostgreSQL vs SQLite", cluster_single, local_single,
             f">= {BUSY_RUN_ROWS_PER_SECOND:,} rows/s (one busy run)",
             None if cluster_single is None else cluster_single >= BUSY_RUN_ROWS_PER_SECOND),
        _row(f"metric rows/s, {WRITERS} writer processes at once: PostgreSQL vs SQLite", cluster_many,
             local_many, f">= {WRITERS} x {BUSY_RUN_ROWS_PER_SECOND:,} rows/s ({WRITERS} busy runs)",
             None if cluster_many is None else cluster_many >= WRITERS * BUSY_RUN_ROWS_PER_SECOND),
    ]


def main() -> None:
    for row in rows():
        ours = "n/a (no PostgreSQL / Ray given)" if row["ours"] is None else f"{row['ours']:,.2f}"
        ratio = "" if row["ratio"] is None else f"  ratio {row['ratio']:.2f}"
        print(f"{row['figure']}\n    ours {ours}  reference {row['reference']:,.2f}{ratio}  "
              f"goal {row['goal']}  met {row['met']}")


if __name__ == "__main__":
    main()
