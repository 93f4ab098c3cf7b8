"""The run store: one database for runs and metrics, plus a folder of artifacts per run.

The database is SQLite (WAL) on one machine, or PostgreSQL when ``UNSUP_LAB_DATABASE_URL`` names one,
so that workers on several machines share it (``runs/backends.py``); artifacts stay files under
``UNSUP_LAB_HOME``, which every machine then mounts.

Shaped like MLflow's split: ``runs`` holds parameters (the spec) and status, ``series`` and
``metrics`` hold (run, name, step) -> value rows, and artifacts (snapshots as .npz, checkpoints, logs) live on disk
under ``runs/<run_id>/``. Each run has one writer (its worker); readers never block it (WAL), and
every status change is a single UPDATE guarded by the current status, so it is atomic.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from unsup_core.errors import UserError
from unsup_core.paths import data_home
from unsup_core.runs import backends, control, ownership, processes
from unsup_core.runs.spec import RunSpec

if TYPE_CHECKING:  # numpy is imported where arrays are read or written: a queued worker never needs it
    import numpy as np

    from unsup_core.runs.archive import ImportedMetrics

ACTIVE_STATUSES = ("queued", "running")
TERMINAL_STATUSES = ("done", "failed", "cancelled", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    dataset TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    steps INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    steps_per_second REAL,
    device TEXT,
    device_label TEXT,
    pid INTEGER,
    pid_start TEXT,
    launcher_pid INTEGER,
    launcher_start TEXT,
    created_at REAL NOT NULL,
    queued_at REAL NOT NULL,
    started_at REAL,
    updated_at REAL,
    ended_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    owner TEXT,
    shared INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT,
    host TEXT,
    ray_job TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status, device, queued_at);
-- One series per (run, metric name); rows are keyed by integers, which halves the insert cost.
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (run_id, name)
);
CREATE TABLE IF NOT EXISTS metrics (
    series_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (series_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    file TEXT NOT NULL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"""


class RunStateError(UserError):
    """The run is not in a state that allows the request (e.g. resuming a running run)."""


class RunNotFound(UserError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {str(run_id)[:40]!r}; see `python -m unsup_core list`")


@dataclass
class RunRecord:
    """One row of ``runs``, with the spec decoded."""

    id: str
    algorithm: str
    dataset: str
    spec: RunSpec
    status: str
    steps: int
    step: int
    steps_per_second: float | None
    device: str | None
    device_label: str | None
    pid: int | None
    pid_start: str | None
    launcher_pid: int | None
    launcher_start: str | None
    created_at: float
    queued_at: float
    started_at: float | None
    updated_at: float | None
    ended_at: float | None
    cancel_requested: bool
    error: str | None
    owner: str | None
    shared: bool
    parent_id: str | None
    host: str | None = None  # "MACHINE-ID/BOOT-ID" of the launch (its launcher_pid and, locally, pid)
    ray_job: str | None = None  # the Ray job training it, when the Ray executor placed it

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> float | None:
        """Seconds spent running so far (or in total, once ended)."""
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(0.0, end - self.started_at)

    @property
    def eta_seconds(self) -> float | None:
        if self.status != "running" or not self.steps_per_second:
            return None
        return max(0, self.steps - self.step) / self.steps_per_second

    def as_dict(self) -> dict:
        return {
            "id": self.id, "algorithm": self.algorithm, "dataset": self.dataset, "status": self.status,
            "config": self.spec.config, "steps": self.steps, "step": self.step, "seed": self.spec.seed,
            "dataset_options": self.spec.dataset_options, "device": self.device,
            "device_label": self.device_label, "created_at": self.created_at,
            "started_at": self.started_at, "ended_at": self.ended_at, "duration": self.duration,
            "error": self.error, "parent_id": self.parent_id, "owner": self.owner, "shared": self.shared,
        }


class DamagedRun(UserError):
    """A stored run whose record cannot be read; listings skip it, opening it says so."""


def _record(row: sqlite3.Row) -> RunRecord:
    values = dict(row)
    try:
        values["spec"] = RunSpec(**json.loads(values["spec"]))
        values["cancel_requested"] = bool(values["cancel_requested"])
        values["shared"] = bool(values["shared"])
        record = RunRecord(**values)
        for name in ("created_at", "queued_at", "started_at", "updated_at", "ended_at"):
            value = getattr(record, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise TypeError(f"{name} is {value!r}")
    except (TypeError, ValueError) as error:
        raise DamagedRun(f"run {values.get('id')!r} has a damaged record ({error}); delete it with "
                         "`python -m unsup_core delete ID --yes`") from None
    return record


def _records(rows: list[sqlite3.Row]) -> list[RunRecord]:
    """Decoded rows; one damaged run must not hide every other run from every user."""
    records = []
    for row in rows:
        try:
            records.append(_record(row))
        except DamagedRun:
            continue
    return records


RUN_ID_PATTERN = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def is_run_id(value: object) -> bool:
    """Ids are made by the store only; anything else (from a URL, a file, a CLI argument) names no run."""
    return isinstance(value, str) and RUN_ID_PATTERN.fullmatch(value) is not None


class RunStore(control.ControlChannel, ownership.OwnershipRecords):
    """Access to runs under ``home`` (default: ``$UNSUP_LAB_HOME``); safe to share across threads.

    Pausing, stepping and changing a running run are in :class:`control.ControlChannel`.
    """

    def __init__(self, home: str | Path | None = None, *, database_url: str | None = None) -> None:
        self.home = Path(home) if home is not None else data_home()
        self.runs_dir = self.home / "runs"
        self.db_path = self.home / "runs.db"
        self._local = threading.local()
        self.database_url = database_url or backends.database_url()
        if self.database_url:
            self._backend = backends.PostgresBackend(self.database_url)
            self.read_only = False
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            self._backend.create_schema(self._connect(), _SCHEMA + control.SCHEMA + ownership.SCHEMA)
            return
        self._backend = backends.SqliteBackend(self.db_path)
        # A store this process cannot write (a read-only mount, another user's folder) is opened to read,
        # so runs can still be listed and shown; any write then fails as a read-only database.
        self.read_only = self.home.is_dir() and not all(
            os.access(path, os.W_OK) for path in (self.home, self.db_path) if path.exists())
        if not self.read_only:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            self._backend.create_schema(self._connect(), _SCHEMA + control.SCHEMA + ownership.SCHEMA)
            return
        if not self.db_path.exists():
            raise UserError(f"no run store at {self.home}: the folder is read-only and holds no runs.db")
        # Reading a WAL database needs its -shm file, which cannot be created here once the last writer
        # has removed it; with neither -wal nor -shm left every change is in runs.db, read as immutable.
        left_by_writer = any(Path(f"{self.db_path}{suffix}").exists() for suffix in ("-wal", "-shm"))
        self._backend.read_only_uri = (f"{self.db_path.absolute().as_uri()}?"
                                       f"{'mode=ro' if left_by_writer else 'immutable=1'}")
        try:
            self._connect().execute("SELECT COUNT(*) FROM runs").fetchone()
        except sqlite3.DatabaseError as error:
            raise UserError(f"the run store at {self.home} is read-only and cannot be read ({error})") from None

    # -- connections --------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | backends.PostgresConnection:
        """This thread's connection (one per thread; SQLite's and psycopg's are not shared)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._backend.connect()
        return connection

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def _execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self._connect().execute(sql, params)

    # -- runs ---------------------------------------------------------------------------------
    def create_run(self, spec: RunSpec, *, device: str = "cpu", owner: str | None = None,
                   parent_id: str | None = None, launcher_pid: int | None = None) -> str:
        """Insert a queued run for ``device`` and its folder; returns the new run id.

        Ids are time-ordered with a random suffix and retried on collision, so concurrent sessions
        never share one.
        """
        launcher_pid = launcher_pid or os.getpid()
        for _ in range(10):
            run_id = _new_run_id()
            now = time.time()
            try:
                self._execute(
                    "INSERT INTO runs (id, algorithm, dataset, spec, status, steps, device, created_at, queued_at,"
                    " updated_at, owner, parent_id, launcher_pid, launcher_start, host)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (run_id, spec.algorithm, spec.dataset, json.dumps(spec.as_dict()), "queued", spec.steps,
                     device, now, now, now, owner, parent_id, launcher_pid, processes.start_time(launcher_pid),
                     processes.machine_identity()),
                )
            except self._backend.integrity_errors:
                continue
            self.run_dir(run_id).mkdir(parents=True, exist_ok=True)
            return run_id
        raise RuntimeError("could not allocate a unique run id")

    def has_run(self, run_id: str) -> bool:
        return self._execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is not None

    def get_run(self, run_id: str) -> RunRecord:
        if not is_run_id(run_id):
            raise RunNotFound(run_id)
        row = self._execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id)
        return _record(row)

    def list_runs(self, *, statuses: tuple[str, ...] | None = None, limit: int | None = None,
                  visible_to: str | None = None) -> list[RunRecord]:
        """Runs, newest first; with ``visible_to``, only that owner's runs and shared ones."""
        clauses, params = [], []
        if statuses:
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params += statuses
        if visible_to is not None:
            clauses.append("(owner = ? OR shared = 1)")
            params.append(visible_to)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        params = tuple(params)
        sql += " ORDER BY created_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return _records(self._execute(sql, params).fetchall())

    def queued_runs(self) -> list[RunRecord]:
        """Waiting runs in the order they will start."""
        rows = self._execute("SELECT * FROM runs WHERE status='queued' ORDER BY queued_at, id").fetchall()
        return _records(rows)

    def set_worker(self, run_id: str, pid: int) -> None:
        """Record the process that will train a queued run, so a dead one can be noticed."""
        self._execute("UPDATE runs SET pid=?, pid_start=?, updated_at=? WHERE id=?",
                      (pid, processes.start_time(pid), time.time(), run_id))

    def claim_slot(self, run_id: str, pid: int, limits) -> str:
        """Start a queued run if its device has a free slot and no earlier run waits for it.

        Returns "claimed" (now running), "wait" (try again later) or "gone" (no longer queued, e.g.
        cancelled). One transaction holding the store's write lock (SQLite's BEGIN IMMEDIATE, a
        PostgreSQL advisory lock) makes check-and-claim atomic across processes and machines, so two
        sessions can never take the same slot.
        """
        connection = self._connect()
        self._backend.begin(connection, claim=True)
        try:
            row = connection.execute("SELECT status, device, queued_at FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None or row["status"] != "queued":
                connection.execute("COMMIT")
                return "gone"
            running = connection.execute("SELECT COUNT(*) FROM runs WHERE status='running' AND device=?",
                                         (row["device"],)).fetchone()[0]
            ahead = connection.execute(
                "SELECT COUNT(*) FROM runs WHERE status='queued' AND device=? AND (queued_at < ? OR"
                " (queued_at = ? AND id < ?))", (row["device"], row["queued_at"], row["queued_at"], run_id),
            ).fetchone()[0]
            if running + ahead >= limits.slots(row["device"]):
                connection.execute("COMMIT")
                return "wait"
            now = time.time()
            connection.execute(
                "UPDATE runs SET status='running', pid=?, pid_start=?, started_at=COALESCE(started_at, ?),"
                " updated_at=? WHERE id=?", (pid, processes.start_time(pid), now, now, run_id))
            connection.execute("COMMIT")
            return "claimed"
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def set_device_label(self, run_id: str, device_label: str) -> None:
        self._execute("UPDATE runs SET device_label=?, updated_at=? WHERE id=?", (device_label, time.time(), run_id))

    def requeue(self, run_id: str, *, steps: int | None = None, launcher_pid: int | None = None) -> RunRecord:
        """Put an ended run back in the queue to resume from its checkpoint (optionally for more steps)."""
        run = self.get_run(run_id)
        if run.status not in TERMINAL_STATUSES:
            raise RunStateError(f"run {run_id} is {run.status}; only an ended run can be resumed")
        spec = run.spec
        if steps is not None:
            if steps <= run.step:
                raise RunStateError(f"steps must be more than the {run.step} already done, got {steps}")
            spec = RunSpec(**{**spec.as_dict(), "steps": steps})
        elif run.status == "done":
            raise RunStateError(f"run {run_id} is done; give more steps to train it further")
        launcher_pid = launcher_pid or os.getpid()
        now = time.time()
        cursor = self._execute(
            "UPDATE runs SET status='queued', spec=?, steps=?, queued_at=?, updated_at=?, ended_at=NULL,"
            " error=NULL, cancel_requested=0, pid=NULL, pid_start=NULL, launcher_pid=?, launcher_start=?,"
            " host=?, ray_job=NULL WHERE id=? AND status=?",
            (json.dumps(spec.as_dict()), spec.steps, now, now, launcher_pid, processes.start_time(launcher_pid),
             processes.machine_identity(), run_id, run.status),
        )
        if cursor.rowcount != 1:
            raise RunStateError(f"run {run_id} changed while resuming; try again")
        self.reset_control(run_id)
        return self.get_run(run_id)

    def set_shared(self, run_id: str, shared: bool) -> None:
        self.get_run(run_id)
        self._execute("UPDATE runs SET shared=?, updated_at=? WHERE id=?", (int(shared), time.time(), run_id))

    def finish(self, run_id: str, status: str, error: str | None = None) -> bool:
        """Move an active run to a terminal status; a run already ended keeps its first outcome."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"not a terminal status: {status!r}")
        now = time.time()
        cursor = self._execute(
            "UPDATE runs SET status=?, error=?, ended_at=?, updated_at=? WHERE id=? AND status IN (?, ?)",
            (status, error, now, now, run_id, *ACTIVE_STATUSES),
        )
        return cursor.rowcount == 1

    def finish_worker(self, run_id: str, pid: int, status: str, error: str | None = None) -> bool:
        """Like :meth:`finish`, but only while ``pid`` is still the run's worker (not a later resume's)."""
        now = time.time()
        cursor = self._execute(
            "UPDATE runs SET status=?, error=?, ended_at=?, updated_at=? WHERE id=? AND pid=? AND status IN (?, ?)",
            (status, error, now, now, run_id, pid, *ACTIVE_STATUSES),
        )
        return cursor.rowcount == 1

    def request_cancel(self, run_id: str) -> RunRecord:
        """Flag a run for cancelling; a queued run (no worker yet) is cancelled at once."""
        self.get_run(run_id)
        self._execute("UPDATE runs SET cancel_requested=1, updated_at=? WHERE id=?", (time.time(), run_id))
        self._execute("UPDATE runs SET status='cancelled', ended_at=?, error=NULL WHERE id=? AND status='queued'",
                      (time.time(), run_id))
        return self.get_run(run_id)

    def set_ray_job(self, run_id: str, job_id: str) -> None:
        """Record the Ray job that will train a queued run (its liveness is then Ray's to tell)."""
        self._execute("UPDATE runs SET ray_job=?, updated_at=? WHERE id=?", (job_id, time.time(), run_id))

    def finish_ray_job(self, run_id: str, job_id: str, status: str, error: str | None = None) -> bool:
        """Like :meth:`finish_worker`, for a run placed by Ray: only while ``job_id`` is still its job."""
        now = time.time()
        cursor = self._execute(
            "UPDATE runs SET status=?, error=?, ended_at=?, updated_at=? WHERE id=? AND ray_job=? AND status IN (?, ?)",
            (status, error, now, now, run_id, job_id, *ACTIVE_STATUSES),
        )
        return cursor.rowcount == 1

    def cancel_requested(self, run_id: str) -> bool:
        row = self._execute("SELECT cancel_requested FROM runs WHERE id=?", (run_id,)).fetchone()
        return bool(row and row[0])

    def reconcile(self) -> list[str]:
        """Mark runs whose worker is gone: failed if its launcher still runs, else interrupted.

        Called when a dashboard or CLI starts and when runs are listed, so a run never stays
        'running' after its process died (SIGKILL, out of memory, machine restart).
        """
        changed = []
        here = processes.machine_identity()
        here_machine = here.partition("/")[0]
        for run in self.list_runs(statuses=ACTIVE_STATUSES):
            host = run.host or here
            if "/" not in host:  # recorded before machine ids: a hostname
                host = here if host == socket.gethostname() else f"host-{host}/"
            if run.ray_job is not None or host.partition("/")[0] != here_machine:
                continue  # process ids mean nothing on another machine; Ray watches its own jobs
            # Same machine, another boot: its processes are gone, whatever now runs under their ids.
            this_boot = host == here
            launcher_alive = this_boot and processes.is_alive(run.launcher_pid, run.launcher_start)
            if run.status == "running" and not (this_boot and processes.is_alive(run.pid, run.pid_start)):
                if launcher_alive:
                    status, reason = "failed", f"worker process {run.pid} ended without reporting (killed or crashed)"
                else:
                    status, reason = "interrupted", "interrupted: the process that started this run is gone"
            elif run.status == "queued" and (this_boot and processes.is_alive(run.pid, run.pid_start) if run.pid
                                             else launcher_alive):
                continue
            elif run.status == "queued":
                status, reason = "interrupted", "interrupted while waiting in the queue"
            else:
                continue
            if self.finish(run.id, status, reason):
                changed.append(run.id)
        return changed

    # -- metrics ------------------------------------------------------------------------------
    def _series_ids(self, connection, run_id: str, names: set[str]) -> dict[str, int]:
        """Ids of the run's metric series, creating missing ones (inside the caller's transaction).

        Looked up once per batch, not cached: a deleted and re-imported run gets new ids.
        """
        connection.executemany("INSERT OR IGNORE INTO series (run_id, name) VALUES (?, ?)",
                               [(run_id, name) for name in names])
        ids = dict(connection.execute("SELECT name, id FROM series WHERE run_id=?", (run_id,)).fetchall())
        return {name: ids[name] for name in names}

    def log_metrics(self, run_id: str, rows: list[tuple[str, int, float]], *, step: int | None = None,
                    steps_per_second: float | None = None) -> None:
        """Write a batch of (name, step, value) rows and the run's progress in one transaction.

        A row for a (name, step) already stored replaces it: a resumed run rewrites the steps after
        its checkpoint, and every step keeps exactly one value.
        """
        now = time.time()
        connection = self._connect()
        self._backend.begin(connection)
        try:
            ids = self._series_ids(connection, run_id, {name for name, _, _ in rows})
            connection.executemany(
                "INSERT OR REPLACE INTO metrics (series_id, step, value, wall_time) VALUES (?,?,?,?)",
                [(ids[name], int(row_step), _finite_or_none(value), now) for name, row_step, value in rows],
            )
            if step is not None:
                connection.execute("UPDATE runs SET step=?, steps_per_second=?, updated_at=? WHERE id=?",
                                   (step, steps_per_second, now, run_id))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def read_metrics(self, run_id: str, after_step: int = -1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """name -> (steps, values) for rows with step > ``after_step``, in step order."""
        import numpy as np

        rows = self._execute(
            "SELECT s.name, m.step, m.value FROM series s JOIN metrics m ON m.series_id = s.id"
            " WHERE s.run_id=? AND m.step>? ORDER BY s.name, m.step", (run_id, after_step),
        ).fetchall()
        grouped: dict[str, tuple[list, list]] = {}
        for name, step, value in rows:
            steps, values = grouped.setdefault(name, ([], []))
            steps.append(step)
            values.append(math.nan if value is None else value)
        return {name: (np.asarray(s, dtype=np.int64), np.asarray(v, dtype=np.float64))
                for name, (s, v) in grouped.items()}

    def last_metrics(self, run_id: str) -> dict[str, float]:
        """The value at the highest step of each metric."""
        rows = self._execute(
            "SELECT s.name, (SELECT m.value FROM metrics m WHERE m.series_id = s.id ORDER BY m.step DESC LIMIT 1)"
            " FROM series s WHERE s.run_id=?", (run_id,),
        ).fetchall()
        return {name: (math.nan if value is None else value) for name, value in rows}

    def metric_rows(self, run_id: str) -> list[tuple[str, int, float | None, float]]:
        """Every (name, step, value, wall_time) row of a run, for export."""
        return [tuple(row) for row in self._execute(
            "SELECT s.name, m.step, m.value, m.wall_time FROM series s JOIN metrics m ON m.series_id = s.id"
            " WHERE s.run_id=? ORDER BY s.name, m.step", (run_id,))]

    def add_imported_run(self, spec: RunSpec, record: dict, staging: Path, metrics: "ImportedMetrics",
                         snapshot_steps: list[int], *, owner: str, changes: list[control.Change] = ()) -> str:
        """Add a run read from an archive under a new id made here; ``staging`` becomes its folder.

        ``record`` holds only checked fields (status, step, timestamps, error, device label), ``changes``
        only checked applied hyperparameter changes. The run belongs to ``owner`` and is not shared,
        whatever the archive said. All or nothing: on any failure no row stays and the folder is removed.
        """
        for _ in range(10):
            run_id = _new_run_id()
            if not self.has_run(run_id) and not self.run_dir(run_id).exists():
                break
        else:
            raise RuntimeError("could not allocate a unique run id")
        staging.rename(self.run_dir(run_id))
        connection = self._connect()
        try:
            self._backend.begin(connection)
            try:
                values = {**record, "id": run_id, "algorithm": spec.algorithm, "dataset": spec.dataset,
                          "spec": json.dumps(spec.as_dict()), "steps": spec.steps, "owner": owner, "shared": 0,
                          "queued_at": record["created_at"], "updated_at": time.time()}
                connection.execute(f"INSERT INTO runs ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                                   tuple(values.values()))
                ids = self._series_ids(connection, run_id, set(metrics.names))
                series = [ids[name] for name in metrics.names]
                connection.executemany(
                    "INSERT INTO metrics (series_id, step, value, wall_time) VALUES (?,?,?,?)",
                    ((series[code], int(step), _finite_or_none(value), float(wall))
                     for code, step, value, wall in zip(metrics.codes, metrics.steps, metrics.values,
                                                        metrics.wall_times)))
                connection.executemany(
                    "INSERT INTO snapshots (run_id, step, file, wall_time) VALUES (?,?,?,?)",
                    [(run_id, step, f"runs/{run_id}/snapshots/{step:09d}.npz", time.time()) for step in snapshot_steps])
                now = time.time()
                connection.executemany(
                    "INSERT INTO run_changes (run_id, name, value, requested_at, step, applied_at) VALUES (?,?,?,?,?,?)",
                    [(run_id, change.name, change.value, now, change.step, now) for change in changes])
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except BaseException:
            shutil.rmtree(self.run_dir(run_id), ignore_errors=True)
            raise
        return run_id

    # -- artifacts ----------------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        if not is_run_id(run_id):  # a path is only ever made from a store-made id
            raise RunNotFound(run_id)
        return self.runs_dir / run_id

    def save_snapshot(self, run_id: str, step: int, arrays: dict[str, np.ndarray]) -> None:
        """Write arrays as an .npz (no pickles), atomically, then index it."""
        import numpy as np

        folder = self.run_dir(run_id) / "snapshots"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{step:09d}.npz"
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **{name: np.asarray(value) for name, value in arrays.items()})
        _atomic_write(target, buffer.getvalue())
        self._execute("INSERT OR REPLACE INTO snapshots (run_id, step, file, wall_time) VALUES (?,?,?,?)",
                      (run_id, step, str(target.relative_to(self.home)), time.time()))

    def snapshot_steps(self, run_id: str) -> list[int]:
        rows = self._execute("SELECT step FROM snapshots WHERE run_id=? ORDER BY step", (run_id,)).fetchall()
        return [row[0] for row in rows]

    def load_snapshot(self, run_id: str, step: int | None = None) -> tuple[int, dict[str, np.ndarray]] | None:
        """(step, arrays) of the snapshot at ``step`` (default: the latest), or None if none yet."""
        import numpy as np

        if step is None:
            row = self._execute("SELECT step, file FROM snapshots WHERE run_id=? ORDER BY step DESC LIMIT 1",
                                (run_id,)).fetchone()
        else:
            row = self._execute("SELECT step, file FROM snapshots WHERE run_id=? AND step=?",
                                (run_id, step)).fetchone()
        if row is None:
            return None
        with np.load(self.home / row[1], allow_pickle=False) as archive:
            return row[0], {name: archive[name] for name in archive.files}

    def checkpoint_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "checkpoint.pt"

    def save_checkpoint(self, run_id: str, payload: dict) -> None:
        import torch

        buffer = io.BytesIO()
        torch.save(payload, buffer)
        _atomic_write(self.checkpoint_path(run_id), buffer.getvalue())

    def load_checkpoint(self, run_id: str) -> dict | None:
        """The run's checkpoint, loaded with ``weights_only=True`` (never arbitrary pickles)."""
        import torch

        path = self.checkpoint_path(run_id)
        if not path.exists():
            return None
        return torch.load(path, map_location="cpu", weights_only=True)

    def delete_run(self, run_id: str) -> None:
        connection = self._connect()
        self._backend.begin(connection)
        try:
            connection.execute("DELETE FROM metrics WHERE series_id IN (SELECT id FROM series WHERE run_id=?)",
                               (run_id,))
            for table, column in (("series", "run_id"), ("snapshots", "run_id"), ("run_control", "run_id"),
                                  ("run_changes", "run_id"), ("runs", "id")):
                connection.execute(f"DELETE FROM {table} WHERE {column}=?", (run_id,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _atomic_write(target: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
