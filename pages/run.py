"""Run: one run, live while it trains: progress, curves and the algorithm's own views."""

import time

import streamlit as st

from pages import access, services, som_tools  # noqa: F401  (registers the som_tools section)
from pages import anomaly_extras  # noqa: F401  (registers the threshold_explorer section)
from pages.live import render_live_run
from pages.run_actions import clone_form, run_controls
from pages.run_sections import render_sections
from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import dataset_label
from unsup_core.runs.store import RunNotFound

services.require_app()

store = services.store()
run_id = st.query_params.get("run")

if not run_id:
    st.title("Run")
    recent = store.list_runs(limit=50, visible_to=access.visible_owner())
    if not recent:
        st.info("No runs yet: start one on the Train page.")
        st.page_link(services.TRAIN_PAGE, label="Go to Train")
        st.stop()
    labels = {r.id: f"{r.id}  {r.algorithm} on {dataset_label(r.dataset, r.spec.dataset_options)} ({r.status})"
              for r in recent}
    choice = st.selectbox("Open a run", list(labels), format_func=labels.get)
    st.query_params["run"] = choice
    st.rerun()

try:
    run = store.get_run(run_id)
except RunNotFound as error:
    st.error(f"{error}. It may have been deleted.")
    st.page_link(services.RUNS_PAGE, label="See all runs")
    st.stop()
if not access.can_see(run):
    st.error("This run belongs to another session on this shared server.")
    st.stop()

st.title(f"{run.algorithm} on {dataset_label(run.dataset, run.spec.dataset_options)}")
origin = f" - cloned from `{run.parent_id}`" if run.parent_id else ""
st.caption(f"Run `{run.id}` - created {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.created_at))}{origin}")
run_controls(run, store)
with st.expander("Configuration"):
    st.json({"config": run.spec.config, "steps": run.spec.steps, "seed": run.spec.seed,
             "device": run.spec.device, "dataset_options": run.spec.dataset_options})
if run.dataset == "file" and get_algorithm(run.algorithm).assigns_clusters:
    st.page_link(services.DATA_PAGE, label="Open this clustering in Your data (profiles, map, export)",
                 query_params={"cluster": run.id}, icon=":material/upload_file:")
explanation = get_algorithm(run.algorithm).explanation
if explanation:
    with st.expander(f"How {run.algorithm} works and what to look for"):
        st.markdown(explanation)
if access.can_change(run):
    clone_form(run)

render_live_run(run)
render_sections(run, store)
