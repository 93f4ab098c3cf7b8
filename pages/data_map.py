"""Your data, the map tab: where a map is computed (here or by a run), the clusters on it, and the rows
of a clicked point's cluster (or of a box or lasso selection) to read and download."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages import access
from pages.data_cluster import HELPER_PURPOSE, run_arrays, submit_run
from pages.data_input import options_key
from pages.live import render_live_run
from unsup_core.algorithms import get_algorithm
from unsup_core.analysis.export import SELECTION_DOWNLOAD_MAX_ROWS, download_label, rows_of_samples, table_bytes
from unsup_core.analysis.page_maps import (InPageMapBusy, PageMap, compute_map, data_maps_in_page,
                                         map_arrays_problem, umap_warm_up_state)
from unsup_core.analysis.reuse import find_run
from unsup_core.config import to_dict
from unsup_core.datasets import Dataset
from unsup_core.runs.store import RunRecord
from unsup_core.settings import MapSettings
from unsup_core.text import counted
from unsup_core.viz.clusters import cluster_map, cluster_name, selected_positions
from unsup_core.viz.images import image_grid

MAP_METHODS = {"pca": "PCA (instant, linear)", "tsne": "t-SNE (non-linear)", "umap": "UMAP (non-linear)"}
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
MAX_HOVER_COLUMNS = 8
MAX_LISTED_ROWS = 1_000  # rows of a selection shown on the page; the download has all of them
MAX_LISTED_IMAGES = 32


def _hover_table(table: pd.DataFrame, options: dict) -> pd.DataFrame:
    """What hovering a point shows: the label, the features, then any other columns (e.g. a name)."""
    ordered = [c for c in [options["label"], *options["features"]] if c] + \
        [c for c in table.columns if c not in options["features"] and c != options["label"]]
    return table[ordered[:MAX_HOVER_COLUMNS]]


def map_config(method: str, dimensions: int) -> dict:
    return to_dict(get_algorithm("embedding").build_config({"method": method, "n_components": dimensions}))


@st.cache_resource(show_spinner=False, max_entries=16)
def _page_map(data_key: str, config_key: str, _data: Dataset) -> PageMap:
    """A map of small data computed in this process, once per prepared data and map (shared by sessions)."""
    return compute_map(_data, json.loads(config_key))


def _small_data_map(options: dict, data: Dataset, method: str, config: dict,
                    runs: list[RunRecord]) -> dict[str, np.ndarray] | None:
    # Said while the map is computed, not after: a caption stayed under a map that had taken 0.1 s.
    compiling = (" UMAP is compiling its code, once for this server; this first map waits for it."
                 if method == "umap" and umap_warm_up_state() == "warming" else "")
    with st.spinner(f"Computing the {METHOD_NAMES[method]} map...{compiling}"):
        try:
            computed = _page_map(options_key(options), json.dumps(config, sort_keys=True), data)
        except InPageMapBusy as busy:  # one t-SNE/UMAP fit at a time per server: offer the background run
            st.info(str(busy))
            return _background_map(options, data, method, config, runs)
        except Exception as error:  # e.g. too few rows for t-SNE or UMAP: one sentence, and the page goes on
            logging.getLogger(__name__).exception("in-page %s map failed", method)
            st.error(f"The {METHOD_NAMES[method]} map could not be computed ({type(error).__name__}: {error}).")
            return None
    st.caption(f"Computed here in {computed.seconds:.1f} s, without a run: {data.n_samples:,} rows is under the "
               f"{MapSettings.from_env().in_page_max_rows:,} rows (and {data.X.size:,} values under the "
               f"{MapSettings.from_env().in_page_max_cells:,}) mapped in the page.")
    return computed.arrays


def _background_map(options: dict, data: Dataset, method: str, config: dict,
                    runs: list[RunRecord]) -> dict[str, np.ndarray] | None:
    embedding = find_run(runs, "embedding", "file", options, config)
    if embedding is None:
        # PCA takes seconds even on large data: start it at once. t-SNE and UMAP take minutes: on a click.
        if method != "pca" and not st.button(f"Compute the {METHOD_NAMES[method]} map", key="data.map.start"):
            st.caption(f"{data.n_samples:,} rows: the map is computed by a background run, once for this prepared "
                       "data, and reused by every clustering of it.")
            return None
        embedding = submit_run("embedding", config, options, purpose=HELPER_PURPOSE)
        if embedding is None:
            return None
    if embedding.is_active:
        st.caption(f"Computing the {METHOD_NAMES[method]} map in a background run ({data.n_samples:,} rows)...")
        render_live_run(embedding, key_prefix="embedding")
        return None
    arrays = run_arrays(embedding.id)
    if embedding.status != "done" or "row_subset" not in arrays:
        st.error(f"The map could not be computed: {embedding.error or embedding.status}")
        return None
    st.caption(f"Computed by the background run {embedding.id} ({data.n_samples:,} rows).")
    return arrays


def map_arrays(options: dict, data: Dataset, runs: list[RunRecord], method: str = "pca",
               dimensions: int = 2) -> dict[str, np.ndarray] | None:
    """The finished map's arrays without starting anything (for the export), or None."""
    config = map_config(method, dimensions)
    if data_maps_in_page(data):
        return _page_map(options_key(options), json.dumps(config, sort_keys=True), data).arrays
    embedding = find_run(runs, "embedding", "file", options, config)
    return run_arrays(embedding.id) if embedding is not None and embedding.status == "done" else None


def map_tab(options: dict, data: Dataset, run: RunRecord, labels: np.ndarray, table: pd.DataFrame,
            runs: list[RunRecord]) -> list[go.Figure]:
    left, right = st.columns([3, 1])
    method = left.segmented_control("Map", list(MAP_METHODS), default="pca", format_func=MAP_METHODS.get,
                                    key="data.map.method") or "pca"
    dimensions = right.segmented_control("Dimensions", [2, 3], default=2, format_func=lambda d: f"{d}-D",
                                         key="data.map.dimensions") or 2
    config = map_config(method, dimensions)
    if data_maps_in_page(data):
        arrays = _small_data_map(options, data, method, config, runs)
    else:
        arrays = _background_map(options, data, method, config, runs)
    if arrays is None:
        return []
    names = [f"row_{method}_{axis}" for axis in range(1, dimensions + 1)]
    if problem := map_arrays_problem(arrays, names, data.n_samples, len(labels)):
        st.error(f"This map cannot be drawn: {problem}.")
        return []
    subset = arrays["row_subset"]
    coordinates = np.stack([arrays[name] for name in names], axis=1)
    rows = data.source_rows[subset]
    title = f"Clusters on the {METHOD_NAMES[method]} map ({len(subset):,} rows)"
    figure = cluster_map(coordinates, labels[subset], title, hover=_hover_table(table, options).iloc[rows],
                         rows=rows, axis_names=tuple(f"{method} {axis}" for axis in range(1, dimensions + 1)))
    images = data.kind == "images"
    chart, beside = st.columns([3, 1]) if images else (st.container(), None)
    with chart:
        if dimensions == 2:
            event = st.plotly_chart(figure, key=f"data.map.{method}", on_select="rerun",
                                    selection_mode=("points", "box", "lasso"))
            selected = subset[selected_positions(labels[subset], event.selection.points)]
        else:  # plotly selects on 2-D maps only
            st.plotly_chart(figure, key=f"data.map.{method}.3d")
            selected = np.array([], dtype=np.int64)
    # A plotly hover box holds text only: an image zip's point shows its file there, and its picture on a click.
    hint = "its file; click it to see its image beside the map" if images else "its row"
    st.caption(f"Hover a point to see {hint}. Click a point to list the rows of its cluster, or drag a box or "
               "lasso (toolbar) to list those rows. Click a cluster in the legend to hide it." +
               (" t-SNE and UMAP keep neighbours together, but gaps and sizes on the map are not to scale."
                if method != "pca" else ""))
    if images and len(selected):
        with beside:  # a plotly hover box cannot hold a picture: the selected point's image sits beside the map
            st.plotly_chart(image_grid(data.X[selected[:1]].reshape((1, *data.image_shape)),
                                       f"Row {int(data.source_rows[selected[0]]) + 1}", n_cols=1, height=240),
                            key="data.map.image")
    _selected_rows(options, data, run, labels, selected, table)
    return [figure]


def _selected_rows(options: dict, data: Dataset, run: RunRecord, labels: np.ndarray, selected: np.ndarray,
                   table: pd.DataFrame) -> None:
    """The original rows of the clicked point's cluster (or of a box/lasso selection), to read and download."""
    if not access.can_see(run):  # rows are the file's content: only for those who may see the clustering
        return
    if len(selected) == 1:
        cluster = int(labels[selected[0]])
        samples, what = np.flatnonzero(labels == cluster), cluster_name(cluster)
    elif len(selected) > 1:
        samples, what = selected, "the selection"
    else:
        clusters = sorted(set(labels.tolist()))
        cluster = st.selectbox("List the rows of", [None, *clusters], key="data.map.list",
                               format_func=lambda c: "choose a cluster (or click a point)" if c is None
                               else cluster_name(int(c)))
        if cluster is None:
            return
        samples, what = np.flatnonzero(labels == cluster), cluster_name(int(cluster))
    if data.kind == "images":
        shown = samples[:MAX_LISTED_IMAGES]
        st.plotly_chart(image_grid(data.X[shown].reshape((-1, *data.image_shape)),
                                   f"{len(shown)} of the {len(samples):,} images of {what}", n_cols=8),
                        key="data.map.images")
    st.markdown(f"**{counted(len(samples), 'row')} of {what}**" + (f" (the first {MAX_LISTED_ROWS:,} listed)"
                                                           if len(samples) > MAX_LISTED_ROWS else ""))
    # Only the listed rows become a table here: a cluster may hold a million, rebuilt on every rerun.
    st.dataframe(rows_of_samples(table, data.source_rows, samples[:MAX_LISTED_ROWS], labels), hide_index=True,
                 key="data.map.rows")
    name = what.replace(" ", "-")
    downloaded = samples[:SELECTION_DOWNLOAD_MAX_ROWS]
    st.download_button(download_label(len(samples)),
                       lambda: table_bytes(rows_of_samples(table, data.source_rows, downloaded, labels), "csv"),
                       file_name=f"{Path(options['path']).stem}-{run.id}-{name}.csv", mime="text/csv",
                       key="data.map.download", on_click="ignore")
