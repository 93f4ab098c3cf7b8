"""The one place that decides who may see and change a run or an uploaded file.

Every page, query parameter and CLI command asks :func:`may` (or :func:`require`) before showing or
changing anything. Outside shared mode there is one user and everything is allowed. In shared
(classroom) mode a user sees and changes their own runs and files, sees what a teacher shared, and
the teacher (and the operator at the server's shell, i.e. the CLI) may do everything.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Literal

from unsup_core.errors import UserError
from unsup_core.identity import OPERATOR
from unsup_core.runs.ownership import UploadRecord
from unsup_core.settings import SharingSettings

Action = Literal["see", "change", "share"]


class AccessDenied(UserError):
    """Asked for something this user may not see or change."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed browser id, a signed-in account, or the operator."""

    id: str
    teacher: bool = False

    @classmethod
    def operator(cls) -> "Principal":
        return cls(OPERATOR, teacher=True)


def may(principal: Principal, action: Action, resource, settings: SharingSettings | None = None) -> bool:
    """Whether ``principal`` may ``action`` the run (a ``RunRecord``) or upload (an ``UploadRecord``)."""
    settings = settings or SharingSettings.from_env()
    if principal.teacher:
        return True
    if action == "share":
        return not settings.shared
    if not settings.shared:
        return True
    owners = resource.owners if isinstance(resource, UploadRecord) else {resource.owner}
    if principal.id in owners:
        return True
    return action == "see" and bool(resource.shared)


def reusable_runs(principal: Principal, runs: list) -> list:
    """The runs whose results may be reused as this principal's own work (a map, a clustering): its own only.

    Even a teacher, who may see every run, never gets a student's run (perhaps imported from a crafted
    archive) slipped into their own analysis; opening a student's run on purpose is a separate, checked path.
    """
    return [run for run in runs if run.owner == principal.id]


def require(principal: Principal, action: Action, resource, settings: SharingSettings | None = None) -> None:
    """Raise :class:`AccessDenied` unless :func:`may` allows it; the message does not reveal whose it is."""
    if not may(principal, action, resource, settings):
        kind = "file" if isinstance(resource, UploadRecord) else "run"
        verb = "see" if action == "see" else "change"
        raise AccessDenied(f"you cannot {verb} this {kind}: it belongs to another user of this shared server")


def data_name(principal: Principal, run, settings: SharingSettings | None = None) -> str:
    """How a run's data is named to ``principal``: an uploaded file's name only to someone who may see
    the run (a student's file name can say more than they mean to share), else what kind of data it is."""
    from unsup_core.datasets import dataset_label, list_datasets

    if may(principal, "see", run, settings):
        return dataset_label(run.dataset, run.spec.dataset_options)
    return run.dataset if any(entry.name == run.dataset for entry in list_datasets()) else "an uploaded file"


def visible_to(principal: Principal, settings: SharingSettings | None = None) -> str | None:
    """The owner filter for listings (None: everything)."""
    settings = settings or SharingSettings.from_env()
    return None if principal.teacher or not settings.shared else principal.id


def check_run_limit(store, principal: Principal, settings: SharingSettings | None = None) -> None:
    """Refuse a new run when this user already has their share of active runs."""
    limit = (settings or SharingSettings.from_env()).max_active_runs_per_user
    if not limit or principal.teacher:
        return
    mine = [run for run in store.list_runs(statuses=("queued", "running")) if run.owner == principal.id]
    if len(mine) >= limit:
        raise UserError(f"you already have {len(mine)} active runs (the limit on this server is {limit}); "
                        "wait for one to finish or cancel one")


def check_spec_data(store, principal: Principal, spec, settings: SharingSettings | None = None) -> None:
    """A run on a user's file may only use a stored upload this user may see."""
    if spec.dataset != "file":
        return
    upload = store.upload_for_path(spec.dataset_options.get("path", ""))
    if upload is None:
        raise AccessDenied("the file dataset reads only files stored in the lab: upload the file first")
    require(principal, "see", upload, settings)


def submit_run(executor, principal: Principal, spec, *, parent_id: str | None = None,
               settings: SharingSettings | None = None):
    """Start a run for ``principal`` after every rule a new run must pass; returns the run's handle."""
    check_run_limit(executor.store, principal, settings)
    check_spec_data(executor.store, principal, spec, settings)
    return executor.submit(spec, owner=principal.id, parent_id=parent_id)


@dataclass
class LoginThrottle:
    """Slows and then stops repeated wrong passwords, per client and for the whole server.

    After the n-th failure (n >= 2) in ``window`` seconds a client waits 2**(n-2) seconds (at most
    ``max_delay``) before the next attempt counts; after ``max_failures`` it is locked out for
    ``lockout`` seconds. ``server_max_failures`` caps guessing from many clients at once.
    """

    max_failures: int = 5
    window: float = 600.0
    lockout: float = 900.0
    max_delay: float = 30.0
    server_max_failures: int = 30
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [moment for moment in self._failures.get(key, []) if now - moment < max(self.window, self.lockout)]
        self._failures[key] = kept
        return kept

    def retry_after(self, client: str) -> float:
        """Seconds before ``client`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(self._recent(client, now), self.max_failures, now, slow_down=True),
                     self._wait(self._recent("*", now), self.server_max_failures, now, slow_down=False)]
        return max(waits)

    def _wait(self, failures: list[float], limit: int, now: float, slow_down: bool) -> float:
        in_window = [moment for moment in failures if now - moment < self.window]
        if not in_window:
            return 0.0
        if len(in_window) >= limit:
            return max(0.0, in_window[-1] + self.lockout - now)
        if len(in_window) < 2 or not slow_down:  # one typo costs nothing
            return 0.0
        delay = min(2.0 ** (len(in_window) - 2), self.max_delay)
        return max(0.0, in_window[-1] + delay - now)

    def record_failure(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (client, "*"):
                self._recent(key, now).append(now)

    def record_success(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
