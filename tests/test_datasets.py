import gzip
import struct

import numpy as np
import pytest

from unsup_core.datasets import DatasetError, get_entry, list_datasets, load_dataset
from unsup_core.datasets.idx import load_idx_dataset, missing_files_message, read_idx

BUILT_IN = [e.name for e in list_datasets() if e.name not in ("mnist", "fashion_mnist")]


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_dataset_matches_its_registry_entry(name):
    entry = get_entry(name)
    data = load_dataset(name)
    assert data.kind == entry.kind
    assert data.X.shape == (entry.n_samples, entry.n_features)
    assert data.X.dtype == np.float32 and np.isfinite(data.X).all()
    assert data.has_labels == entry.has_labels
    if data.kind == "images":
        assert 0.0 <= data.X.min() and data.X.max() <= 1.0
        assert data.images().shape[0] == entry.n_samples
    if data.kind == "points2d":
        assert data.n_features == 2


def test_generated_sets_are_deterministic_by_seed():
    for name in ("moons", "ring8", "shapes"):
        options = {"n_samples": 200}
        same = load_dataset(name, seed=3, **options), load_dataset(name, seed=3, **options)
        other = load_dataset(name, seed=4, **options)
        assert np.array_equal(same[0].X, same[1].X)
        assert not np.array_equal(same[0].X, other.X)


def test_ring8_has_eight_modes_on_the_circle():
    data = load_dataset("ring8")
    radius = np.linalg.norm(data.X, axis=1)
    assert np.allclose(radius, 2.0, atol=0.3)
    assert set(np.unique(data.y)) == set(range(8))


def test_shapes_images_follow_their_factors():
    data = load_dataset("shapes", n_samples=600, seed=1)
    area = data.X.sum(axis=1)
    scale = data.factors["scale"]
    for shape in range(3):
        mask = data.y == shape
        # Drawn area grows with scale^2 for every shape.
        assert np.corrcoef(area[mask], scale[mask] ** 2)[0, 1] > 0.98
    # The centre of mass follows the x factor (columns grow to the right).
    images = data.images()
    columns = np.arange(28)
    centre_x = (images.sum(axis=1) * columns).sum(axis=1) / images.sum(axis=(1, 2))
    assert np.corrcoef(centre_x, data.factors["x"])[0, 1] > 0.95
    assert set(data.factors) == {"shape", "scale", "rotation", "x", "y"}


def test_unknown_dataset_and_option_give_clear_errors():
    with pytest.raises(DatasetError, match="unknown dataset 'nope'; available: digits"):
        load_dataset("nope")
    with pytest.raises(ValueError, match="has no option 'colour'"):
        load_dataset("moons", colour="red")


def _write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_loader_reads_idx_files_the_test_writes(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (20, 28, 28))
    labels = rng.integers(0, 10, 20)
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, compress)
    data = load_idx_dataset("mnist", path=str(tmp_path))
    assert data.X.shape == (20, 784) and data.image_shape == (28, 28)
    assert np.allclose(data.X * 255, images.reshape(20, -1))
    assert np.array_equal(data.y, labels)
    assert load_dataset("fashion_mnist", path=str(tmp_path), limit=5).label_names[0] == "T-shirt/top"
    assert missing_files_message("mnist", tmp_path) is None


def test_idx_reader_refuses_corrupt_files(tmp_path):
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(DatasetError, match="not an IDX file"):
        read_idx(bad_magic)
    truncated = tmp_path / "short"
    truncated.write_bytes(struct.pack(">BBBBi", 0, 0, 8, 1, 100) + b"\x00" * 10)
    with pytest.raises(DatasetError, match="header says 100 values but the file holds 10"):
        read_idx(truncated)


def test_missing_mnist_tells_the_user_where_to_put_files(tmp_path):
    with pytest.raises(DatasetError, match=r"mnist needs train-images-idx3-ubyte\(\.gz\).*copy them there"):
        load_idx_dataset("mnist", path=str(tmp_path / "empty"))
