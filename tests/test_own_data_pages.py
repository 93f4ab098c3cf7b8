"""Your files on the Train and SOM pages (AppTest): listed for their owner only, prepared as last chosen,
offered only the algorithms of their kind, and started as the file dataset with the whole preparation."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.own_files import labelled_table, shapes_zip
from unsup_core.algorithms import list_algorithms
from unsup_core.algorithms.catalogue import menu_label
from unsup_core.datasets.uploads import add_upload
from unsup_core.runs.spec import make_spec

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def quiet(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")
    return lab_home


def _upload(store, data: bytes, name: str, owner: str):
    path, _ = add_upload(data, name)
    return store.record_upload(path, owner)


def _page(page: str, user: str = "u-alice") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["access.user"] = user
    at.run()
    at.switch_page(page)
    return at.run()


def _selectbox(at, label):
    return next(box for box in at.selectbox if box.label == label)


def _offered(at) -> set[str]:
    labels = _selectbox(at, "Algorithm").options
    return {cls.name for cls in list_algorithms() if menu_label(cls) in labels}


def test_in_shared_mode_uploads_are_listed_on_train_for_their_owner_only(quiet, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    upload = _upload(store, labelled_table(), "flowers.csv", "u-alice")
    alice = _page("pages/train.py")
    assert not alice.exception
    choices = _selectbox(alice, "Dataset").options
    assert choices[0].startswith("digits")
    assert any(choice.startswith("flowers.csv  (your file: table") for choice in choices)
    _upload(store, labelled_table(rows=3), "three.csv", "u-alice")  # 119 bytes: not "0 KB"
    assert "three.csv  (your file: table, 119 bytes)" in _selectbox(_page("pages/train.py"), "Dataset").options
    bob = _page("pages/train.py", "u-bob")
    assert not any("flowers.csv" in choice for choice in _selectbox(bob, "Dataset").options)
    assert upload.owners == {"u-alice"}
    # Once the teacher shares a run on it, the file is the class's too (to see and run on, not to change).
    run_id = store.create_run(make_spec("som", "file", {"rows": 4, "cols": 4},
                                        dataset_options={"path": str(store.upload_path(upload))}), owner="u-alice")
    store.set_shared(run_id, True)
    bob = _page("pages/train.py", "u-bob")
    assert any(choice.startswith("flowers.csv  (shared file: table") for choice in _selectbox(bob, "Dataset").options)


def test_an_image_zip_offers_image_algorithms_and_a_vae_run_records_size_and_colour(quiet, store):
    upload = _upload(store, shapes_zip(), "shapes.zip", "u-alice")
    at = _page("pages/train.py")
    _selectbox(at, "Dataset").select(f"upload:{upload.id}").run()
    assert not at.exception
    assert _offered(at) == {cls.name for cls in list_algorithms() if "images" in cls.accepts}
    assert {"vae", "dcgan", "wgan_gp", "pixelcnn"} <= _offered(at)
    assert _selectbox(at, "Image size").options == ["automatic", "16 x 16", "28 x 28", "32 x 32", "64 x 64"]
    assert _selectbox(at, "Label column (optional)").value == "folder"  # sub-folders are classes
    _selectbox(at, "Label column (optional)").select("").run()
    assert any("no label" in info.value for info in at.info)  # what the generative views show without labels
    _selectbox(at, "Image size").select(16).run()
    _selectbox(at, "Colour").select("grey").run()
    _selectbox(at, "Algorithm").select("vae").run()
    next(w for w in at.number_input if w.label == "steps").set_value(5)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.error, [error.value for error in at.error]
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0].algorithm == "vae" and runs[0].spec.dataset == "file"
    options = runs[0].spec.dataset_options
    assert options["path"] == str(store.upload_path(upload))
    assert (options["image_size"], options["colour"]) == (16, "grey")
    assert not at.query_params.get("dataset")  # a file never goes into the page's link


def test_train_starts_from_the_preparation_last_chosen_on_your_data(quiet, store):
    upload = _upload(store, labelled_table(), "flowers.csv", "u-alice")
    store.remember_preparation(upload.id, "u-alice", {"features": ["sepal_width", "petal_length"],
                                                      "label": "species", "scaling": "robust"})
    at = _page("pages/train.py")
    _selectbox(at, "Dataset").select(f"upload:{upload.id}").run()
    assert _selectbox(at, "Scaling").value == "robust" and _selectbox(at, "Label column (optional)").value == "species"
    assert next(box for box in at.multiselect if box.label == "Feature columns").value == ["sepal_width",
                                                                                           "petal_length"]
    assert {"semi_supervised", "outliers", "som", "embedding"} <= _offered(at) and "vae" not in _offered(at)
    bob = _page("pages/train.py", "u-bob")  # one user, not shared: bob sees the file but not alice's choice
    _selectbox(bob, "Dataset").select(f"upload:{upload.id}").run()
    assert _selectbox(bob, "Scaling").value == "standard"


def test_a_som_on_an_uploaded_table_starts_from_the_som_page(quiet, store):
    upload = _upload(store, labelled_table(), "flowers.csv", "u-alice")
    at = _page("pages/som.py")
    _selectbox(at, "Dataset").select(f"upload:{upload.id}").run()
    assert not at.exception
    assert _selectbox(at, "Label column (optional)").value == "species"  # suggested from its name
    next(w for w in at.number_input if w.label == "steps").set_value(20)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and not at.error
    runs = store.list_runs()
    assert len(runs) == 1 and runs[0].algorithm == "som" and runs[0].spec.dataset == "file"
    assert runs[0].spec.dataset_options["label"] == "species"
    assert runs[0].spec.dataset_options["features"] == ["sepal_length", "sepal_width", "petal_length"]
    assert at.query_params["run"] == runs[0].id


def test_clustering_on_your_data_remembers_the_preparation_that_train_then_starts_from(quiet, store):
    at = _page("pages/your_data.py")
    at.get("file_uploader")[0].set_value(("flowers.csv", labelled_table(), "text/csv"))
    at.run()
    _selectbox(at, "Scaling").select("robust").run()
    next(button for button in at.button if button.label == "Cluster").click().run()
    assert not at.exception and not at.error
    upload = store.list_uploads()[0]
    remembered = store.remembered_preparation(upload.id, "u-alice")
    assert remembered["scaling"] == "robust" and remembered["label"] == "species" and "path" not in remembered
    train = _page("pages/train.py")
    _selectbox(train, "Dataset").select(f"upload:{upload.id}").run()
    assert _selectbox(train, "Scaling").value == "robust"
