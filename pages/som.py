"""SOM: train a self-organizing map and read its maps live, or open one to cluster and export it."""

import time

import streamlit as st

from pages import access, own_data, services
from pages.forms import config_form
from pages.live import render_live_run
from pages.run_actions import run_controls
from pages.som_tools import render_som_tools
from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import dataset_label, list_datasets
from unsup_core.device import DEVICE_CHOICES
from unsup_core.errors import UserError
from unsup_core.runs.spec import MAX_STEPS, make_spec

services.require_app()

SOM = get_algorithm("som")
STARTED_KEY = "som.started_run"
ERROR_KEY = "som.error"

if started := st.session_state.pop(STARTED_KEY, None):
    st.query_params["run"] = started

store = services.store()
st.title("Self-organizing map")
st.caption(SOM.summary)
datasets = {entry.name: f"{entry.name}  ({entry.kind})" for entry in list_datasets() if entry.kind in SOM.accepts}
uploads = own_data.visible_uploads()
som_runs = [run for run in store.list_runs(limit=200, visible_to=access.visible_owner()) if run.algorithm == "som"]
run_id = st.query_params.get("run")


def _start(dataset: str, names: list[str], dataset_options: dict) -> None:
    """Form callback: submit the run, then show it on this page."""
    state = st.session_state
    try:
        spec = make_spec("som", dataset, {name: state[f"som.config.{name}"] for name in names},
                         steps=int(state["som.steps"]), seed=int(state["som.seed"]), device=state["som.device"],
                         dataset_options=dataset_options)
        state[STARTED_KEY] = access.start_run(spec)
    except UserError as error:
        state[ERROR_KEY] = str(error)


with st.expander("Train a new map", expanded=not run_id):
    dataset = st.selectbox("Dataset", [*datasets, *uploads], key="som.dataset",
                           format_func=lambda name: own_data.upload_label(uploads[name]) if name in uploads
                           else datasets[name])
    dataset_options, usable = {}, True
    if dataset in uploads:  # every kind of file fits a SOM: tables, and images as their pixels
        prepared = own_data.file_dataset(uploads[dataset], "som.file")
        usable = prepared is not None
        dataset, dataset_options = "file", prepared[0] if usable else {}
    with st.form("som.train", border=False):
        values = config_form(SOM.Config, "som.config", n_columns=4)
        steps_column, seed_column, device_column = st.columns(3)
        steps_column.number_input("steps", 1, MAX_STEPS, SOM.default_steps, key="som.steps",
                                  help="Steps of batch_size samples each; sigma and the learning rate decay "
                                       "over all of them.")
        seed_column.number_input("seed", 0, 2**31 - 1, 0, key="som.seed")
        device_column.selectbox("device", DEVICE_CHOICES, key="som.device",
                                help=f"For the batched backend; here: {services.device_label()}")
        st.form_submit_button("Train", type="primary", on_click=_start, args=(dataset, list(values), dataset_options),
                              disabled=not usable)
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error)

if not som_runs:
    st.info("No maps yet: train one above.")
    st.stop()
ids = [run.id for run in som_runs]
labels = {run.id: f"{run.id}  {dataset_label(run.dataset, run.spec.dataset_options)}, "
                  f"{run.spec.config['rows']}x{run.spec.config['cols']} "
                  f"{run.spec.config['topology']}, {run.spec.config['backend']}" for run in som_runs}
# No status in these labels: they are drawn once per page run and would go stale while a map trains;
# the live view below shows the chosen map's status.
chosen = st.selectbox("Map", ids, index=ids.index(run_id) if run_id in ids else 0, format_func=labels.get,
                      key=f"som.open.{run_id}")
if chosen != run_id:
    st.query_params["run"] = chosen
    st.rerun()
run = store.get_run(chosen)

st.caption(f"Run `{run.id}`: som on {dataset_label(run.dataset, run.spec.dataset_options)}, created "
           f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.created_at))}. "
           "Its Run page also has its configuration and Clone with edits.")
run_controls(run, store)
with st.expander("What the maps show, and how sigma and the learning rate shape them"):
    st.markdown(SOM.explanation)
render_live_run(run)
render_som_tools(run, store)
