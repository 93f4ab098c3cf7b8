"""Per-server singletons shared by every page and browser session."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

import streamlit as st

from pages import disable_pages_directory_fallback
from unsup_core.access import Principal, data_name
from unsup_core.paths import data_home
from unsup_core.runs.executor import LocalExecutor, make_executor
from unsup_core.runs.store import RunStore

if TYPE_CHECKING:  # Ray is imported only where the settings ask for it
    from unsup_core.runs.ray_executor import RayExecutor
from unsup_core.settings import QueueLimits

# How often a live view polls the store: fast while a run is young, so "Train -> first point" stays
# under a second, then at a steady pace that a classroom of sessions can afford.
FAST_REFRESH_SECONDS = 0.5
# Until a young run's first step is stored: a page with nothing to draw yet is cheap to poll, and the
# first point then appears within a fifth of a second of being written.
FIRST_POINT_REFRESH_SECONDS = 0.2
FAST_REFRESH_WINDOW_SECONDS = 15.0
REFRESH_SECONDS = float(os.environ.get("UNSUP_LAB_REFRESH_SECONDS", "1.0"))

HOME_PAGE = "pages/home.py"
RUN_PAGE = "pages/run.py"
TRAIN_PAGE = "pages/train.py"
RUNS_PAGE = "pages/runs.py"
COMPARE_PAGE = "pages/compare.py"
SOM_PAGE = "pages/som.py"
DATA_PAGE = "pages/your_data.py"


_app_context = threading.local()


def run_app(navigation) -> None:
    """Run the page chosen by app.py's navigation, marking the run as going through app.py."""
    _app_context.active = True
    try:
        navigation.run()
    finally:
        _app_context.active = False


_PENDING_RUN_KEY = "services.open_run"


def open_run_on_next_rerun(run_id: str) -> None:
    """From a widget callback (where switching pages is not allowed): open this run next."""
    st.session_state[_PENDING_RUN_KEY] = run_id


def require_app() -> None:
    """Called first by every page.

    A page started without app.py (see pages/__init__) reruns through it; a run started by a
    callback in the previous interaction is opened now.
    """
    if not getattr(_app_context, "active", False):
        disable_pages_directory_fallback()
        st.rerun()
    if run_id := st.session_state.pop(_PENDING_RUN_KEY, None):
        st.switch_page(RUN_PAGE, query_params={"run": run_id})


@st.cache_resource(show_spinner=False)
def _services(home: str) -> tuple[RunStore, LocalExecutor | RayExecutor]:
    # Held by the server process, not a session: workers survive reloads and extra tabs, and a
    # run left 'running' by a server that died is marked interrupted here, at the next start.
    store = RunStore(home)
    store.reconcile()
    # Read when the services start, not when this module is imported (a test imports it long before).
    return store, make_executor(store, warm_workers=QueueLimits.from_env().warm_workers)


def store() -> RunStore:
    return _services(str(data_home()))[0]


def executor() -> LocalExecutor | RayExecutor:
    return _services(str(data_home()))[1]


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    from unsup_core.device import describe_device, resolve_device

    return describe_device(resolve_device("auto"))


def sidebar_status(principal: Principal) -> None:
    """Device, and the queue: what trains now and what waits, in order (others' files not named)."""
    st.caption(f"Device: **{device_label()}**")
    limits = QueueLimits.from_env()
    running = store().list_runs(statuses=("running",))
    queued = store().queued_runs()
    st.caption(f"Training: **{len(running)}** (slots: {limits.cpu} CPU, {limits.cuda} GPU) · "
               f"queued: **{len(queued)}**")
    for position, run in enumerate(queued[:5], start=1):
        # As code: a file's name (letters, digits, "_.- " only) must not become Markdown, e.g. a link.
        st.caption(f"{position}. {run.algorithm} on `{data_name(principal, run)}` (`{run.id[-6:]}`)")
