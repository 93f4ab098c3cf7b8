"""Reading a clustering: knees, profiles, silhouettes, agreement, exports, and the figures for them."""

import io

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from unsup_core.analysis.export import (SELECTION_DOWNLOAD_MAX_ROWS, config_json, dataset_table, download_label,
                                       labelled_rows, rows_of_samples, sample_rows, table_bytes)
from unsup_core.analysis.k_selection import KScores, continuous_columns, recommend, score_k
from unsup_core.analysis.knee import knee_index
from unsup_core.analysis.profiles import cluster_profiles, describe_cluster
from unsup_core.analysis.quality import agreement, silhouettes
from unsup_core.analysis.reuse import find_run
from unsup_core.datasets import dataset_label, load_dataset
from unsup_core.runs.spec import make_spec
from unsup_core.viz import RunView, build_panels
from unsup_core.viz.clusters import (WEBGL_MIN_POINTS, cluster_map, cluster_sizes, confusion_heatmap, profile_heatmap,
                                     selected_positions, silhouette_figure)
from unsup_core.viz.report import figures_html


def test_knee_of_falling_and_rising_curves():
    assert knee_index(np.array([100.0, 40, 12, 10, 9, 8.5, 8])) == 2
    assert knee_index(np.array([0.1, 0.11, 0.12, 0.13, 0.15, 0.9, 2.0])) == 4
    assert knee_index(np.array([1.0, 2.0])) == 0


@pytest.fixture
def people():
    rng = np.random.default_rng(0)
    young = pd.DataFrame({"age": rng.normal(25, 2, 50), "income": rng.normal(30_000, 1000, 50),
                          "city": ["Rome"] * 45 + ["Oslo"] * 5})
    old = pd.DataFrame({"age": rng.normal(60, 2, 50), "income": rng.normal(31_000, 1000, 50),
                        "city": ["Oslo"] * 45 + ["Rome"] * 5})
    return pd.concat([young, old], ignore_index=True), np.repeat([0, 1], 50)


def test_profiles_name_what_sets_each_cluster_apart(people):
    table, labels = people
    profiles = cluster_profiles(table, ["age", "income", "city"], labels)
    assert profiles.sizes.tolist() == [50, 50]
    assert profiles.means.loc[0, "age"] == pytest.approx(table["age"][:50].mean())
    assert profiles.means.loc[1, "city=Oslo"] == pytest.approx(0.9)
    top = profiles.top_features(1, n=2)
    assert [name for name, *_ in top][0] == "age" and top[0][1] > 0.9
    assert abs(profiles.effects.loc[1, "income"]) < abs(profiles.effects.loc[1, "age"])
    assert describe_cluster(profiles, 0, n=1).startswith("age low (-1.0 sd")


def test_silhouettes_and_agreement_with_labels():
    blobs = load_dataset("blobs")
    good = silhouettes(blobs.X, blobs.y)
    shuffled = silhouettes(blobs.X, np.random.default_rng(0).permutation(blobs.y))
    assert good.mean > 0.7 and shuffled.mean < 0.05 and set(good.cluster_means()) == {0, 1, 2, 3}
    noisy = blobs.y.copy()
    noisy[:10] = -1
    assert len(silhouettes(blobs.X, noisy).values) == 990  # noise rows are left out
    result = agreement(blobs.y, np.where(blobs.y == 3, -1, blobs.y), blobs.label_names)
    assert result.counts.shape == (4, 4) and result.cluster_names[0] == "noise"
    assert result.label_names == ["blob 0", "blob 1", "blob 2", "blob 3"] and result.ari == pytest.approx(1.0)


def test_weak_structure_is_said_and_the_mixture_needs_a_clear_win():
    flat = [KScores(k, 100 / k, 0.12 + 0.01 * (k == 3), 1.5, 50, 900 - k, 0.11) for k in range(2, 6)]
    weak = recommend(flat)
    assert weak.k == 3 and weak.algorithm == "kmeans" and "the structure is weak" in weak.reason
    assert ". " not in weak.reason and weak.reason.endswith(".")  # one sentence
    better_mixture = [KScores(k, 100 / k, 0.5, 0.8, 90, 500, 0.6 if k == 2 else 0.2) for k in (2, 3)]
    assert recommend(better_mixture).algorithm == "gmm"


def test_labelled_rows_map_results_back_to_the_file_rows():
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "cluster": ["x"] * 5})
    source_rows = np.array([0, 2, 3, 4])  # row 1 was dropped for a missing value
    clusters = {"row_cluster": np.array([1, 0, -1, 1], dtype=np.int16)}
    embedding = {"row_subset": np.array([0, 3]), "row_pca_1": np.array([0.5, -0.5], dtype=np.float32)}
    result = labelled_rows(table, source_rows, [clusters, embedding])
    assert list(result.columns) == ["a", "cluster", "cluster_2", "pca_1"]
    assert result["cluster_2"].tolist()[0] == 1 and pd.isna(result["cluster_2"][1])
    assert result["cluster_2"].dtype == "Int64" and result["cluster_2"].tolist()[3] == -1
    assert result["pca_1"].tolist()[0] == 0.5 and result["pca_1"].tolist()[4] == -0.5
    assert np.isnan(result["pca_1"][2])
    back = pd.read_csv(io.BytesIO(table_bytes(result, "csv")))
    assert len(back) == 5 and list(back.columns) == list(result.columns)
    assert pd.read_parquet(io.BytesIO(table_bytes(result, "parquet")))["cluster_2"].dtype == "Int64"
    assert '"clustering"' in config_json({"clustering": {"algorithm": "kmeans"}, "embedding": None})


def test_a_listing_builds_only_the_rows_it_shows():
    data = load_dataset("iris")
    clusters = np.arange(data.n_samples) % 3
    shown = np.array([5, 0, 149])
    rows = sample_rows("iris", {}, shown, clusters)
    assert len(rows) == 3 and rows["cluster"].tolist() == [2, 0, 2]
    whole = dataset_table(data)
    assert rows.drop(columns="cluster").equals(whole.iloc[shown].reset_index(drop=True))
    assert download_label(10) == "Download these 10 rows (CSV)"
    assert download_label(1) == "Download this row (CSV)"
    assert download_label(SELECTION_DOWNLOAD_MAX_ROWS + 1).startswith(
        f"Download the first {SELECTION_DOWNLOAD_MAX_ROWS:,} of these")


def test_a_csv_for_download_never_holds_a_spreadsheet_formula():
    attacks = ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tlead", "\rlead"]
    table = pd.DataFrame({"name": [*attacks, "plain", None], "=cmd": list(range(8)),
                          "city": pd.Categorical(["@x", "ok"] * 4), "score": [-1.5] * 8})
    back = pd.read_csv(io.BytesIO(table_bytes(table, "csv")), keep_default_na=False)
    assert list(back.columns) == ["name", "'=cmd", "city", "score"]
    assert back["name"].tolist() == ["'" + attack for attack in attacks] + ["plain", ""]
    assert back["city"].tolist() == ["'@x", "ok"] * 4
    assert back["score"].tolist() == [-1.5] * 8  # numbers stay numbers
    assert table["name"].tolist()[0] == attacks[0]  # the caller's table is not changed
    assert pd.read_parquet(io.BytesIO(table_bytes(table, "parquet")))["name"].tolist()[0] == attacks[0]


def test_figures_for_the_page_serialise(people):
    table, labels = people
    rng = np.random.default_rng(0)
    profiles = cluster_profiles(table, ["age", "income", "city"], labels)
    figures = [
        cluster_map(rng.normal(size=(100, 2)), labels, "map", hover=table, rows=np.arange(100)),
        cluster_map(rng.normal(size=(100, 3)), np.where(labels == 1, -1, labels), "map 3d", hover=table),
        profile_heatmap(profiles, "profiles"), cluster_sizes(profiles.sizes),
        silhouette_figure(rng.uniform(-0.2, 1, 100), labels, "silhouettes"),
        confusion_heatmap(np.array([[40, 10], [5, 45]]), ["a", "b"], ["cluster 0", "cluster 1"], "labels"),
    ]
    for figure in figures:
        assert pio.to_json(figure)
    map_2d = figures[0]
    assert map_2d.data[0].type == "scatter" and "income: %{customdata[2]" in map_2d.data[0].hovertemplate
    assert map_2d.data[0].text[0].startswith("city: Rome")
    assert figures[1].data[0].name == "noise" and figures[1].data[0].type == "scatter3d"
    assert list(figures[2].data[0].x) == ["cluster 0", "cluster 1"]


def test_new_runs_get_their_views():
    k_view = RunView("choose_k", {}, {"k": np.array([2, 3, 4]), "inertia": np.array([9.0, 4, 3]),
                                      "silhouette": np.array([0.5, 0.7, 0.6]), "recommended_k": np.array(3),
                                      "reason": np.array("k-means with k = 3.")}, 3)
    assert [p.key for p in build_panels(k_view)] == ["k-selection"]
    assert build_panels(k_view)[0].caption == "Recommended: k-means with k = 3."
    embedding = RunView("embedding", {}, {"method": np.array("umap"), "row_subset": np.arange(5),
                                          "row_umap_1": np.zeros(5), "row_umap_2": np.ones(5)}, 1)
    assert [p.key for p in build_panels(embedding)] == ["embedding"]
    outliers = RunView("outliers", {}, {"points": np.zeros((5, 2)), "scores": np.arange(5.0),
                                        "threshold": np.array(3.5), "row_outlier_score": np.arange(5.0)}, 1)
    assert [p.key for p in build_panels(outliers)] == ["outlier-map", "outlier-histogram"]
    tree = {"points": np.zeros((4, 2)), "labels": np.arange(4) % 2, "dendrogram_x": np.zeros((3, 4)),
            "dendrogram_y": np.ones((3, 4)), "dendrogram_leaves": np.array(["0", "1", "2", "3"]),
            "dendrogram_cut": np.array(0.5)}
    assert [p.key for p in build_panels(RunView("agglomerative", {}, tree, 1))] == ["clusters", "dendrogram"]
    assert [p.key for p in build_panels(RunView("gmm", {"log_likelihood": (np.arange(2), np.ones(2))}))] == [
        "log-likelihood"]


def test_the_mixture_in_the_sweep_ignores_one_hot_columns():
    rng = np.random.default_rng(0)
    blobs = load_dataset("blobs")
    one_hot = (rng.random((blobs.n_samples, 2)) < 0.5).astype(np.float32)
    X = np.hstack([blobs.X, one_hot])
    assert continuous_columns(X).tolist() == [0, 1]
    bics = {k: score_k(X, k).bic for k in range(2, 8)}
    assert min(bics, key=bics.get) == 4  # on all columns the 0/1 ones would drive the BIC to ever larger k


def test_finished_or_running_work_is_found_again(store):
    options = {"n_samples": 300}
    first = store.create_run(make_spec("embedding", "moons", {"method": "pca"}, dataset_options=options))
    store.create_run(make_spec("embedding", "moons", {"method": "tsne"}, dataset_options=options))
    failed = store.create_run(make_spec("embedding", "moons", {"method": "pca"}, dataset_options=options))
    store.finish(failed, "failed", "boom")
    runs = store.list_runs()
    pca = runs[-1].spec.config
    assert find_run(runs, "embedding", "moons", runs[-1].spec.dataset_options, pca).id == first
    assert find_run(runs, "embedding", "moons", {"n_samples": 200}, pca) is None
    assert find_run(runs, "outliers", "moons", runs[-1].spec.dataset_options) is None
    assert dataset_label("file", {"path": "/x/uploads/ab/kunden.csv"}) == "kunden.csv"
    assert dataset_label("moons", options) == "moons"


def test_figures_export_as_one_offline_page():
    page = figures_html([cluster_sizes(pd.Series([3, 4], index=[0, 1])), cluster_sizes(pd.Series([5], index=[-1]))],
                        "Clusters of <data>")
    assert page.count("* plotly.js v") == 1  # plotly.js inlined once, so the page opens offline
    assert page.count("Plotly.newPlot") == 2 and "Clusters of &lt;data&gt;" in page


def test_hover_text_from_a_users_file_is_plain_text():
    table = pd.DataFrame({"<b>%{x}</b>": [1.0, 2.0], "note%{customdata[0]}": ['<a href="http://evil">x</a>', "y" * 5000],
                          "style": ['<span style="font-size:80px">big</span>', "ok"]})
    trace = cluster_map(np.zeros((2, 2)), np.zeros(2, dtype=int), "map", hover=table).data[0]
    assert "%{x}" not in trace.hovertemplate and "<b>" not in trace.hovertemplate
    assert "&lt;b&gt;" in trace.hovertemplate and "%{customdata[1]" in trace.hovertemplate
    texts = list(trace.text)
    assert "<a " not in texts[0] and "&lt;a href=" in texts[0] and "<span" not in texts[0]
    assert "%{customdata[0]}" not in texts[0]
    assert max(len(line) for text in texts for line in text.split("<br>")) < 2 * 80  # a 5,000-char cell is cut


def test_hover_shows_the_label_first_then_the_features_then_the_rest():
    # The page orders the hover table so: label, features, other columns (here a text one and a number).
    table = pd.DataFrame({"species": ["setosa", "virginica"], "petal": [1.4, 5.6], "sepal": [5.1, 6.3],
                          "name": ["a", "b"], "plot": [3, 4]})
    trace = cluster_map(np.zeros((2, 2)), np.zeros(2, dtype=int), "map", hover=table).data[0]
    lines = trace.hovertemplate.split("<br>")
    assert lines[:4] == ["row %{customdata[0]}", "%{hovertext}", "petal: %{customdata[1]:,.4~g}",
                         "sepal: %{customdata[2]:,.4~g}"] and lines[-1] == "%{text}"
    assert list(trace.hovertext) == ["species: setosa", "species: virginica"] and trace.text[0] == "name: a"


def test_large_maps_are_drawn_with_webgl_and_keep_their_hover():
    rng = np.random.default_rng(0)
    n = 100_000
    table = pd.DataFrame({"size": rng.normal(size=n), "name": [f"row {i}" for i in range(n)]})
    clusters = rng.integers(0, 3, n)
    figure = cluster_map(rng.normal(size=(n, 2)), clusters, "big", hover=table, rows=np.arange(n))
    assert {trace.type for trace in figure.data} == {"scattergl"}
    assert sum(len(trace.x) for trace in figure.data) == n
    first = figure.data[0]
    assert first.customdata.shape == (int((clusters == 0).sum()), 2) and first.text[0].startswith("name: row ")
    small = cluster_map(rng.normal(size=(WEBGL_MIN_POINTS - 1, 2)), None, "small")
    assert small.data[0].type == "scatter"


def test_a_selection_names_points_of_the_map_and_nothing_else():
    clusters = np.array([2, 0, 2, 1, 0, 2])  # traces: cluster 0 (rows 1, 4), 1 (row 3), 2 (rows 0, 2, 5)
    points = [{"curve_number": 2, "point_index": 1}, {"curve_number": 0, "point_index": 1}]
    assert selected_positions(clusters, points).tolist() == [2, 4]
    hostile = [{"curve_number": 9, "point_index": 0}, {"curve_number": 0, "point_index": 7},
               {"curve_number": "0", "point_index": 0}, {"curve_number": -1, "point_index": 0}, "x", None]
    assert selected_positions(clusters, hostile).size == 0
    assert selected_positions(clusters, "not a list").size == 0


def test_the_rows_of_a_selection_are_the_original_rows_with_their_cluster():
    table = pd.DataFrame({"name": list("abcdef"), "cluster": [9] * 6})  # a column already named cluster
    source_rows = np.array([0, 2, 3, 5])  # rows 1 and 4 were dropped by the preparation
    rows = rows_of_samples(table, source_rows, np.array([1, 3]), np.array([0, 1, 0, 1]))
    assert rows.to_dict("list") == {"cluster_2": [1, 1], "name": ["c", "f"], "cluster": [9, 9]}
