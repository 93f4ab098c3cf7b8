"""Per-server singletons shared by every page and browser session."""

from __future__ import annotations

import os

import streamlit as st

from unsup_core.paths import data_home
from unsup_core.runs.executor import LocalExecutor
from unsup_core.runs.store import RunStore

WARM_WORKERS = int(os.environ.get("UNSUP_LAB_WARM_WORKERS", "1"))
# How often a live view polls the store: fast while a run is young, so "Train -> first point" stays
# under a second, then at a steady pace that a classroom of sessions can afford.
FAST_REFRESH_SECONDS = 0.5
FAST_REFRESH_WINDOW_SECONDS = 15.0
REFRESH_SECONDS = float(os.environ.get("UNSUP_LAB_REFRESH_SECONDS", "1.0"))

RUN_PAGE = "pages/run.py"
TRAIN_PAGE = "pages/train.py"
RUNS_PAGE = "pages/runs.py"
DATA_PAGE = "pages/your_data.py"


@st.cache_resource(show_spinner=False)
def _services(home: str) -> tuple[RunStore, LocalExecutor]:
    # Held by the server process, not a session: workers survive reloads and extra tabs, and a
    # run left 'running' by a server that died is marked interrupted here, at the next start.
    store = RunStore(home)
    store.reconcile()
    return store, LocalExecutor(store, warm_workers=WARM_WORKERS)


def store() -> RunStore:
    return _services(str(data_home()))[0]


def executor() -> LocalExecutor:
    return _services(str(data_home()))[1]


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    from unsup_core.device import describe_device, resolve_device

    return describe_device(resolve_device("auto"))
