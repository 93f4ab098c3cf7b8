"""The live part of a run page: re-rendered alone by a timed fragment while the run is active."""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from pages import services
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.viz import Panel, metric_panels, snapshot_panels

STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
                "done": ":material/check_circle:", "failed": ":material/error:",
                "cancelled": ":material/stop_circle:", "interrupted": ":material/warning:"}


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _metrics(store: RunStore, run: RunRecord) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All metric rows so far, reading only rows newer than those this session already holds."""
    key = f"live.metrics.{run.id}"
    cached = st.session_state.get(key)
    if cached is None or run.step < cached["after"]:  # first read, or a resumed run rewrote steps
        cached = {"series": {}, "after": -1}
    for name, (steps, values) in store.read_metrics(run.id, after_step=cached["after"]).items():
        old_steps, old_values = cached["series"].get(name, (np.empty(0, np.int64), np.empty(0)))
        cached["series"][name] = (np.concatenate([old_steps, steps]), np.concatenate([old_values, values]))
        cached["after"] = max(cached["after"], int(steps[-1]))
    st.session_state[key] = cached
    return cached["series"]


def _snapshot_panels(store: RunStore, run: RunRecord) -> list[Panel]:
    """Figures of the latest snapshot, rebuilt only when a newer snapshot exists."""
    key = f"live.snapshot.{run.id}"
    steps = store.snapshot_steps(run.id)
    if not steps:
        return []
    cached = st.session_state.get(key)
    if cached is None or cached[0] != steps[-1]:
        step, arrays = store.load_snapshot(run.id, steps[-1])
        cached = (step, snapshot_panels(run.algorithm, arrays, step))
        st.session_state[key] = cached
    return cached[1]


def _progress(run: RunRecord) -> None:
    fraction = min(1.0, run.step / run.steps) if run.steps else 0.0
    parts = [f"step {run.step:,} / {run.steps:,}"]
    if run.status == "done" and run.step < run.steps:
        fraction = 1.0
        parts = [f"converged at step {run.step:,} (of at most {run.steps:,})"]
    if run.steps_per_second:
        parts.append(f"{run.steps_per_second:,.1f} steps/s")
    if run.status == "running":
        parts.append(f"ETA {format_seconds(run.eta_seconds)}")
    parts.append(f"elapsed {format_seconds(run.duration)}")
    st.progress(fraction, text="  ·  ".join(parts))


def _last_values(metrics: dict) -> None:
    names = sorted(metrics)[:6]
    if not names:
        return
    for column, name in zip(st.columns(len(names)), names):
        column.metric(name, f"{metrics[name][1][-1]:.4g}")


def _refresh_interval(run: RunRecord) -> float | None:
    if not run.is_active:
        return None
    young = time.time() - run.created_at < services.FAST_REFRESH_WINDOW_SECONDS
    return min(services.FAST_REFRESH_SECONDS, services.REFRESH_SECONDS) if young else services.REFRESH_SECONDS


def render_panels(panels, key_prefix: str) -> None:
    """Figures two to a row, each with its caption below it."""
    for start in range(0, len(panels), 2):
        for column, panel in zip(st.columns(2), panels[start:start + 2]):
            with column:
                st.plotly_chart(panel.figure, key=f"{key_prefix}.{panel.key}", config={"displaylogo": False})
                if panel.caption:
                    st.caption(panel.caption)


def _render(run_id: str, interval: float | None, key_prefix: str) -> None:
    store = services.store()
    run = store.get_run(run_id)
    device = f" on {run.device_label}" if run.device_label else ""
    st.markdown(f"{STATUS_ICONS.get(run.status, '')} Status: **{run.status}**{device}")
    if run.error:
        (st.warning if run.status in ("cancelled", "interrupted") else st.error)(run.error)
    _progress(run)
    metrics = _metrics(store, run)
    _last_values(metrics)
    panels = metric_panels(run.algorithm, metrics) + _snapshot_panels(store, run)
    if not panels:
        st.caption("Waiting for the first step...")
    render_panels(panels, key_prefix)
    if interval != _refresh_interval(run):
        st.rerun()  # restart the timer at the new pace, or drop it once the run has ended


def render_live_run(run: RunRecord, key_prefix: str = "panel") -> None:
    """Draw the run; while it is active, refresh on a timer without rerunning the whole page.

    ``key_prefix`` keeps chart keys apart when a page shows more than one run.
    """
    interval = _refresh_interval(run)
    st.fragment(run_every=interval)(_render)(run.id, interval, key_prefix)
