"""Your data, middle: choose for me (a clustering tournament run), then cluster (a run) with the chosen algorithm."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages import access, services
from pages.data_input import remember_preparation
from pages.forms import field_widget
from pages.live import render_live_run
from unsup_core.algorithms import get_algorithm, list_algorithms
from unsup_core.analysis.reuse import find_run
from unsup_core.analysis.tournament import K_MAX
from unsup_core.analysis.tournament_table import tournament_options
from unsup_core.config import describe, to_dict
from unsup_core.datasets import Dataset
from unsup_core.errors import UserError
from unsup_core.runs.spec import HELPER as HELPER_PURPOSE, make_spec
from unsup_core.runs.store import RunNotFound, RunRecord
from unsup_core.snapshots import TournamentSnapshot
from unsup_core.viz import snapshot_panels
from unsup_core.viz.tournament_views import leaderboard_rows, tournament_summary

CLUSTER_RUN_KEY = "data.cluster_run"
CHOICE_KEY = "data.cluster_choice"  # (algorithm, k, version) to pre-fill the cluster form
CANDIDATE_RUN_KEY = "data.candidate_run"
K_FIELDS = ("n_clusters", "n_components")


@st.cache_resource(show_spinner=False, max_entries=8)
def run_arrays(run_id: str) -> dict[str, np.ndarray]:
    """The last snapshot of a finished run (it never changes again)."""
    latest = services.store().load_snapshot(run_id)
    return {} if latest is None else latest[1]


def submit_run(algorithm: str, config: dict, options: dict, steps: int | None = None,
               purpose: str = "") -> RunRecord | None:
    try:
        spec = make_spec(algorithm, "file", config, dataset_options=options, steps=steps, purpose=purpose)
        run_id = access.start_run(spec)
    except UserError as error:
        st.error(str(error))
        return None
    return services.store().get_run(run_id)


def choose_k_section(options: dict, data: Dataset, runs: list[RunRecord]) -> None:
    """The clustering tournament: start it, watch it, show its leaderboard, reason and memberships."""
    if data.kind != "table":
        st.caption("The clustering tournament compares clusterings of table columns; for images, pick an "
                   "algorithm below.")
        return
    tournament_data = tournament_options(options, options.get("features") or [])
    config = to_dict(get_algorithm("tournament").build_config({"k_max": max(2, min(K_MAX, data.n_samples - 1))}))
    run = find_run(runs, "tournament", "file", tournament_data, config)
    if run is None:
        st.caption("Plays k-means, Gaussian mixtures, Ward, spectral clustering and HDBSCAN for every k and several "
                   "preparations (scaling, log of skewed columns, whitening) against each other, scored without "
                   "labels, and recommends one (or says there is no structure).")
        if st.button("Choose for me", key="data.sweep", disabled=data.n_samples < 3):
            run = submit_run("tournament", config, tournament_data, purpose=HELPER_PURPOSE)
        if run is None:
            return
    if run.is_active:
        render_live_run(run, key_prefix="sweep")
        return
    latest = services.store().load_snapshot(run.id)
    summary = tournament_summary(TournamentSnapshot.from_arrays(latest[1])) if latest else None
    if run.status != "done" or summary is None:
        st.error(f"The tournament did not finish: {run.error or run.status}")
        return
    st.success(f"**Recommended:** {summary['recommendation']['reason']}")
    st.dataframe(leaderboard_rows(summary), hide_index=True, key="data.leaderboard")
    panels = snapshot_panels("tournament", latest[1], latest[0])
    if panels:
        st.plotly_chart(panels[0].figure, key="data.memberships")
    _run_candidate(summary, options)


def _run_candidate(summary: dict, options: dict) -> None:
    """One click runs any candidate of the leaderboard on all rows, with its own preparation."""
    rows = summary["leaderboard"]
    titles = [row["title"] for row in rows]
    chosen = st.selectbox("Candidate", titles, key="data.candidate")
    row = rows[titles.index(chosen)]
    if st.button("Run this candidate", type="primary", key="data.run-candidate"):
        started = submit_run(row["algorithm"], row["config"], {**options, **row["dataset_options"]})
        if started is not None:
            st.session_state[CANDIDATE_RUN_KEY] = started.id
            version = st.session_state.get(CHOICE_KEY, ("", 0, 0))[2] + 1
            st.session_state[CHOICE_KEY] = (row["algorithm"], row["k"], version)  # the form below follows
    run_id = st.session_state.get(CANDIDATE_RUN_KEY)
    if run_id:
        render_live_run(services.store().get_run(run_id), key_prefix="candidate")


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
            remember_preparation(options)
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
