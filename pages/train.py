"""Train: pick a dataset and an algorithm that fits it, set its parameters, start a run."""

import streamlit as st

from pages import services
from pages.forms import config_form, options_form
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.datasets import get_entry, list_datasets
from unsup_core.datasets.idx import IDX_SETS, missing_files_message
from unsup_core.device import DEVICE_CHOICES
from unsup_core.errors import UserError
from unsup_core.runs.spec import MAX_STEPS, make_spec

st.title("Train")

entries = {entry.name: entry for entry in list_datasets()}


def _dataset_label(name: str) -> str:
    entry = entries[name]
    size = f"{entry.n_samples:,} x {entry.n_features}" if entry.n_samples else "your files"
    return f"{name}  ({entry.kind}, {size})"


left, right = st.columns(2)
with left:
    dataset_name = st.selectbox("Dataset", list(entries), format_func=_dataset_label, key="train.dataset")
    entry = get_entry(dataset_name)
    st.caption(entry.description)
    if dataset_name in IDX_SETS and (message := missing_files_message(dataset_name)):
        st.info(message)
with right:
    algorithms = {cls.name: cls for cls in list_algorithms(kind=entry.kind)}
    algorithm_name = st.selectbox("Algorithm", list(algorithms), key=f"train.algorithm.{entry.kind}")
    algorithm_cls = get_algorithm(algorithm_name)
    st.caption(f"{algorithm_cls.family} - {algorithm_cls.summary}")

with st.form(f"train.form.{algorithm_name}", border=True):
    st.markdown(f"**{algorithm_name} parameters**")
    config_values = config_form(algorithm_cls.Config, f"config.{algorithm_name}")
    dataset_options = {}
    if entry.options:
        with st.expander("Dataset options"):
            dataset_options = options_form(entry.options, f"dataset.{dataset_name}")
    steps_column, seed_column, device_column = st.columns(3)
    steps = steps_column.number_input("steps", 1, MAX_STEPS, algorithm_cls.default_steps, key=f"steps.{algorithm_name}",
                                      help="Training steps (iterations for k-means; it may stop earlier once converged).")
    seed = seed_column.number_input("seed", 0, 2**31 - 1, 0, help="Same seed, same run.")
    device = device_column.selectbox("device", DEVICE_CHOICES, help=f"auto picks CUDA when present; here: {services.device_label()}")
    submitted = st.form_submit_button("Train", type="primary")

if submitted:
    try:
        spec = make_spec(algorithm_name, dataset_name, config_values, steps=int(steps), seed=int(seed),
                         device=device, dataset_options=dataset_options)
        handle = services.executor().submit(spec, owner="dashboard")
    except UserError as error:
        st.error(str(error))
    else:
        st.switch_page(services.RUN_PAGE, query_params={"run": handle.run_id})
