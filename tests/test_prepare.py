"""Preparing a file for clustering, the file dataset behind runs, and the upload store."""

import numpy as np
import pandas as pd
import pytest

from unsup_core.config import ConfigError
from unsup_core.datasets import DatasetError, get_entry, list_datasets, load_dataset
from unsup_core.datasets.files import read_file
from unsup_core.datasets.prepare import Preparation, default_features, prepare, skewed_columns, suggested_label
from unsup_core.datasets.uploads import import_file, load_file, save_upload, uploads_root
from unsup_core.runs.spec import make_spec

CSV = ("row,age,income,city,notes,group\n"
       "1,25,30000,Rome,,a\n"
       "2,35,,Oslo,called,a\n"
       "3,,52000,Rome,,b\n"
       "4,45,61000,,late,b\n"
       "5,55,1200000,Oslo,,b\n")


@pytest.fixture
def loaded(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    return read_file(path)


def test_defaults_leave_out_row_numbers_text_and_the_label(loaded):
    assert suggested_label(loaded) == "group"
    # city is categorical beside two measurements: left out by default (its 0/1 columns would dominate)
    assert default_features(loaded, "group") == ["age", "income"]
    assert skewed_columns(loaded.table, ["age", "income"]) == ["income"]


def test_impute_one_hot_and_standard_scaling(loaded):
    prepared = prepare(loaded, Preparation(features=("age", "income", "city"), label="group"))
    assert prepared.feature_names == ["age", "income", "city=(missing)", "city=Oslo", "city=Rome"]
    assert prepared.X.shape == (5, 5) and prepared.X.dtype == np.float32
    assert np.allclose(prepared.X[:, :2].mean(axis=0), 0, atol=1e-6)
    assert np.allclose(prepared.X[:, :2].std(axis=0), 1, atol=1e-5)
    # Row 4 misses its city: an explicit "(missing)" category, not a guess.
    assert set(np.unique(prepared.X[:, 2:])) == {0.0, 1.0} and (prepared.X[:, 2:].sum(axis=1) == 1).all()
    assert prepared.X[3, 2] == 1.0
    assert prepared.y.tolist() == [0, 0, 1, 1, 1] and prepared.label_names == ["a", "b"]
    assert "group" not in prepared.feature_names
    assert any("filled 2 missing values with the column median (age 1, income 1)" in note for note in prepared.notes)
    raw_age = np.array([25, 35, 40, 45, 55])  # the median 40 fills the gap before scaling
    assert np.allclose(prepared.X[:, 0], (raw_age - raw_age.mean()) / raw_age.std(), atol=1e-5)


def test_drop_rows_log_and_other_scalings(loaded):
    dropped = prepare(loaded, Preparation(features=("age", "income"), missing="drop", scaling="none",
                                          log_columns=("income",)))
    assert dropped.source_rows.tolist() == [0, 3, 4]
    assert any("dropped 2 of 5 rows" in note for note in dropped.notes)
    assert np.allclose(dropped.X[:, 1], np.log1p([30000, 61000, 1200000]))
    minmax = prepare(loaded, Preparation(features=("age",), scaling="minmax"))
    assert minmax.X.min() == 0.0 and minmax.X.max() == 1.0
    robust = prepare(loaded, Preparation(features=("age",), scaling="robust"))
    assert np.median(robust.X) == 0.0


def test_a_sample_of_rows_is_reproducible(loaded):
    first = prepare(loaded, Preparation(features=("age",), max_rows=3))
    second = prepare(loaded, Preparation(features=("age",), max_rows=3))
    assert len(first.source_rows) == 3 and first.source_rows.tolist() == second.source_rows.tolist()


@pytest.mark.parametrize("preparation, message", [
    (Preparation(features=("salary",)), "no column 'salary'"),
    (Preparation(features=("city",), one_hot=False), "'city' is categorical: turn on one-hot"),
    (Preparation(features=("age",), log_columns=("city",)), "log transform: 'city' is not one of the numeric"),
    (Preparation(features=("group",), label="group"), "choose at least one feature column"),
    (Preparation(features=("age", "income"), missing="drop", max_rows=1), "only 1 row left to cluster"),
])
def test_preparations_that_cannot_work_say_why(loaded, preparation, message):
    with pytest.raises(DatasetError, match=message):
        prepare(loaded, preparation)


def test_free_text_is_never_a_feature(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("score,review\n" + "".join(f"{i},review number {i}\n" for i in range(30)))
    with pytest.raises(DatasetError, match="'review' holds free text"):
        prepare(read_file(path), Preparation(features=("score", "review")))


def test_a_single_row_cannot_be_clustered(tmp_path, lab_home):
    path = save_upload(b"x,y\n1.5,2.5\n", "one.csv")
    with pytest.raises(DatasetError, match="only 1 row left to cluster; clustering needs at least 2"):
        load_dataset("file", path=str(path))


def test_uploads_are_stored_once_and_read_through_a_cache(lab_home):
    first = save_upload(CSV.encode(), "people.csv")
    again = save_upload(CSV.encode(), "people.csv")
    assert first == again and first.is_relative_to(lab_home) and first.read_text() == CSV
    assert [path.name for path in uploads_root().glob("*/*")] == ["people.csv"]
    fresh = load_file(first)
    cached = load_file(first)
    assert any(p.name.startswith(".table-") for p in first.parent.iterdir())
    pd.testing.assert_frame_equal(fresh.table, cached.table, check_dtype=False)
    assert cached.report == fresh.report


def test_the_file_dataset_carries_its_preparation_and_kind(lab_home, tmp_path):
    path = save_upload(CSV.encode(), "people.csv")
    assert "file" not in [entry.name for entry in list_datasets()]
    data = load_dataset("file", path=str(path), features="age,income", label="group", scaling="minmax")
    assert data.kind == "table" and data.preprocessed and data.feature_names == ["age", "income"]
    assert data.source_rows.tolist() == [0, 1, 2, 3, 4] and data.label_names == ["a", "b"]
    spec = make_spec("kmeans", "file", {"n_clusters": 2}, dataset_options={"path": str(path), "label": "group"})
    assert spec.dataset_options["scaling"] == "standard" and spec.dataset_options["label"] == "group"
    with pytest.raises(ConfigError, match="vae does not accept table data"):
        make_spec("vae", "file", dataset_options={"path": str(path)})
    with pytest.raises(DatasetError, match="no column 'nope'"):
        make_spec("kmeans", "file", dataset_options={"path": str(path), "label": "nope"})
    images = tmp_path / "images.npy"
    np.save(images, np.random.default_rng(0).random((20, 8, 8)))
    images = import_file(images)
    assert get_entry("file").kind_for({"path": str(images)}) == "images"
    assert make_spec("vae", "file", dataset_options={"path": str(images)}).dataset == "file"


def test_the_file_dataset_reads_only_files_stored_in_the_lab(lab_home, tmp_path):
    outside = tmp_path / "secrets.csv"
    outside.write_text(CSV)
    stored = save_upload(CSV.encode(), "people.csv")
    load_file(stored)  # writes the loader's cache beside the file
    for path in (outside, "/etc/passwd", stored.parent / ".." / ".." / ".." / "runs.db",
                 next(stored.parent.glob(".report-*"))):
        with pytest.raises(DatasetError, match="reads only files stored in the lab"):
            load_dataset("file", path=str(path))


def test_an_upload_with_a_name_too_long_for_the_disk_is_stored_under_a_shorter_one(lab_home):
    path = save_upload(CSV.encode(), "é" * 200 + ".csv")
    assert path.suffix == ".csv" and len(path.name.encode()) <= 150 and path.read_text() == CSV
