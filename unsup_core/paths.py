"""Where runs, caches and downloaded datasets live: ``$UNSUP_LAB_HOME`` or a per-user folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "UNSUP_LAB_HOME"


def data_home() -> Path:
    """The lab's data folder, kept outside the source tree so Streamlit never watches it."""
    configured = os.environ.get(ENV_HOME)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "unsup-lab"
