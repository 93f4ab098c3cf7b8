"""Runs: every run with its status and last metrics; open any of them."""

import time

import pandas as pd
import streamlit as st

from pages import services
from pages.live import format_seconds
from unsup_core.datasets import dataset_label

store = services.store()
st.title("Runs")
store.reconcile()
runs = store.list_runs()
if not runs:
    st.info("No runs yet: start one on the Train page.")
    st.page_link(services.TRAIN_PAGE, label="Go to Train")
    st.stop()


def _metrics_text(run_id: str) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in sorted(store.last_metrics(run_id).items()))


table = pd.DataFrame({
    "id": [run.id for run in runs],
    "status": [run.status for run in runs],
    "algorithm": [run.algorithm for run in runs],
    "dataset": [dataset_label(run.dataset, run.spec.dataset_options) for run in runs],
    "started": [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at)) if run.started_at else "-"
                for run in runs],
    "duration": [format_seconds(run.duration) for run in runs],
    "progress": [f"{run.step}/{run.steps}" for run in runs],
    "last metrics": [_metrics_text(run.id) for run in runs],
})
selection = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="runs.table")
rows = selection.selection.rows
if rows:
    chosen = runs[rows[0]]
    if st.button(f"Open {chosen.id}", type="primary"):
        st.switch_page(services.RUN_PAGE, query_params={"run": chosen.id})
else:
    st.caption("Select a row to open that run.")
