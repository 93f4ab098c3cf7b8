"""SOM as clustering on a run's latest map: cluster the prototypes, colour the map, export a CSV.

The run page's ``som_tools`` section (``som`` declares it), reused by the SOM page. Drawn outside
the live fragment, so the widgets keep their state; it uses the newest snapshot when the page last ran.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from pages import access
from pages.run_sections import register_section
from unsup_core.algorithms.som_clustering import CLUSTER_METHODS, assign_to_units, assignment_table, \
    cluster_prototypes
from unsup_core.algorithms.som_grid import MapGrid
from unsup_core.analysis.export import (SELECTION_DOWNLOAD_MAX_ROWS, csv_safe, download_label, sample_rows,
                                        table_bytes)
from unsup_core.datasets import load_dataset
from unsup_core.runs.store import RunRecord, RunStore
from unsup_core.snapshots import SOMSnapshot
from unsup_core.text import counted
from unsup_core.viz.maps import MapLayout, category_map, selected_units, unit_hover

METHOD_LABELS = {"agglomerative": "agglomerative (Ward)", "kmeans": "k-means"}
MAX_LISTED_ROWS = 1_000  # samples of a selection shown on the page; the download has all of them


@st.cache_data(max_entries=64, show_spinner=False)
def _unit_clusters(run_id: str, step: int, weights: np.ndarray, rows: int, cols: int, topology: str,
                   n_clusters: int, method: str, contiguous: bool) -> np.ndarray:
    return cluster_prototypes(weights, n_clusters, method=method, grid=MapGrid(rows, cols, topology),
                              contiguous=contiguous and method == "agglomerative")


def _grid(arrays: dict) -> MapGrid:
    rows, cols = (int(v) for v in arrays["grid_shape"])
    return MapGrid(rows, cols, str(arrays["topology"]))


def export_csv(run: RunRecord, arrays: dict, unit_clusters: np.ndarray) -> str:
    """Every sample of the run's dataset with its best unit, the unit's cell and cluster, and its label."""
    data = load_dataset(run.dataset, **run.spec.dataset_options)
    bmu = assign_to_units(data.X, arrays["weights"], arrays["feature_mean"], arrays["feature_scale"])
    table = assignment_table(bmu, _grid(arrays), unit_clusters, data.y, data.label_names)
    return csv_safe(table).to_csv(index=False)


def cluster_summary(arrays: dict, unit_clusters: np.ndarray) -> pd.DataFrame:
    hits = np.asarray(arrays["hits"])
    rows = []
    names = [str(n) for n in arrays["label_names"]] if "label_names" in arrays else None
    counts = np.asarray(arrays["label_counts"]) if "label_counts" in arrays else None
    for cluster in np.unique(unit_clusters):
        members = unit_clusters == cluster
        row = {"cluster": int(cluster), "units": int(members.sum()), "samples": int(hits[members].sum())}
        if counts is not None and counts[members].sum() > 0:
            per_class = counts[members].sum(axis=0)
            top = int(per_class.argmax())
            row["majority label"] = names[top] if names and top < len(names) else str(top)
            row["purity"] = f"{per_class[top] / per_class.sum():.0%}"
        rows.append(row)
    return pd.DataFrame(rows)


@register_section("som_tools")
def render_som_tools(run: RunRecord, store: RunStore) -> None:
    latest = store.load_snapshot(run.id)
    if latest is None:
        return
    step, arrays = latest
    layout = MapLayout.from_snapshot(SOMSnapshot.from_arrays(arrays))
    if layout.n_units < 2:
        return
    st.subheader("The map as a clustering")
    st.caption(f"Cluster the {layout.n_units} prototypes (step {step:,}); every sample then belongs to its "
               "best unit's cluster. Contiguous clusters may only merge neighbouring units, so each is one "
               "region of the map.")
    controls = st.columns(3)
    method = controls[0].selectbox("method", CLUSTER_METHODS, format_func=METHOD_LABELS.get,
                                   key=f"som.method.{run.id}")
    n_clusters = controls[1].slider("clusters", 2, min(30, layout.n_units),
                                    max(2, min(len(arrays.get("label_names", [])) or 6, layout.n_units)),
                                    key=f"som.k.{run.id}")
    contiguous = controls[2].checkbox("contiguous regions", value=True, disabled=method != "agglomerative",
                                      key=f"som.contiguous.{run.id}")
    unit_clusters = _unit_clusters(run.id, step, np.asarray(arrays["weights"]), layout.rows, layout.cols,
                                   layout.topology, int(n_clusters), method, bool(contiguous))
    hits = np.asarray(arrays["hits"])
    details = [f"cluster {c}, {h} samples" for c, h in zip(unit_clusters, hits)]
    title = f"{n_clusters} clusters of the prototypes ({METHOD_LABELS[method]}) at step {step:,}"
    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(category_map(layout, unit_clusters, title, hover=unit_hover(layout, details)),
                                key=f"som.clusters.{run.id}", config={"displaylogo": False}, on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
        st.caption("Click a unit (or drag a box or lasso over several) to list the samples it holds.")
    with right:
        st.dataframe(cluster_summary(arrays, unit_clusters), hide_index=True)
        st.download_button(
            "Download CSV: each sample's unit and cluster", data=lambda: export_csv(run, arrays, unit_clusters),
            file_name=f"{run.id}-som-clusters.csv", mime="text/csv", key=f"som.export.{run.id}",
            help="One row per sample of the dataset: sample index, best unit (neuron, row, col), cluster, "
                 "and the true label when the dataset has one.")
    units = selected_units(event.selection.points, layout.n_units)
    if units and access.can_see(run):  # the rows are the dataset's content: only for who may see the run
        _unit_rows(run, step, arrays, unit_clusters, units)


@st.cache_resource(show_spinner="Finding each sample's unit...", max_entries=4)
def _sample_units(run_id: str, step: int, _run: RunRecord, _arrays: dict) -> np.ndarray:
    """Every sample's best unit on the map at ``step`` (the rows themselves are read only when listed)."""
    data = load_dataset(_run.dataset, **_run.spec.dataset_options)
    return assign_to_units(data.X, _arrays["weights"], _arrays["feature_mean"], _arrays["feature_scale"])


def _unit_rows(run: RunRecord, step: int, arrays: dict, unit_clusters: np.ndarray, units: list[int]) -> None:
    bmu = _sample_units(run.id, step, run, arrays)
    samples = np.flatnonzero(np.isin(bmu, units))
    sample_clusters = np.asarray(unit_clusters)[bmu]

    def rows_of(shown: np.ndarray) -> pd.DataFrame:  # only the rows asked for, never the whole dataset
        rows = sample_rows(run.dataset, run.spec.dataset_options, shown, sample_clusters)
        rows.insert(1, "som_unit" if "unit" in rows.columns else "unit", bmu[shown])  # a file may have "unit"
        return rows

    what = f"unit {units[0]}" if len(units) == 1 else f"{len(units)} units"
    st.markdown(f"**{counted(len(samples), 'sample')} on {what}**" +
                (f" (the first {MAX_LISTED_ROWS:,} listed)" if len(samples) > MAX_LISTED_ROWS else ""))
    st.dataframe(rows_of(samples[:MAX_LISTED_ROWS]), hide_index=True, key=f"som.unit-rows.{run.id}")
    name = f"unit-{units[0]}" if len(units) == 1 else f"{len(units)}-units"
    downloaded = samples[:SELECTION_DOWNLOAD_MAX_ROWS]
    st.download_button(download_label(len(samples)), lambda: table_bytes(rows_of(downloaded), "csv"),
                       file_name=f"{run.id}-som-{name}.csv", mime="text/csv", key=f"som.unit-download.{run.id}",
                       on_click="ignore")
