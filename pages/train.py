"""Train: pick a dataset and an algorithm that fits it, set its parameters, start a run."""

import streamlit as st

from pages import access, services
from pages.forms import config_form, options_form
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.algorithms.catalogue import families, menu_label
from unsup_core.datasets import get_entry, list_datasets, load_dataset
from unsup_core.datasets.idx import IDX_SETS, missing_files_message
from unsup_core.device import DEVICE_CHOICES
from unsup_core.errors import UserError
from unsup_core.runs.spec import MAX_STEPS, SEED, make_spec
from unsup_core.viz.datasets import dataset_preview

services.require_app()

ERROR_KEY = "train.error"

st.title("Train")
entries = {entry.name: entry for entry in list_datasets()}


def _dataset_label(name: str) -> str:
    entry = entries[name]
    return f"{name}  ({entry.kind}, {entry.n_samples:,} x {entry.n_features})"


def _start_run(algorithm: str, dataset: str, config_names: list[str], option_names: list[str]) -> None:
    """Form callback: submit before the rerun, so the rerun opens the run page at once."""
    state = st.session_state
    try:
        spec = make_spec(
            algorithm, dataset, {name: state[f"config.{algorithm}.{name}"] for name in config_names},
            steps=int(state[f"steps.{algorithm}"]), seed=int(state["train.seed"]), device=state["train.device"],
            dataset_options={name: state[f"dataset.{dataset}.{name}"] for name in option_names})
        services.open_run_on_next_rerun(access.start_run(spec))
    except UserError as error:
        state[ERROR_KEY] = str(error)


data_column, model_column = st.columns([2, 3], gap="large")

with data_column:
    dataset_name = st.selectbox("Dataset", list(entries), format_func=_dataset_label, key="train.dataset")
    entry = get_entry(dataset_name)
    st.caption(entry.description)
    dataset_options = {}
    if option_fields := entry.fields(shared=access.settings().shared):
        with st.expander("Dataset options"):
            dataset_options = options_form(option_fields, f"dataset.{dataset_name}", n_columns=2)
    missing = missing_files_message(dataset_name) if dataset_name in IDX_SETS else None
    if missing and not dataset_options.get("path"):
        st.info(missing)
    else:
        try:
            preview = dataset_preview(load_dataset(dataset_name, **dataset_options))
            st.plotly_chart(preview, key="train.preview")
        except UserError as error:
            st.warning(f"Cannot preview this dataset: {error}")

with model_column:
    algorithms = {cls.name: cls for group in families(list_algorithms(kind=entry.kind)).values() for cls in group}
    names = list(algorithms)
    algorithm_name = st.selectbox("Algorithm", names, index=names.index("kmeans") if "kmeans" in names else 0,
                                  format_func=lambda name: menu_label(algorithms[name]),
                                  key=f"train.algorithm.{entry.kind}")
    algorithm_cls = get_algorithm(algorithm_name)
    st.caption(algorithm_cls.summary)
    with st.form(f"train.form.{algorithm_name}", border=True):
        config_values = config_form(algorithm_cls.Config, f"config.{algorithm_name}")
        steps_column, seed_column, device_column = st.columns(3)
        steps_column.number_input(
            "steps", 1, MAX_STEPS, algorithm_cls.default_steps, key=f"steps.{algorithm_name}",
            help="Training steps (iterations for k-means, which stops early once converged).")
        seed_column.number_input("seed", SEED.low, SEED.high, SEED.default, key="train.seed", help=SEED.help)
        device_column.selectbox("device", DEVICE_CHOICES, key="train.device",
                                help=f"auto picks CUDA when present; here: {services.device_label()}")
        st.form_submit_button("Train", type="primary", on_click=_start_run,
                              args=(algorithm_name, dataset_name, list(config_values), list(dataset_options)))
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error)
