"""The Your data page's logic with Streamlit's AppTest: uploads, a failed upload, reopening a clustering."""

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.runs.spec import make_spec

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CSV = "Name;Größe;Gewicht;Stadt\n" + "".join(
    f"P{i};{1.5 + (i % 3) * 0.2:.2f};{50 + (i % 3) * 15},5;{['Köln', 'Rom', 'Oslo'][i % 3]}\n" for i in range(30)
).replace(".", ",")


@pytest.fixture
def page(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/your_data.py").run()
    return at


def shown(element) -> str:
    """An element's Markdown as the user reads it: text from a user's file is backslash-escaped."""
    return re.sub(r"\\(.)", r"\1", element.value)


def _upload(at, name, content):
    at.get("file_uploader")[0].set_value((name, content, "text/csv"))
    return at.run()


def test_an_upload_is_read_prepared_and_stored(page, lab_home):
    at = _upload(page, "people.csv", CSV.encode("latin-1"))
    assert not at.exception and not at.error
    markdown = " ".join(block.value for block in at.markdown)
    assert "rows: **30**" in markdown and "delimiter: **semicolon**" in markdown and "decimal mark: **,**" in markdown
    assert any("30 rows x 2 features" in block.value for block in at.success)  # the city is left out beside measurements
    stored = list((lab_home / "datasets" / "uploads").glob("*/people.csv"))
    assert len(stored) == 1 and stored[0].read_bytes() == CSV.encode("latin-1")


def test_a_failed_upload_keeps_the_previous_file(page, lab_home):
    at = _upload(page, "people.csv", CSV.encode("latin-1"))
    at = _upload(at, "junk.csv", np.random.default_rng(0).bytes(2000))
    assert len(at.error) == 1
    assert "Could not use junk.csv" in shown(at.error[0]) and "binary data" in shown(at.error[0])
    assert "people.csv is still loaded" in shown(at.error[0])
    assert any(shown(header) == "2. What was read from people.csv" for header in at.subheader)
    assert any("30 rows x 2 features" in block.value for block in at.success)
    kept = [path.name for path in (lab_home / "datasets" / "uploads").glob("*/*") if not path.name.startswith(".")]
    assert kept == ["people.csv"]  # a file that cannot be read is not stored


def test_a_link_to_a_clustering_reopens_its_file_and_preparation(page, store, lab_home):
    at = _upload(page, "people.csv", CSV.encode("latin-1"))
    stored = str(next((lab_home / "datasets" / "uploads").glob("*/people.csv")))
    options = {"path": stored, "features": ["Größe"], "label": "Stadt", "scaling": "minmax"}
    run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 3}, dataset_options=options))
    fresh = AppTest.from_file(APP, default_timeout=60)
    fresh.run()
    fresh.switch_page("pages/your_data.py")
    fresh.query_params["cluster"] = run_id
    fresh.run()
    assert not fresh.exception
    assert any(shown(header) == "2. What was read from people.csv" for header in fresh.subheader)
    assert next(box for box in fresh.selectbox if box.label == "Label column (optional)").value == "Stadt"
    assert next(box for box in fresh.multiselect if box.label == "Feature columns").value == ["Größe"]
    assert next(box for box in fresh.selectbox if box.label == "Scaling").value == "minmax"
    assert any("30 rows x 1 feature**" in block.value for block in fresh.success)


def test_every_clustering_algorithm_can_be_chosen(page):
    at = _upload(page, "people.csv", CSV.encode("latin-1"))
    algorithm = next(box for box in at.selectbox if box.label == "Algorithm")
    for name in algorithm.options:
        at = algorithm.select(name).run()
        assert not at.exception, name
        algorithm = next(box for box in at.selectbox if box.label == "Algorithm")
    assert "som_clustering" in algorithm.options


def _session(user: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["access.user"] = user
    at.run()
    at.switch_page("pages/your_data.py")
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_in_shared_mode_files_and_clusterings_stay_with_their_owner(lab_home, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    alice = _upload(_session("u-alice"), "people.csv", CSV.encode("latin-1"))
    stored = store.list_uploads(visible_to="u-alice")
    assert [upload.name for upload in stored] == ["people.csv"]
    options = {"path": str(store.upload_path(stored[0])), "features": ["Größe"]}
    run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 3}, dataset_options=options),
                              owner="u-alice")

    bob = _session("u-bob", {"cluster": run_id})
    assert any("Cannot open that clustering" in shown(error) for error in bob.error)
    assert not any(shown(header).startswith("2. What was read") for header in bob.subheader)
    assert not [box for box in bob.selectbox if box.label.startswith("...or reopen")]
    assert not alice.exception
    again = _session("u-alice", {"cluster": run_id})
    assert any(shown(header) == "2. What was read from people.csv" for header in again.subheader)
