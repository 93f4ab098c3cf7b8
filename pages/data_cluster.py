"""Your data, middle: choose k for me (a sweep run), then cluster (a run) with the chosen algorithm."""

from __future__ import annotations

import streamlit as st

from pages import access, services
from pages.forms import field_widget
from pages.live import render_live_run
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.analysis.reuse import find_run
from unsup_core.config import describe, to_dict
from unsup_core.datasets import Dataset
from unsup_core.errors import UserError
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunNotFound, RunRecord

CLUSTER_RUN_KEY = "data.cluster_run"
CHOICE_KEY = "data.cluster_choice"  # (algorithm, k, version) to pre-fill the cluster form
K_FIELDS = ("n_clusters", "n_components")
SWEEP_K_MAX = 10


def submit_run(algorithm: str, config: dict, options: dict, steps: int | None = None) -> RunRecord | None:
    try:
        spec = make_spec(algorithm, "file", config, dataset_options=options, steps=steps)
        run_id = access.start_run(spec)
    except UserError as error:
        st.error(str(error))
        return None
    return services.store().get_run(run_id)


def _use_recommendation(algorithm: str, k: int) -> None:
    version = st.session_state.get(CHOICE_KEY, ("", 0, 0))[2] + 1
    st.session_state[CHOICE_KEY] = (algorithm, k, version)


def choose_k_section(options: dict, data: Dataset, runs: list[RunRecord]) -> None:
    """Start a sweep over k, watch it, and offer its recommendation for the cluster form."""
    k_max = min(SWEEP_K_MAX, data.n_samples - 1)
    config = to_dict(get_algorithm("choose_k").build_config({"k_max": max(2, k_max)}))
    sweep = find_run(runs, "choose_k", "file", options, config)
    if sweep is None:
        st.caption(f"Fits k-means and a Gaussian mixture for k = 2 to {k_max} and scores each (elbow, "
                   "silhouette, Davies-Bouldin, Calinski-Harabasz, BIC).")
        if st.button("Choose k for me", key="data.sweep", disabled=data.n_samples < 3):
            sweep = submit_run("choose_k", config, options, steps=max(1, k_max - 1))
        if sweep is None:
            return
    if sweep.is_active:
        render_live_run(sweep, key_prefix="sweep")
        return
    latest = services.store().load_snapshot(sweep.id)
    if sweep.status != "done" or latest is None or "recommended_k" not in latest[1]:
        st.error(f"The sweep did not finish: {sweep.error or sweep.status}")
        return
    from unsup_core.viz import snapshot_panels

    snapshot = latest[1]
    panel = snapshot_panels("choose_k", snapshot, latest[0])[0]
    st.plotly_chart(panel.figure, key="data.k-selection")
    algorithm, k = str(snapshot["recommended_algorithm"]), int(snapshot["recommended_k"])
    st.success(f"**Recommended:** {snapshot['reason']}")
    st.button(f"Use k = {k} with {'a Gaussian mixture' if algorithm == 'gmm' else 'k-means'}", type="primary",
              key="data.use-k", on_click=_use_recommendation, args=(algorithm, k))


def cluster_algorithms(kind: str) -> list[str]:
    """Algorithms that give every row a cluster (a SOM joins by setting ``assigns_clusters``)."""
    return [cls.name for cls in list_algorithms(kind=kind) if cls.assigns_clusters]


def cluster_section(options: dict, data: Dataset, runs: list[RunRecord]) -> RunRecord | None:
    """Pick an algorithm and its settings, start the run, and return the clustering to show."""
    names = cluster_algorithms(data.kind)
    chosen, k, version = st.session_state.get(CHOICE_KEY, ("kmeans", None, 0))
    name = st.selectbox("Algorithm", names, index=names.index(chosen) if chosen in names else 0,
                        key=f"data.algorithm.{version}")
    algorithm_cls = get_algorithm(name)
    st.caption(algorithm_cls.summary)
    with st.expander(f"How {name} works and what to look for"):
        st.markdown(algorithm_cls.explanation)
    columns = st.columns(4)
    config = {}
    for index, spec in enumerate(describe(algorithm_cls.Config)):
        default = k if spec.name in K_FIELDS and k is not None else None
        with columns[index % 4]:
            config[spec.name] = field_widget(spec, f"data.config.{name}.{spec.name}.{version}", default)
    too_many = algorithm_cls.max_samples is not None and data.n_samples > algorithm_cls.max_samples
    if too_many:
        st.warning(f"{name} handles at most {algorithm_cls.max_samples:,} rows; this data has {data.n_samples:,}. "
                   "Use a sample (Prepare) or mini-batch k-means.")
    if st.button("Cluster", type="primary", key="data.cluster", disabled=too_many):
        started = submit_run(name, config, options)
        if started is not None:
            st.session_state[CLUSTER_RUN_KEY] = started.id
            st.query_params["cluster"] = started.id
            runs = [started, *runs]
    return current_clustering(options, runs)


def current_clustering(options: dict, runs: list[RunRecord]) -> RunRecord | None:
    """The clustering started here, or else the newest one of this prepared data."""
    store = services.store()
    run_id = st.session_state.get(CLUSTER_RUN_KEY)
    if run_id:
        try:
            run = store.get_run(run_id)
        except RunNotFound:  # deleted meanwhile, e.g. from the Runs page
            st.session_state.pop(CLUSTER_RUN_KEY, None)
        else:
            if run.spec.dataset_options == options:
                return run
    for run in runs:
        if run.spec.dataset == "file" and run.spec.dataset_options == options and \
                get_algorithm(run.algorithm).assigns_clusters:
            return run
    return None


def show_clustering_progress(run: RunRecord) -> bool:
    """Live progress while the run is going; True once it is done and its results can be read."""
    if run.is_active:
        render_live_run(run, key_prefix="cluster")
        return False
    if run.status != "done":
        st.error(f"The {run.algorithm} run {run.status}: {run.error or 'no result'}")
        return False
    return True
