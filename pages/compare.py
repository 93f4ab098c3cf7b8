"""Compare: several runs side by side: curves overlaid per metric, final metrics, config differences."""

import streamlit as st

from pages import access, services
from unsup_core.datasets import dataset_label
from unsup_core.viz.compare import config_diff, final_metrics_table, overlaid_curves

services.require_app()

store = services.store()
st.title("Compare runs")

visible = [run for run in store.list_runs(visible_to=access.visible_owner())]
by_id = {run.id: run for run in visible}
# A run on an uploaded file is named by the file, as on Runs ("vae on shapes.zip", not "vae on file").
data_names = {run.id: dataset_label(run.dataset, run.spec.dataset_options) for run in visible}
requested = [rid for rid in st.query_params.get("runs", "").split(",") if rid in by_id]
chosen = st.multiselect("Runs", list(by_id), default=requested,
                        format_func=lambda rid: f"{rid}  {by_id[rid].algorithm} on {data_names[rid]}")
st.query_params["runs"] = ",".join(chosen)
if len(chosen) < 2:
    st.info("Pick two or more runs (or select them on the Runs page and press Compare).")
    st.stop()


def label(run_id: str) -> str:
    run = by_id[run_id]
    return f"{run.algorithm}/{data_names[run_id]} {run_id[-6:]}"


runs = [by_id[rid] for rid in chosen]
configs = {label(run.id): {"algorithm": run.algorithm, "dataset": data_names[run.id], "steps": run.steps,
                           "seed": run.spec.seed, **run.spec.config, **run.spec.dataset_options} for run in runs}
st.subheader("Settings that differ")
difference = config_diff(configs)
if difference.empty:
    st.caption("All settings are the same.")
else:
    st.dataframe(difference.astype(str))

st.subheader("Final metrics")
st.dataframe(final_metrics_table({label(run.id): store.last_metrics(run.id) for run in runs}))

metrics_by_run = {label(run.id): store.read_metrics(run.id) for run in runs}
names = sorted({name for metrics in metrics_by_run.values() for name in metrics})
columns = st.columns(2)
for index, name in enumerate(names):
    series = {run_label: metrics[name] for run_label, metrics in metrics_by_run.items() if name in metrics}
    with columns[index % 2]:
        st.plotly_chart(overlaid_curves(name, series), key=f"compare.{name}")
