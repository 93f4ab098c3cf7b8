"""Your data, last: understand a finished clustering (map, profiles, quality, outliers) and export it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.data_cluster import HELPER_PURPOSE, run_arrays, submit_run
from pages.data_map import map_arrays, map_config, map_tab
from pages.live import render_live_run
from unsup_core.algorithms import get_algorithm
from unsup_core.analysis.export import config_json, labelled_rows, row_outputs, table_bytes
from unsup_core.analysis.page_maps import data_maps_in_page
from unsup_core.analysis.profiles import cluster_profiles, describe_cluster
from unsup_core.analysis.quality import agreement, silhouettes
from unsup_core.analysis.reuse import find_run
from unsup_core.config import to_dict
from unsup_core.datasets import Dataset
from unsup_core.datasets.file_dataset import open_file
from unsup_core.runs.store import RunRecord
from unsup_core.text import markdown_text
from unsup_core.viz.clusters import (cluster_name, cluster_sizes, confusion_heatmap, dendrogram_figure, profile_heatmap,
                                     silhouette_figure)
from unsup_core.viz.anomaly import anomaly_histogram
from unsup_core.viz.images import image_grid
from unsup_core.viz.report import figures_html

LARGE_EXPORT_ROWS = 200_000


@st.cache_resource(show_spinner="Reading the clusters...", max_entries=4)
def _understanding(run_id: str, data_key: str, _data: Dataset, _table: pd.DataFrame, features: tuple) -> dict:
    labels = run_arrays(run_id)["row_cluster"].astype(np.int64)
    rows = _data.source_rows
    result = {"silhouettes": silhouettes(_data.X, labels)}
    if features:
        result["profiles"] = cluster_profiles(_table.iloc[rows][list(features)], list(features), labels)
    if _data.y is not None:
        result["agreement"] = agreement(_data.y, labels, _data.label_names)
    return result


def understand_section(options: dict, data: Dataset, run: RunRecord, runs: list[RunRecord]) -> list[go.Figure]:
    """Everything about a finished clustering; returns the figures shown, for the HTML export."""
    arrays = run_arrays(run.id)
    labels = arrays["row_cluster"].astype(np.int64)
    table = open_file(options).table
    key = f"{run.id}:{data.n_samples}"
    understood = _understanding(run.id, key, data, table, tuple(options["features"]))
    figures = []
    found = sorted(set(labels[labels >= 0]))
    noise = int((labels < 0).sum())
    facts = st.columns(4)
    facts[0].metric("clusters", len(found))
    facts[1].metric("noise rows", f"{noise:,}", help="Rows DBSCAN/HDBSCAN leave out of every cluster (grey).")
    if understood["silhouettes"] is not None:
        facts[2].metric("mean silhouette", f"{understood['silhouettes'].mean:.2f}",
                        help="From -1 to 1: how much closer rows are to their own cluster than to the next one.")
    if "agreement" in understood:
        facts[3].metric("ARI / NMI with the label", f"{understood['agreement'].ari:.2f} / "
                                                     f"{understood['agreement'].nmi:.2f}")
    tabs = st.tabs(["Map", "Profiles", "Quality", "Outliers"], key="data.tabs")
    with tabs[0]:
        figures += map_tab(options, data, run, labels, table, runs)
    with tabs[1]:
        figures += _profiles_tab(understood, data, labels)
    with tabs[2]:
        figures += _quality_tab(understood, arrays)
    with tabs[3]:
        figures += _outliers_tab(options, noise, len(labels), runs)
    return figures


def _profiles_tab(understood: dict, data: Dataset, labels: np.ndarray) -> list[go.Figure]:
    if data.kind == "images":
        clusters = sorted(set(labels))
        means = np.stack([data.X[labels == c].mean(axis=0) for c in clusters]).reshape((-1, *data.image_shape))
        figure = image_grid(means, "Mean image of each cluster", n_cols=min(8, len(clusters)))
        st.plotly_chart(figure, key="data.mean-images")
        samples = [np.flatnonzero(labels == c)[:8] for c in clusters]
        grid = np.concatenate([np.pad(rows, (0, 8 - len(rows)), constant_values=-1) for rows in samples])
        images = np.where((grid >= 0)[:, None], data.X[np.maximum(grid, 0)], 0.5).reshape((-1, *data.image_shape))
        examples = image_grid(images, "Eight rows of each cluster (one cluster per line)", n_cols=8)
        st.plotly_chart(examples, key="data.examples")
        return [figure, examples]
    profiles = understood.get("profiles")
    if profiles is None:
        return []
    sizes = cluster_sizes(profiles.sizes)
    heatmap = profile_heatmap(profiles, "Cluster profiles: mean of each feature (colour: sd above or below all rows)")
    st.plotly_chart(sizes, key="data.sizes")
    st.plotly_chart(heatmap, key="data.profiles")
    st.markdown("**What sets each cluster apart**")
    st.dataframe(pd.DataFrame({
        "cluster": [cluster_name(int(c)) for c in profiles.sizes.index],
        "rows": profiles.sizes.to_numpy(),
        "most distinguishing features": [describe_cluster(profiles, int(c)) for c in profiles.sizes.index],
    }), hide_index=True, key="data.distinguishing")
    with st.expander("Means and medians per cluster"):
        st.dataframe(profiles.means.rename(index=lambda c: cluster_name(int(c))), key="data.means")
        st.dataframe(profiles.medians.rename(index=lambda c: cluster_name(int(c))), key="data.medians")
    return [sizes, heatmap]


def _quality_tab(understood: dict, arrays: dict) -> list[go.Figure]:
    figures = []
    if (scores := understood["silhouettes"]) is not None:
        figure = silhouette_figure(scores.values, scores.clusters, f"Silhouette of {len(scores.values):,} rows")
        st.plotly_chart(figure, key="data.silhouette")
        st.caption("Each bar is a row: near 1 it sits well inside its cluster, near 0 between two, below 0 it is "
                   "closer to another cluster. Thin clusters with many low bars are doubtful.")
        figures.append(figure)
    if (result := understood.get("agreement")) is not None:
        figure = confusion_heatmap(result.counts, result.label_names, result.cluster_names,
                                   f"Label against cluster (ARI {result.ari:.2f}, NMI {result.nmi:.2f})")
        st.plotly_chart(figure, key="data.confusion")
        st.caption("ARI and NMI are 1 when clusters and labels match exactly (whatever the numbering), about 0 "
                   "for an unrelated split. The label was not used to fit the clusters.")
        figures.append(figure)
    if "dendrogram_x" in arrays:
        figure = dendrogram_figure(arrays["dendrogram_x"], arrays["dendrogram_y"], arrays["dendrogram_leaves"],
                                   float(arrays["dendrogram_cut"]), "Merge tree (top 30 merges)")
        st.plotly_chart(figure, key="data.dendrogram")
        figures.append(figure)
    return figures


def _outliers_tab(options: dict, noise: int, n_rows: int, runs: list[RunRecord]) -> list[go.Figure]:
    if noise:
        st.markdown(f"**{noise:,} rows ({noise / n_rows:.1%})** are noise: the density-based clustering left "
                    "them out of every cluster. They have cluster -1 in the export.")
    config = to_dict(get_algorithm("outliers").build_config({}))
    scored = find_run(runs, "outliers", "file", options, config)
    if scored is None:
        st.caption("An Isolation Forest score for every row (higher: more unusual), added to the export.")
        if not st.button("Score outliers", key="data.outliers.start"):
            return []
        scored = submit_run("outliers", config, options, purpose=HELPER_PURPOSE)
        if scored is None:
            return []
    if scored.is_active:
        render_live_run(scored, key_prefix="outliers")
        return []
    arrays = run_arrays(scored.id)
    if "row_outlier_score" not in arrays:
        st.error(f"Outlier scoring failed: {scored.error or scored.status}")
        return []
    figure = anomaly_histogram(arrays["row_outlier_score"], float(arrays["threshold"]), "Outlier scores")
    st.plotly_chart(figure, key="data.outlier-scores")
    st.caption(f"{int(arrays['row_is_outlier'].sum()):,} rows with the highest scores are flagged "
               "(column is_outlier in the export).")
    return [figure]


def export_section(options: dict, data: Dataset, run: RunRecord, runs: list[RunRecord],
                   figures: list[go.Figure]) -> None:
    """Download the rows with their results, the configuration, and the figures."""
    stem = f"{Path(options['path']).stem}-{run.algorithm}-{run.id}"  # one name per clustering, never a clash
    small = data_maps_in_page(data)  # then the map is the page's own PCA map, not a run
    extra = [find_run(runs, algorithm, "file", options) for algorithm in ("outliers", "embedding")[:1 if small else 2]]
    extra = [other for other in extra if other is not None and other.status == "done"]
    page_map = map_arrays(options, data, runs) if small else None
    # A million rows make a CSV of several hundred MB; Parquet is several times smaller and faster.
    large = data.n_samples > LARGE_EXPORT_ROWS
    file_format = st.segmented_control("Format", ["csv", "parquet"], default="parquet" if large else "csv",
                                       key="data.export.format") or "csv"
    columns = ["cluster"] + (["outlier_score", "is_outlier"] if any(r.algorithm == "outliers" for r in extra) else []) \
        + (["map coordinates"] if page_map is not None or any(r.algorithm == "embedding" for r in extra) else [])
    st.caption(f"Every row of {markdown_text(Path(options['path']).name)} with: {', '.join(columns)}. Rows left out by the "
               "preparation (dropped, not sampled) have empty values.")

    def labelled() -> bytes:
        outputs = [row_outputs(run_arrays(other.id)) for other in [run, *extra]]
        outputs += [row_outputs(page_map)] if page_map is not None else []
        return table_bytes(labelled_rows(open_file(options).table, data.source_rows, outputs), file_format)

    specs = {"file": Path(options["path"]).name, "clustering": {"run": run.id, **run.spec.as_dict()}}
    specs.update({other.algorithm: {"run": other.id, **other.spec.as_dict()} for other in extra})
    if page_map is not None:
        specs["embedding"] = {"computed": "in the page, without a run", "config": map_config("pca", 2)}
    buttons = st.columns(3)
    buttons[0].download_button("Download the labelled rows", labelled, file_name=f"{stem}-clusters.{file_format}",
                               type="primary", key="data.export.rows", on_click="ignore")
    buttons[1].download_button("Download the configuration (JSON)", config_json(specs),
                               file_name=f"{stem}-config.json", key="data.export.config", on_click="ignore")
    buttons[2].download_button("Download the figures (HTML)", lambda: figures_html(figures, f"Clusters of {stem}"),
                               file_name=f"{stem}-figures.html", key="data.export.figures", on_click="ignore",
                               help="The chart toolbar also saves any single chart as a PNG.")
