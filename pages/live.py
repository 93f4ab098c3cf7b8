"""The live part of a run page: re-rendered alone by a timed fragment while the run is active."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import numpy as np
import streamlit as st

from pages import services
from unsup_core.runs.control import ControlState
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.viz import Panel, metric_panels, snapshot_panels
from unsup_core.viz.curves import mark_changes, mark_step

STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/play_circle:",
                "done": ":material/check_circle:", "failed": ":material/error:",
                "cancelled": ":material/stop_circle:", "interrupted": ":material/warning:"}
PLAY_SECONDS = 0.7  # one snapshot per tick while the timeline plays


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


def _snapshot_panels(store: RunStore, run: RunRecord, step: int) -> list[Panel]:
    """Figures of the snapshot at ``step``, rebuilt only when another step is shown."""
    key = f"live.snapshot.{run.id}"
    cached = st.session_state.get(key)
    if cached is None or cached[0] != step:
        loaded = store.load_snapshot(run.id, step)
        if loaded is None:  # the run was deleted meanwhile
            return []
        cached = (step, snapshot_panels(run.algorithm, loaded[1], step))
        st.session_state[key] = cached
    return cached[1]


def _timeline_key(run_id: str) -> str:
    return f"timeline.{run_id}"


def _playing(run_id: str) -> bool:
    return bool(st.session_state.get(f"{_timeline_key(run_id)}.playing"))


def _toggle_play(run_id: str, steps: list[int]) -> None:
    key = _timeline_key(run_id)
    playing = not _playing(run_id)
    st.session_state[f"{key}.playing"] = playing
    if playing and st.session_state.get(f"{key}.shown") == steps[-1]:
        st.session_state[f"{key}.shown"] = steps[0]  # play from the start when already at the end
        st.session_state[f"{key}.widget"] = None  # the slider still says the end: that is no move of the user's
    st.session_state[f"{key}.hold"] = playing  # the click's own rerun shows where play starts


def _moved_by_user(key: str) -> int | None:
    """Where the user moved the slider drawn on the previous refresh, or None if they did not.

    That slider's key names the step it was drawn at, so a value the browser sends for it can only
    differ from that step by a move of the user's: a rerun that another widget starts (Continue,
    Cancel) may carry the slider's value from before the last refresh, and with one key for every
    refresh that stale value would read as a move back and stop the following.
    """
    widget = st.session_state.get(f"{key}.widget")
    if widget is None or widget not in st.session_state:
        return None
    value = st.session_state[widget]
    return None if value == st.session_state.get(f"{key}.shown") else value


def _timeline_step(run: RunRecord, steps: list[int]) -> int:
    """The snapshot every view shows: the newest (followed live) unless the user moved the slider back;
    moving it to the end follows again."""
    key = _timeline_key(run.id)
    shown = st.session_state.get(f"{key}.shown")
    following = st.session_state.get(f"{key}.following", True)
    if (moved := _moved_by_user(key)) is not None:
        shown, following = moved, moved == steps[-1]
        st.session_state[f"{key}.playing"] = False
    if _playing(run.id) and shown in steps:
        if not st.session_state.pop(f"{key}.hold", False):  # the Play click's own rerun shows the start
            position = steps.index(shown) + 1
            if position >= len(steps) - 1:
                st.session_state[f"{key}.playing"] = False
            shown = steps[min(position, len(steps) - 1)]
        following = shown == steps[-1]
    elif following or shown not in steps:
        shown = steps[-1]
    st.session_state[f"{key}.shown"] = shown
    st.session_state[f"{key}.following"] = following
    if len(steps) < 2:
        return shown
    widget = f"{key}.at.{shown}"
    st.session_state[f"{key}.widget"] = widget
    slider, play = st.columns([6, 1], vertical_alignment="bottom")
    slider.select_slider("Snapshot at step", options=steps, value=shown, key=widget,
                         help="Every view below shows the model at this step; the dotted line marks it on the "
                              "curves. Move it back to look at the past; move it to the end to follow training again.")
    play.button("Pause" if _playing(run.id) else "Play", key=f"{key}.play", on_click=_toggle_play,
                args=(run.id, steps), icon=":material/pause:" if _playing(run.id) else ":material/play_arrow:")
    return shown


def _progress(run: RunRecord, paused: bool) -> None:
    fraction = min(1.0, run.step / run.steps) if run.steps else 0.0
    parts = [f"step {run.step:,} / {run.steps:,}"]
    if run.status == "done" and run.step < run.steps:
        fraction = 1.0
        parts = [f"converged at step {run.step:,} (of at most {run.steps:,})"]
    if run.steps_per_second:
        parts.append(f"{run.steps_per_second:,.1f} steps/s")
    if run.status == "running" and not paused:  # a paused run has no finish time to promise
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
    if _playing(run.id):
        return PLAY_SECONDS
    if not run.is_active:
        return None
    young = time.time() - run.created_at < services.FAST_REFRESH_WINDOW_SECONDS
    if not young:
        return services.REFRESH_SECONDS
    fast = services.FIRST_POINT_REFRESH_SECONDS if run.step == 0 else services.FAST_REFRESH_SECONDS
    return min(fast, services.REFRESH_SECONDS)


def render_panels(panels: Iterable[Panel], key_prefix: str) -> int:
    """Figures two to a row, each with its caption below it; returns how many were drawn.

    Each figure is sent as soon as it is built, so with a generator the curves reach the browser
    before the slower snapshot figures are made.
    """
    drawn = 0
    for drawn, panel in enumerate(panels, start=1):
        if drawn % 2:
            row = st.columns(2)
        with row[(drawn - 1) % 2]:
            st.plotly_chart(panel.figure, key=f"{key_prefix}.{panel.key}", config={"displaylogo": False})
            if panel.caption:
                st.caption(panel.caption)
    return drawn


def _paused_note(control: ControlState | None) -> str:
    """Where a paused run holds (it keeps its device slot), or that it is about to."""
    if control is None or not control.paused:
        return ""
    return " · **paused**" + ("" if control.held_step is None else f" at step {control.held_step:,}")


def shown_step_key(run_id: str) -> str:
    """Session key of the step the live status line shows last (where a paused run holds, else its step)."""
    return f"shown_step.{run_id}"


def _render(run_id: str, interval: float | None, key_prefix: str) -> None:
    store = services.store()
    run = store.get_run(run_id)
    device = f" on {run.device_label}" if run.device_label else ""
    control = store.control_state(run.id) if run.is_active else None
    if control is not None:  # what Step counts from (pages/run_actions.py)
        st.session_state[shown_step_key(run.id)] = run.step if control.held_step is None else control.held_step
    st.markdown(f"{STATUS_ICONS.get(run.status, '')} Status: **{run.status}**{device}{_paused_note(control)}")
    if run.error:
        (st.warning if run.status in ("cancelled", "interrupted") else st.error)(run.error)
    _progress(run, paused=control is not None and control.paused)
    metrics = _metrics(store, run)
    _last_values(metrics)
    steps = store.snapshot_steps(run.id)
    panels = metric_panels(run.algorithm, metrics)
    changes = [(change.step, change.name, change.value) for change in store.applied_changes(run.id)]
    for panel in panels:
        mark_changes(panel.figure, changes)
    step = _timeline_step(run, steps) if steps else None
    if len(steps) > 1:
        for panel in panels:
            mark_step(panel.figure, step)

    def curves_then_snapshot() -> Iterator[Panel]:
        yield from panels
        if step is not None:
            yield from _snapshot_panels(store, run, step)

    if not render_panels(curves_then_snapshot(), key_prefix):
        st.caption("Waiting for the first step...")
    if interval != _refresh_interval(run):
        st.rerun()  # restart the timer at the new pace, or drop it once the run has ended


def render_live_run(run: RunRecord, key_prefix: str = "panel") -> None:
    """Draw the run; while it is active, refresh on a timer without rerunning the whole page.

    ``key_prefix`` keeps chart keys apart when a page shows more than one run.
    """
    interval = _refresh_interval(run)
    st.fragment(run_every=interval)(_render)(run.id, interval, key_prefix)
