"""Run-page sections for generative models: scrub through training time, watch PixelCNN draw."""

from __future__ import annotations

import streamlit as st

from pages import services
from pages.live import render_panels
from pages.run_extras import register_extras
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.viz import Panel, snapshot_panels
from unsup_core.viz.autoregressive_views import sampling_animation

TIMELINE_PANELS = ("samples", "gan-lab", "traversal")


@register_extras("gan", "dcgan", "wgan_gp", "vae", "pixelcnn")
def training_timeline(run: RunRecord, store: RunStore) -> None:
    st.subheader("Training timeline")
    st.caption("Every snapshot is kept: move the slider to see the model at any point of its training "
               "(the samples come from the same fixed noise each time).")
    # While the run trains, this section follows the newest snapshot until the slider is moved.
    interval = 2 * services.REFRESH_SECONDS if run.is_active else None
    st.fragment(run_every=interval)(_timeline)(run.id, run.algorithm)


def _follow_key(run_id: str) -> str:
    return f"timeline.{run_id}.follow"


def _stop_following(run_id: str) -> None:
    st.session_state[_follow_key(run_id)] = False


def _timeline_panels(run_id: str, algorithm: str, step: int) -> list[Panel]:
    """Figures of one snapshot, built once per step shown (the timer reruns this section)."""
    cache_key = f"timeline.{run_id}.panels"
    cached = st.session_state.get(cache_key)
    if cached is not None and cached[0] == step:
        return cached[1]
    loaded = services.store().load_snapshot(run_id, step)
    if loaded is None:  # the run was deleted meanwhile
        return []
    step, arrays = loaded
    panels = [panel for panel in snapshot_panels(algorithm, arrays, step) if panel.key in TIMELINE_PANELS]
    if algorithm == "pixelcnn":
        title = f"Sampling pixel by pixel at step {step} (press Play)"
        panels.append(Panel("sampling-animation", title,
                            sampling_animation(arrays["samples"], arrays["sample_probabilities"], title),
                            "Grey: pixels drawn so far; red: the pixel being drawn, brighter when the model "
                            "gave it a higher probability of being on; blue: not drawn yet."))
    for panel in panels:
        panel.figure.update_layout(title_text=f"Timeline: {panel.title}")
    st.session_state[cache_key] = (step, panels)
    return panels


def _timeline(run_id: str, algorithm: str) -> None:
    steps = services.store().snapshot_steps(run_id)
    if not steps:
        st.caption("No snapshot yet.")
        return
    slider_key = f"timeline.{run_id}"
    following = st.session_state.get(_follow_key(run_id), True)
    if following or st.session_state.get(slider_key) not in steps:
        st.session_state[slider_key] = steps[-1]
    if len(steps) > 1:
        step = st.select_slider("Snapshot at step", options=steps, key=slider_key, on_change=_stop_following,
                                args=(run_id,))
    else:
        step = steps[0]
    if not following and step != steps[-1] and st.button("Show the latest snapshot", key=f"{slider_key}.latest"):
        st.session_state[_follow_key(run_id)] = True
        st.rerun(scope="fragment")
    panels = _timeline_panels(run_id, algorithm, step)
    render_panels(panels, "timeline")
