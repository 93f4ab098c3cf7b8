"""Your data (AppTest): the default columns with their reasons on the page, the map computed in the page,
a cluster's rows listed and downloadable, and helper runs kept out of the Runs list by default."""

import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.own_files import labelled_table, shapes_zip
from unsup_core.analysis import page_maps
from unsup_core.access import Principal, reusable_runs
from unsup_core.analysis.page_maps import (InPageMapBusy, compute_map, map_arrays_problem, maps_in_page,
                                           start_umap_warm_up, umap_warm_up_state)
from unsup_core.datasets import Dataset
from unsup_core.datasets import load_dataset
from unsup_core.datasets.uploads import add_upload
from unsup_core.errors import UserError
from unsup_core.runs.archive import export_run, import_run
from unsup_core.runs.spec import HELPER, make_spec
from unsup_core.runs.worker import StopFlags, execute
from unsup_core.settings import MapSettings, QueueLimits
from unsup_core.viz.maps import MapLayout, category_map, selected_units

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def quiet(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    return lab_home


def _page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["access.user"] = "u-alice"
    at.run()
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def _widget(widgets, label):
    return next(widget for widget in widgets if widget.label == label)


def _sales_table() -> bytes:
    """The columns the issue found used by default: an id, a year, a coded channel, a constant, and a
    two-valued text column with 11 gaps; two real measurements and a segment label."""
    rng = np.random.default_rng(0)
    n = 120
    member = rng.choice(["yes", "no"], n).astype(object)
    member[rng.choice(n, 11, replace=False)] = None
    table = pd.DataFrame({"customer_id": rng.permutation(np.arange(10_000, 10_000 + n)),
                          "year": rng.integers(2015, 2021, n), "channel": rng.integers(1, 4, n),
                          "version": np.full(n, 2), "spend": rng.gamma(2.0, 50.0, n).round(2),
                          "visits": rng.poisson(6, n), "member": member,
                          "segment": rng.choice(["a", "b", "c"], n)})
    return table.to_csv(index=False).encode()


def test_left_out_columns_are_listed_with_their_reason_and_the_label_is_never_a_feature(quiet):
    at = _page("pages/your_data.py")
    at.get("file_uploader")[0].set_value(("sales.csv", _sales_table(), "text/csv"))
    at.run()
    assert not at.exception and not at.error
    assert _widget(at.selectbox, "Label column (optional)").value == "segment"
    features = _widget(at.multiselect, "Feature columns")
    assert features.value == ["spend", "visits"]
    assert "segment" not in features.options  # the label is not even offered
    unescaped = [re.sub(r"\\(.)", r"\1", line) for block in at.expander
                 if block.label.startswith("Left out by default") for markdown in block.markdown
                 for line in markdown.value.splitlines()]  # names are shown as Markdown-escaped text
    reasons = {line.split("**")[1]: line.split("**: ")[1] for line in unescaped}
    assert "id" in reasons["customer_id"] and "year" in reasons["year"]
    assert "integer codes with 3 values" in reasons["channel"] and "constant" in reasons["version"]
    assert "categorical" in reasons["member"] and "segment" not in reasons
    # Put back, the text column's gaps become their own category, never its most common value.
    _widget(at.multiselect, "Feature columns").select("member").run()
    summary = " ".join(block.value for block in at.success)
    assert "11 missing values in 'member' became their own category" in summary


def test_a_column_name_is_shown_as_text_never_as_markdown():
    from unsup_core.text import markdown_text

    shown = markdown_text("![pixel](http://evil.example/x.png) **[click](http://evil)** :red[big] $x$")
    assert "](" not in shown.replace("\\]\\(", "") and "\\!\\[pixel\\]" in shown
    assert re.sub(r"\\(.)", r"\1", shown) == "![pixel](http://evil.example/x.png) **[click](http://evil)** :red[big] $x$"
    assert "\n" not in markdown_text("a\n\n# heading") and len(markdown_text("x" * 10_000)) == 200


def _clustered(store, content: bytes = b"", name: str = "flowers.csv", **options) -> tuple[str, np.ndarray]:
    path, _ = add_upload(content or labelled_table(), name)
    store.record_upload(path, "u-alice")
    options = {"path": str(path), **(options or {"features": ["sepal_length", "sepal_width", "petal_length"],
                                                "label": "species"})}
    run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 3}, dataset_options=options, steps=50),
                              owner="u-alice")
    execute(store, run_id, StopFlags(), QueueLimits(cpu=4, cuda=1))
    assert store.get_run(run_id).status == "done"
    return run_id, store.load_snapshot(run_id)[1]["row_cluster"]


def test_small_data_is_mapped_in_the_page_and_a_clusters_rows_can_be_listed_and_downloaded(quiet, store):
    run_id, clusters = _clustered(store)
    at = _page("pages/your_data.py", {"cluster": run_id})
    assert not at.exception and not at.error
    assert any(caption.value.startswith("Computed here in") and "90 rows is under the 20,000" in caption.value
               for caption in at.caption)
    assert [run.algorithm for run in store.list_runs()] == ["kmeans"]  # no map run was queued
    spec = at.get("plotly_chart")[next(i for i, chart in enumerate(at.get("plotly_chart"))
                                       if '"Clusters on the PCA map' in chart.proto.spec)].proto.spec
    assert '"type":"scatter"' in spec and "sepal_length: %{customdata" in spec  # hover shows the original row
    _widget(at.selectbox, "List the rows of").select(1).run()
    listed = next(frame.value for frame in at.dataframe if "cluster" in frame.value.columns)
    assert len(listed) == int((clusters == 1).sum()) and set(listed["cluster"]) == {1}
    assert list(listed.columns) == ["cluster", "sepal_length", "sepal_width", "petal_length", "species"]
    assert any(f"Download these {len(listed)} rows" in button.proto.label for button in at.get("download_button"))


def test_a_cluster_of_one_row_is_listed_and_downloaded_in_the_singular(quiet, store):
    far_away = labelled_table() + b"500.00,300.00,400.00,virginica\n"  # k-means gives this row its own cluster
    run_id, clusters = _clustered(store, far_away)
    alone = int(clusters[-1])
    assert (clusters == alone).sum() == 1
    at = _page("pages/your_data.py", {"cluster": run_id})
    _widget(at.selectbox, "List the rows of").select(alone).run()
    assert not at.exception
    assert f"**1 row of cluster {alone}**" in [markdown.value for markdown in at.markdown]
    assert "Download this row (CSV)" in [button.proto.label for button in at.get("download_button")]


def test_an_image_zips_clusters_show_their_images(quiet, store):
    run_id, clusters = _clustered(store, shapes_zip(), "shapes.zip", image_size=16, label="folder")
    at = _page("pages/your_data.py", {"cluster": run_id})
    assert not at.exception and not at.error
    assert any(caption.value.startswith("Hover a point to see its file; click it to see its image") for caption in at.caption)
    _widget(at.selectbox, "List the rows of").select(0).run()
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    count = min(32, int((clusters == 0).sum()))
    assert any(f"{count} of the {int((clusters == 0).sum())} images of cluster 0" in spec for spec in titles)
    listed = next(frame.value for frame in at.dataframe if "cluster" in frame.value.columns)
    assert set(listed["cluster"]) == {0} and listed["file"].str.endswith(".png").all()


def test_helper_runs_from_your_data_are_hidden_on_runs_until_asked_for(quiet, store):
    options = {"path": str(add_upload(labelled_table(), "flowers.csv")[0])}
    store.create_run(make_spec("kmeans", "file", {"n_clusters": 3}, dataset_options=options), owner="u-alice")
    for algorithm in ("embedding", "outliers"):
        helper = store.create_run(make_spec(algorithm, "file", {}, dataset_options=options, purpose=HELPER),
                                  owner="u-alice")
        store.finish(helper, "done")
    at = _page("pages/runs.py")
    assert not at.exception
    listed = next(frame.value for frame in at.dataframe)
    assert list(listed["algorithm"]) == ["kmeans"]
    _widget(at.toggle, "Show helper runs from Your data (2)").set_value(True).run()
    listed = next(frame.value for frame in at.dataframe)
    assert sorted(listed["algorithm"]) == ["embedding", "kmeans", "outliers"]
    assert sorted(listed["helper for"]) == ["", "Your data", "Your data"]
    # A helper still queued or running is always listed: what uses the machine is never hidden.
    store.create_run(make_spec("embedding", "file", {"method": "tsne"}, dataset_options=options, purpose=HELPER),
                     owner="u-alice")
    at = _page("pages/runs.py")
    assert sorted(next(frame.value for frame in at.dataframe)["algorithm"]) == ["embedding", "kmeans"]


def test_a_run_purpose_is_one_the_lab_knows():
    assert make_spec("embedding", "blobs", purpose=HELPER).is_helper
    assert not make_spec("embedding", "blobs").is_helper
    with pytest.raises(UserError, match="purpose must be one of"):
        make_spec("embedding", "blobs", purpose="sneaky")
    with pytest.raises(UserError, match="only for embedding, tournament, outliers"):
        make_spec("kmeans", "blobs", purpose=HELPER)  # a run that would only be hiding itself


def test_the_page_map_is_the_map_an_embedding_run_draws(lab_home):
    data = load_dataset("blobs")
    computed = compute_map(data, {"method": "pca"})
    assert computed.seconds > 0 and computed.arrays["row_pca_1"].shape == (data.n_samples,)
    assert maps_in_page(data.n_samples, 2, MapSettings(in_page_max_rows=data.n_samples + 1))
    assert not maps_in_page(data.n_samples, 2, MapSettings(in_page_max_rows=data.n_samples))


def test_wide_data_under_the_row_limit_still_goes_to_a_background_run():
    settings = MapSettings(in_page_max_rows=20_000, in_page_max_cells=2_000_000)
    assert maps_in_page(19_999, 50, settings)
    assert not maps_in_page(19_999, 2_500, settings)  # rows alone would let 50 million values in


def test_only_one_non_linear_map_is_fitted_in_the_page_at_a_time(lab_home):
    data = load_dataset("blobs")
    assert page_maps._non_linear_fit_lock.acquire(blocking=False)  # as a fit in another session would
    try:
        with pytest.raises(InPageMapBusy, match="background run"):
            compute_map(data, {"method": "tsne"})
        assert compute_map(data, {"method": "pca"}).arrays["row_pca_1"].shape == (data.n_samples,)  # PCA is instant
    finally:
        page_maps._non_linear_fit_lock.release()
    assert np.isfinite(compute_map(data, {"method": "tsne"}).arrays["row_tsne_1"]).all()


def test_wide_data_is_cut_to_fifty_components_before_t_sne():
    from unsup_core.algorithms.embedding import NON_LINEAR_MAX_FEATURES

    rng = np.random.default_rng(0)
    wide = Dataset(name="wide", X=rng.normal(size=(120, 300)).astype(np.float32), kind="table")
    computed = compute_map(wide, {"method": "tsne"})
    assert computed.arrays["row_tsne_1"].shape == (120,)
    from unsup_core.algorithms import get_algorithm

    algorithm_cls = get_algorithm("embedding")
    embedding = algorithm_cls(algorithm_cls.build_config({"method": "tsne"}))
    embedding.setup(wide)
    assert embedding._reduced(embedding.features).shape == (120, NON_LINEAR_MAX_FEATURES)


@pytest.mark.slow
def test_umap_is_compiled_once_per_server_in_the_background(lab_home):
    start_umap_warm_up(MapSettings(warm_up_umap=True))
    assert umap_warm_up_state() in ("warming", "warm")
    start_umap_warm_up(MapSettings(warm_up_umap=True))  # a second page run starts nothing more
    assert [thread.name for thread in threading.enumerate()].count("umap-warm-up") <= 1
    wait_until = time.monotonic() + 300
    while umap_warm_up_state() != "warm" and time.monotonic() < wait_until:
        time.sleep(0.2)  # waiting on a condition: the thread's end
    assert umap_warm_up_state() == "warm"
    computed = compute_map(load_dataset("blobs"), {"method": "umap"})
    assert np.isfinite(computed.arrays["row_umap_1"]).all()


@pytest.mark.slow
def test_the_umap_compile_notice_does_not_outlive_the_map(quiet, store, monkeypatch):
    run_id, _ = _clustered(store)
    release = threading.Event()
    warming = threading.Thread(target=release.wait, name="umap-warm-up", daemon=True)
    warming.start()
    monkeypatch.setitem(page_maps._warm_up, "thread", warming)  # the server's warm-up is still running
    try:
        at = AppTest.from_file(APP, default_timeout=300)  # this process may compile UMAP itself
        at.session_state["access.user"] = "u-alice"
        at.session_state["data.map.method"] = "umap"
        at.run()
        at.switch_page("pages/your_data.py")
        at.query_params["cluster"] = run_id
        at.run()
        assert umap_warm_up_state() == "warming" and not at.exception
        assert any('"Clusters on the UMAP map' in chart.proto.spec for chart in at.get("plotly_chart"))
        assert not any("compiling" in caption.value for caption in at.caption)  # said while waiting only
    finally:
        release.set()


def test_a_clicked_som_unit_is_read_from_its_marker_and_nothing_else():
    layout = MapLayout(2, 3, "rectangular", np.tile(np.arange(3.0), 2), np.repeat(np.arange(2.0), 3))
    figure = category_map(layout, np.array([0, 0, 1, 1, -1, 1]), "map")
    markers = [trace for trace in figure.data if trace.mode == "markers"]
    assert sorted(int(unit) for trace in markers for unit in trace.customdata) == list(range(6))
    points = [{"customdata": 4}, {"customdata": [2]}, {"customdata": 2.0}]
    assert selected_units(points, layout.n_units) == [2, 4]
    assert selected_units([{"customdata": 6}, {"customdata": -1}, {"customdata": True}, {"customdata": "1"},
                           {"customdata": 1.5}, {}, "x"], layout.n_units) == []
    huge = int("9" * 400)  # a browser's JSON may carry any integer: float() of it would overflow
    assert selected_units([{"customdata": huge}, {"customdata": -huge}, {"customdata": [huge]},
                           {"customdata": float("nan")}, {"customdata": float("inf")}, {"customdata": 3}],
                          layout.n_units) == [3]


def test_a_helper_run_stays_a_helper_through_export_and_import(quiet, store, tmp_path):
    run_id, _ = _clustered(store)
    options = store.get_run(run_id).spec.dataset_options
    helper = store.create_run(make_spec("embedding", "file", {}, dataset_options=options, purpose=HELPER),
                              owner="u-alice")
    execute(store, helper, StopFlags(), QueueLimits(cpu=4, cuda=1))
    export_run(store, helper, tmp_path / "helper.zip")
    imported = import_run(store, tmp_path / "helper.zip", owner="u-bob")
    assert store.get_run(imported).spec.is_helper


def test_data_at_the_row_limit_is_mapped_by_a_helper_run(quiet, store, monkeypatch):
    run_id, _ = _clustered(store)
    monkeypatch.setenv("UNSUP_LAB_IN_PAGE_MAP_ROWS", "90")  # the table has 90 rows: at the limit, not under
    at = _page("pages/your_data.py", {"cluster": run_id})
    assert not at.exception and not at.error
    maps = [run for run in store.list_runs() if run.algorithm == "embedding"]
    assert len(maps) == 1 and maps[0].spec.is_helper and maps[0].spec.config["method"] == "pca"
    assert not store.get_run(run_id).spec.is_helper  # the clustering itself is the user's run
    assert any("in a background run (90 rows)" in caption.value
               or caption.value.startswith("Computed by the background run") for caption in at.caption)


def test_a_teacher_reuses_only_their_own_runs_and_a_crafted_map_gets_a_sentence(quiet, store):
    run_id, _ = _clustered(store)  # u-alice's clustering
    teacher = Principal("u-teacher", teacher=True)
    assert reusable_runs(teacher, store.list_runs()) == []
    assert [run.id for run in reusable_runs(Principal("u-alice"), store.list_runs())] == [run_id]
    good = {"row_subset": np.arange(3), "row_pca_1": np.zeros(3), "row_pca_2": np.ones(3)}
    names = ["row_pca_1", "row_pca_2"]
    assert map_arrays_problem(good, names, 5, 5) is None
    assert "labels" in map_arrays_problem(good, names, 5, 4)
    assert "between 1 and 5" in map_arrays_problem({**good, "row_subset": np.array([0, 1, 5])}, names, 5, 5)
    assert "between 1 and 5" in map_arrays_problem({**good, "row_subset": np.array([0, -1, 2])}, names, 5, 5)
    assert "integers" in map_arrays_problem({**good, "row_subset": np.array([0.0, 1.0, 2.0])}, names, 5, 5)
    assert "row_pca_2" in map_arrays_problem({**good, "row_pca_2": np.ones(2)}, names, 5, 5)
    assert "row_pca_1" in map_arrays_problem({"row_subset": np.arange(3)}, names, 5, 5)
