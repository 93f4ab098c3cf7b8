"""Train: pick a dataset (a built-in or one of your files) and an algorithm that fits it, set its parameters,
start a run.

For a built-in dataset the whole form is in the page's address (``unsup_core.form_links``): a link opens
exactly that setup, hiding or fixing the controls it names, and the address follows the form (see
pages/train_links.py). A user's file never goes in a link.
"""

import streamlit as st

from pages import access, own_data, services
from pages.forms import config_form, options_form
from pages.train_links import WRITTEN_KEY, control_values, link_box, link_notes, locks, opened_link
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.algorithms.catalogue import families, menu_label
from unsup_core.config import describe
from unsup_core.datasets import get_entry, list_datasets, load_dataset
from unsup_core.datasets.idx import IDX_SETS, missing_files_message
from unsup_core.device import DEVICE_CHOICES
from unsup_core.errors import UserError
from unsup_core.form_links import DATA_PREFIX, RUN_KEYS, FormLink
from unsup_core.runs.spec import MAX_STEPS, SEED
from unsup_core.viz.datasets import dataset_preview

services.require_app()

ERROR_KEY = "train.error"

st.title("Train")
entries = {entry.name: entry for entry in list_datasets()}
uploads = own_data.visible_uploads()
link = opened_link()
link_notes(link)


def _dataset_label(name: str) -> str:
    if name in uploads:
        return own_data.upload_label(uploads[name])
    entry = entries[name]
    return f"{name}  ({entry.kind}, {entry.n_samples:,} x {entry.n_features})"


def _start_run(current: FormLink, widget_keys: dict[str, str]) -> None:
    """Form callback: submit before the rerun, so the rerun opens the run page at once.

    ``current`` is the form as drawn; every control that has a widget is read from its submitted value.
    """
    state = st.session_state
    values = {**control_values(current), **{name: state[key] for name, key in widget_keys.items() if key in state}}
    try:
        spec = FormLink(current.dataset, current.algorithm, {name: values[name] for name in current.config},
                        {name: values[DATA_PREFIX + name] for name in current.dataset_options},
                        steps=int(values["steps"]), seed=int(values["seed"]), device=values["device"]).spec()
        services.open_run_on_next_rerun(access.start_run(spec))
    except UserError as error:
        state[ERROR_KEY] = str(error)


def _pick(label: str, control: str, choices: list[str], default: str, **widget) -> str:
    """A selectbox for a run control: left out when the link hides it, disabled when it fixes it."""
    if control in run_locks["hidden"]:
        return default
    return st.selectbox(label, choices, index=choices.index(default), disabled=control in run_locks["fixed"],
                        **widget)


def _number(column, control: str, low: int, high: int, default: int, **widget) -> int:
    if control in run_locks["hidden"]:
        return default
    return int(column.number_input(control, low, high, default, disabled=control in run_locks["fixed"], **widget))


run_locks = locks(link, list(RUN_KEYS), "")


data_column, model_column = st.columns([2, 3], gap="large")

with data_column:
    dataset_names = [*entries, *uploads]
    dataset_name = _pick("Dataset", "dataset", dataset_names, link.dataset if link else dataset_names[0],
                         format_func=_dataset_label, key="train.dataset")
    upload = uploads.get(dataset_name)
    entry = get_entry("file" if upload else dataset_name)
    kind = entry.kind
    option_fields = [] if upload else entry.fields(shared=access.settings().shared)
    option_locks = locks(link, [DATA_PREFIX + spec.name for spec in option_fields], dataset_name)
    dataset_options = {}
    if upload:
        st.caption("Your file, prepared as below; the run records this preparation.")
        prepared = own_data.file_dataset(upload, "train.file")
        if prepared is None:
            st.stop()
        dataset_options, kind = prepared
    else:
        st.caption(entry.description)
        if option_fields:
            with st.expander("Dataset options"):
                dataset_options = options_form(
                    option_fields, f"dataset.{dataset_name}", n_columns=2,
                    defaults=link.dataset_options if link and link.dataset == dataset_name else None,
                    **{lock: [name[len(DATA_PREFIX):] for name in names] for lock, names in option_locks.items()})
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
    algorithms = {cls.name: cls for group in families(list_algorithms(kind=kind)).values() for cls in group}
    names = list(algorithms)
    default_name = link.algorithm if link and link.algorithm in names else "kmeans" if "kmeans" in names else names[0]
    algorithm_name = _pick("Algorithm", "algorithm", names, default_name,
                           format_func=lambda name: menu_label(algorithms[name]), key=f"train.algorithm.{kind}")
    algorithm_cls = get_algorithm(algorithm_name)
    same_setup = link is not None and (link.dataset, link.algorithm) == (dataset_name, algorithm_name)
    st.caption(algorithm_cls.summary)
    if upload and algorithm_name == "pixelcnn" and dataset_options.get("colour") != "grey":
        st.warning("PixelCNN models grey images: choose the colour grey in the preparation (auto keeps colour "
                   "when any image has it).")
    config_locks = locks(link, [spec.name for spec in describe(algorithm_cls.Config)], dataset_name, algorithm_name)
    with st.form(f"train.form.{algorithm_name}", border=True):
        config_values = config_form(algorithm_cls.Config, f"config.{algorithm_name}",
                                    defaults=link.config if same_setup else None, **config_locks)
        steps_column, seed_column, device_column = st.columns(3)
        steps = _number(steps_column, "steps", 1, MAX_STEPS,
                        link.steps if same_setup and link.steps else algorithm_cls.default_steps,
                        key=f"steps.{algorithm_name}",
                        help="Training steps (iterations for k-means, which stops early once converged).")
        seed = _number(seed_column, "seed", SEED.low, SEED.high, link.seed if link else SEED.default,
                       key="train.seed", help=SEED.help)
        with device_column:
            device = _pick("device", "device", list(DEVICE_CHOICES), link.device if link else "auto",
                           key="train.device", help=f"auto picks CUDA when present; here: {services.device_label()}")
        current = FormLink(entry.name, algorithm_name, config_values, dataset_options, steps, seed, device)
        widget_keys = {**{name: f"config.{algorithm_name}.{name}" for name in config_values},
                       **{DATA_PREFIX + spec.name: f"dataset.{dataset_name}.{spec.name}" for spec in option_fields},
                       "steps": f"steps.{algorithm_name}", "seed": "train.seed", "device": "train.device"}
        hidden = [*run_locks["hidden"], *option_locks["hidden"], *config_locks["hidden"]]
        widget_keys = {name: key for name, key in widget_keys.items() if name not in hidden}
        train_column, link_column = st.columns([1, 3], vertical_alignment="center")
        train_column.form_submit_button("Train", type="primary", on_click=_start_run, args=(current, widget_keys))
        if not upload:
            link_column.form_submit_button("Update link", help="Put these values in the page's address and in the "
                                                               "copied link, without training.")
    if error := st.session_state.pop(ERROR_KEY, None):
        st.error(error)
    if upload:
        # Links carry built-in datasets only: a file stays with those who may see it.
        if st.query_params.to_dict():
            st.query_params.clear()
        st.session_state[WRITTEN_KEY] = {}
        st.caption("A link to this form is offered for built-in datasets only: your file stays yours.")
    else:
        link_box(current, hidden, [*run_locks["fixed"], *option_locks["fixed"], *config_locks["fixed"]])
