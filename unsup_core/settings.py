"""Server-wide settings, read from the environment so one server can be tuned without code changes."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def default_cpu_slots() -> int:
    """Concurrent CPU runs: at least two (so two runs both progress), half the cores on big machines."""
    return max(2, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class QueueLimits:
    """How many runs may train at once on each device; further runs wait as ``queued``, in order."""

    cpu: int
    cuda: int

    @classmethod
    def from_env(cls) -> "QueueLimits":
        return cls(cpu=_int("UNSUP_LAB_MAX_CPU_RUNS", default_cpu_slots()),
                   cuda=_int("UNSUP_LAB_MAX_GPU_RUNS", 1))

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
