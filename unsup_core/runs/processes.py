"""Process identity checks that survive pid reuse (Linux /proc start time, portable fallback)."""

from __future__ import annotations

import os
import signal
import socket


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None when unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22 of stat; the first two fields precede ")"
    except (OSError, IndexError):
        return None


def is_alive(pid: int | None, expected_start: str | None = None) -> bool:
    """True when ``pid`` runs and, if ``expected_start`` is given, is the same process as recorded."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _is_zombie(pid):
        return False
    if expected_start is not None:
        current = start_time(pid)
        return current is None or current == expected_start
    return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def describe_exit(returncode: int) -> str:
    """'killed by SIGKILL' or 'exited with code 3'."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def machine_identity() -> str:
    """'MACHINE-ID/BOOT-ID': which machine, and which boot of it, a recorded process id belongs to.

    Hostnames repeat (cloned machines, "localhost"); /etc/machine-id is unique per installation, and
    the boot id tells whether that machine has restarted since (its process ids then mean nothing).
    Without /etc/machine-id (not Linux) the hostname stands in.
    """
    machine = _first_line("/etc/machine-id") or f"host-{socket.gethostname()}"
    return f"{machine}/{_first_line('/proc/sys/kernel/random/boot_id')}"


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return ""

