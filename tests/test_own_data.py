"""A user's file is a dataset like any other: image zips feed the generative models, labelled tables the
semi-supervised learner and the SOM, and the preparation an owner chose is remembered per upload."""

import numpy as np
import pytest

from tests.own_files import labelled_table, shapes_zip
from tests.test_every_algorithm import SMALL_CONFIGS, build, finite_step
from unsup_core.access import AccessDenied, Principal, check_spec_data
from unsup_core.algorithms import list_algorithms
from unsup_core.datasets import DatasetError, get_entry, load_dataset
from unsup_core.datasets.file_dataset import open_file
from unsup_core.datasets.prepare import suggested_label
from unsup_core.datasets.uploads import add_upload
from unsup_core.form_links import decode
from unsup_core.runs.spec import make_spec
from unsup_core.sample_quality import has_scorer
from unsup_core.settings import SharingSettings


@pytest.fixture
def uploaded(store):
    """Stores a file as an upload of ``owner``, returns its stored path."""
    def upload(data: bytes, name: str, owner: str = "u-alice") -> str:
        path, _ = add_upload(data, name)
        store.record_upload(path, owner)
        return str(path)
    return upload


@pytest.mark.parametrize("name", ["vae", "dcgan", "wgan_gp", "pixelcnn"])
@pytest.mark.parametrize("image_size,colour", [(16, "grey"), (28, "rgb")])
def test_generative_image_models_train_on_an_uploaded_zip(uploaded, name, image_size, colour):
    if name == "pixelcnn" and colour == "rgb":
        colour = "grey"  # it models one channel; the pages say so, and an RGB run fails with that message
    options = {"path": uploaded(shapes_zip(), "shapes.zip"), "image_size": image_size, "colour": colour}
    assert get_entry("file").kind_for(options) == "images"
    assert name in {cls.name for cls in list_algorithms(kind="images")}
    data = load_dataset("file", **options)
    channels = 3 if colour == "rgb" else 1
    assert data.images().shape[-2:] == (image_size, image_size) and data.n_features == channels * image_size**2
    algorithm = build(name, data)
    for _ in range(2):
        finite_step(algorithm)
    assert algorithm.snapshot()


def test_the_folders_of_an_image_zip_are_its_suggested_label(uploaded):
    path = uploaded(shapes_zip(), "shapes.zip")
    assert suggested_label(open_file({"path": path})) == "folder"
    data = load_dataset("file", path=path, label="folder", image_size=16)
    assert data.label_names == ["circle", "square"] and has_scorer(data)  # so its samples can be scored


def test_pixelcnn_refuses_colour_images_naming_the_fix(uploaded):
    data = load_dataset("file", path=uploaded(shapes_zip(), "shapes.zip"), image_size=16, colour="rgb")
    with pytest.raises(DatasetError, match="greyscale"):
        build("pixelcnn", data)


@pytest.mark.parametrize("name,config", [("semi_supervised", {"labels_per_class": 2}), ("som", {"rows": 4, "cols": 4}),
                                         ("outliers", {}), ("embedding", {})])
def test_table_models_use_the_label_column_of_an_uploaded_table(uploaded, name, config):
    options = {"path": uploaded(labelled_table(), "flowers.csv"), "label": "species",
               "features": ["sepal_length", "sepal_width", "petal_length"]}
    assert get_entry("file").kind_for(options) == "table"
    data = load_dataset("file", **options)
    assert data.label_names == ["setosa", "versicolor", "virginica"] and len(np.unique(data.y)) == 3
    cls = next(cls for cls in list_algorithms(kind="table") if cls.name == name)
    algorithm = cls(cls.build_config({**SMALL_CONFIGS.get(name, {}), **config}))
    algorithm.setup(data, device="cpu", seed=0)
    for _ in range(2):
        finite_step(algorithm)
    assert algorithm.snapshot()


def test_a_run_records_the_whole_preparation_and_only_visible_uploads_run(store, uploaded):
    path = uploaded(labelled_table(), "flowers.csv")
    spec = make_spec("som", "file", {"rows": 4, "cols": 4}, dataset_options={"path": path, "label": "species"})
    assert spec.dataset_options["path"] == path and spec.dataset_options["label"] == "species"
    assert {"features", "missing", "scaling", "one_hot", "image_size", "colour"} <= set(spec.dataset_options)
    shared = SharingSettings(shared=True, max_active_runs_per_user=0, max_upload_mb=50)
    check_spec_data(store, Principal("u-alice"), spec, shared)
    with pytest.raises(AccessDenied):
        check_spec_data(store, Principal("u-bob"), spec, shared)


def test_links_keep_refusing_files(uploaded):
    path = uploaded(labelled_table(), "flowers.csv")
    decoded = decode({"dataset": "file", "algorithm": "som", "data.path": path})
    assert decoded.link is None and "no built-in dataset" in decoded.problem


def test_the_preparation_is_remembered_per_upload_and_owner(store, uploaded):
    upload = store.upload_for_path(uploaded(labelled_table(), "flowers.csv"))
    assert store.remembered_preparation(upload.id, "u-alice") is None
    store.remember_preparation(upload.id, "u-alice", {"path": "/x", "features": ["sepal_width"], "scaling": "robust"})
    assert store.remembered_preparation(upload.id, "u-alice") == {"features": ["sepal_width"], "scaling": "robust"}
    assert store.remembered_preparation(upload.id, "u-bob") is None
    store.remember_preparation(upload.id, "u-alice", {"scaling": "minmax"})
    assert store.remembered_preparation(upload.id, "u-alice") == {"scaling": "minmax"}
