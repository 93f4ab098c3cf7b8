"""scikit-learn's bundled datasets (no network): digits as images, iris/wine/breast_cancer as tables."""

from __future__ import annotations

from unsup_core.datasets.base import Dataset


def _bundled(loader_name: str):
    # sklearn.datasets pulls in scipy (about 2 s), so import it only when one of these is loaded.
    import sklearn.datasets

    return getattr(sklearn.datasets, loader_name)()


def load_digits() -> Dataset:
    bunch = _bundled("load_digits")
    return Dataset(
        name="digits",
        kind="images",
        X=bunch.data / 16.0,
        y=bunch.target,
        feature_names=[f"px{i}" for i in range(64)],
        label_names=[str(d) for d in range(10)],
        image_shape=(8, 8),
        description="1,797 handwritten digits, 8x8 greyscale (UCI, bundled with scikit-learn).",
    )


def _table(name: str, loader_name: str, description: str) -> Dataset:
    bunch = _bundled(loader_name)
    return Dataset(
        name=name,
        kind="table",
        X=bunch.data,
        y=bunch.target,
        feature_names=list(bunch.feature_names),
        label_names=[str(n) for n in bunch.target_names],
        description=description,
    )


def load_iris() -> Dataset:
    return _table("iris", "load_iris", "150 iris flowers, 4 measurements, 3 species.")


def load_wine() -> Dataset:
    return _table("wine", "load_wine", "178 wines, 13 chemical measurements, 3 cultivars.")


def load_breast_cancer() -> Dataset:
    return _table("breast_cancer", "load_breast_cancer",
                  "569 tumour biopsies, 30 cell-nucleus features, benign or malignant.")
