"""The control channel of a run: pause, step, play, and hyperparameter changes while it trains.

Like the cancel flag, every request is a row in the run store that the worker polls between steps,
so a page, the CLI, a reload or a second tab all see and change the same state, and nothing depends
on the process that asked. A paused run keeps its worker process and its device slot: the model
stays in memory, ready to step or play at once (cancel it to free the slot).

Two tables: ``run_control`` holds a run's pause flag, the step a "step N" asked it to hold at, and
the step its worker holds at; ``run_changes`` holds every hyperparameter change, first
requested (``step`` NULL), then applied by the worker after ``step`` steps. Applied changes are the
markers on the run's curves and travel with an exported run.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from unsup_core.config import ConfigError, FieldSpec, describe, parse_allowed
from unsup_core.errors import UserError

MAX_STEP_REQUEST = 1_000_000  # steps one "step N" may grant
MAX_STEP = 10**12  # no run gets near it; bounds the step a page counts from
# (Stores made before 2026-12-03 also have a step_credit column, unused since Step asks for a step.)

SCHEMA = """
CREATE TABLE IF NOT EXISTS run_control (
    run_id TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    held_step INTEGER,
    hold_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_changes (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    requested_at REAL NOT NULL,
    step INTEGER,
    applied_at REAL
);
CREATE INDEX IF NOT EXISTS run_changes_by_run ON run_changes(run_id, step);
"""


@dataclass(frozen=True)
class Change:
    """A hyperparameter change: ``value`` for ``name`` from step ``step`` + 1 on (None: not applied yet)."""

    name: str
    value: float
    step: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Control:
    """What the worker should do, read between two steps."""

    paused: bool = False
    hold_at: int | None = None  # while paused, train on until this step (None: hold where it is)
    changes: tuple[Change, ...] = ()

    def holds_at(self, step: int) -> bool:
        return self.paused and (self.hold_at is None or step >= self.hold_at)


@dataclass(frozen=True)
class ControlState:
    """What a page or the CLI shows: paused or not, where the worker holds, changes still waiting."""

    paused: bool
    held_step: int | None
    hold_at: int | None  # the step a "step N" asked it to reach
    pending: dict[str, float]


# -- what each algorithm lets change ----------------------------------------------------------------
def adjustable_fields(algorithm: str) -> dict[str, FieldSpec]:
    """name -> the field spec bounding it (the Config field's range, under the adjustable's name)."""
    from unsup_core.algorithms import get_algorithm

    cls = get_algorithm(algorithm)
    fields = {spec.name: spec for spec in describe(cls.Config)}
    return {adjustable.name: dataclasses.replace(fields[adjustable.field], name=adjustable.name,
                                                 help=adjustable.label)
            for adjustable in cls.adjustables}


def check_change(algorithm: str, name: str, value) -> float:
    """``value`` as a float within the declared range of ``name``, else a :class:`ConfigError` saying what is allowed."""
    fields = adjustable_fields(algorithm)
    if name not in fields:
        allowed = ", ".join(fields) or "nothing (it has no adjustable hyperparameters)"
        raise ConfigError(f"{algorithm} cannot change {str(name)[:40]!r} while it trains; it can change: {allowed}")
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value} is not allowed: give {fields[name].allowed()}")
    return float(parse_allowed(fields[name], value))


def current_values(algorithm: str, config: dict, changes: list[Change]) -> dict[str, float]:
    """Each adjustable's value now: the run's config value, then the last applied change."""
    from unsup_core.algorithms import get_algorithm

    built = get_algorithm(algorithm).build_config(config)
    values = {a.name: float(getattr(built, a.field)) for a in get_algorithm(algorithm).adjustables}
    for change in changes:
        if change.step is not None and change.name in values:
            values[change.name] = change.value
    return values


class RunStateChange(UserError):
    """Asked to pause, step or change a run that is not queued or running."""


def _check_whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RunStateChange(f"{name} must be a whole number from {low} to {high:,}, got {str(value)[:20]}")


class ControlChannel:
    """The store's control methods (mixed into ``RunStore``, which provides ``_execute`` and ``get_run``)."""

    # -- requests (pages, CLI) ---------------------------------------------------------------------
    def _active_run(self, run_id: str):
        run = self.get_run(run_id)
        if not run.is_active:
            raise RunStateChange(f"run {run_id} is {run.status}; only a queued or running run can be paused, "
                                 "stepped or changed (resume it first)")
        return run

    def _upsert_control(self, run_id: str, assignments: str, params: tuple = ()) -> None:
        self._execute("INSERT OR IGNORE INTO run_control (run_id) VALUES (?)", (run_id,))
        self._execute(f"UPDATE run_control SET {assignments} WHERE run_id=?", (*params, run_id))

    def request_pause(self, run_id: str) -> None:
        """Hold the run at its next step boundary (it keeps its worker and device slot)."""
        self._active_run(run_id)
        self._upsert_control(run_id, "paused=1, hold_at=NULL")

    def request_play(self, run_id: str) -> None:
        """Let a paused run train on."""
        self._active_run(run_id)
        self._upsert_control(run_id, "paused=0, hold_at=NULL")

    def request_steps(self, run_id: str, steps: int, from_step: int | None = None) -> int:
        """Hold at ``from_step + steps`` (pausing a playing run there); returns that step.

        The target is a step, not a count, so a request that arrives twice (a double click, a
        callback replayed by a reconnecting browser) asks for the same step and takes ``steps``
        steps once. A page passes the step it showed the run holding at; the CLI passes none and
        counts from the step the run is asked to reach already, else where it holds, else its last
        recorded step (a playing run may have passed that; it then holds at once).
        """
        _check_whole("steps", steps, 1, MAX_STEP_REQUEST)
        if from_step is not None:
            _check_whole("from_step", from_step, 0, MAX_STEP)
        run = self._active_run(run_id)
        if from_step is None:
            state = self.control_state(run_id)
            pending = state.hold_at if state.paused and state.hold_at is not None else None
            from_step = next(value for value in (pending, state.held_step, run.step) if value is not None)
        target = from_step + steps
        self._upsert_control(run_id, "paused=1, hold_at=?", (target,))
        return target

    def set_hyperparameter(self, run_id: str, name: str, value) -> float:
        """Ask the worker to use ``value`` for ``name`` from its next step; returns the checked value.

        ``name`` must be one the algorithm declares adjustable, ``value`` within its Config range. A
        request not yet applied is replaced by a newer one for the same name.
        """
        run = self._active_run(run_id)
        checked = check_change(run.algorithm, name, value)
        replaced = self._execute("UPDATE run_changes SET value=?, requested_at=? WHERE run_id=? AND name=?"
                                 " AND step IS NULL", (checked, time.time(), run_id, name)).rowcount
        if not replaced:
            self._execute("INSERT INTO run_changes (run_id, name, value, requested_at) VALUES (?,?,?,?)",
                          (run_id, name, checked, time.time()))
        return checked

    def control_state(self, run_id: str) -> ControlState:
        row = self._execute("SELECT paused, hold_at, held_step FROM run_control WHERE run_id=?",
                            (run_id,)).fetchone()
        pending = dict(self._execute("SELECT name, value FROM run_changes WHERE run_id=? AND step IS NULL"
                                     " ORDER BY id", (run_id,)).fetchall())
        if row is None:
            return ControlState(False, None, None, pending)
        return ControlState(bool(row[0]), row[2], row[1], pending)

    def applied_changes(self, run_id: str) -> list[Change]:
        """Changes the worker applied, in the order it applied them."""
        rows = self._execute("SELECT name, value, step, id FROM run_changes WHERE run_id=? AND step IS NOT NULL"
                             " ORDER BY step, id", (run_id,)).fetchall()
        return [Change(name, float(value), int(step), change_id) for name, value, step, change_id in rows]

    # -- the worker's side -------------------------------------------------------------------------
    def take_control(self, run_id: str) -> Control:
        """The worker's read between steps: pause flag, the step to hold at, changes to apply."""
        row = self._execute("SELECT paused, hold_at FROM run_control WHERE run_id=?", (run_id,)).fetchone()
        paused, hold_at = (bool(row[0]), row[1]) if row else (False, None)
        rows = self._execute("SELECT name, value, id FROM run_changes WHERE run_id=? AND step IS NULL ORDER BY id",
                             (run_id,)).fetchall()
        changes = tuple(Change(name, float(value), None, change_id) for name, value, change_id in rows)
        return Control(paused, hold_at if paused else None, changes)

    def record_changes_applied(self, run_id: str, changes: tuple[Change, ...], step: int) -> None:
        now = time.time()
        self._connect().executemany("UPDATE run_changes SET step=?, applied_at=? WHERE id=? AND run_id=?",
                                    [(step, now, change.id, run_id) for change in changes])

    def set_held_step(self, run_id: str, step: int | None) -> None:
        """Where the worker holds while paused (None: training)."""
        self._execute("INSERT OR IGNORE INTO run_control (run_id) VALUES (?)", (run_id,))
        self._execute("UPDATE run_control SET held_step=? WHERE run_id=?", (step, run_id))

    def discard_changes_after(self, run_id: str, step: int) -> None:
        """Forget changes applied after the checkpoint a run resumes from: its steps are trained again."""
        self._execute("DELETE FROM run_changes WHERE run_id=? AND step>?", (run_id, step))

    def reset_control(self, run_id: str) -> None:
        """A resumed run starts playing; changes still waiting apply when it starts."""
        self._execute("DELETE FROM run_control WHERE run_id=?", (run_id,))
