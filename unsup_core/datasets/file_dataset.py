"""The ``file`` dataset: a user's file plus its preparation, as registry options a run can repeat.

    load_dataset("file", path=".../survey.csv", features=["age", "income"], label="segment",
                 scaling="robust")

The options are the stored file's path and the :class:`Preparation` fields (and, for image zips,
the image size and colour mode). Whether the data is a table or images comes from the file.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from unsup_core.datasets.base import Dataset, DatasetError

if TYPE_CHECKING:
    from unsup_core.datasets.prepare import Preparation
    from unsup_core.datasets.report import LoadedFile

# The readers need pandas (0.4 s to import), so they are imported when a file is first opened:
# listing datasets or running on a built-in one does not pay for them.

FILE_OPTIONS = {"path": "", "features": [], "label": "", "missing": "median", "scaling": "standard",
                "one_hot": True, "log_columns": [], "max_rows": 0, "image_size": 0, "colour": "auto", "whiten": False}
COLOUR_CHOICES = ("auto", "grey", "rgb")
# Ranges or choices of the options whose values decide memory (the column names are checked against the
# file by check_preparation). Image sizes: 0 picks one from the images.
FILE_OPTION_LIMITS = {"max_rows": {"low": 0, "high": 100_000_000}, "image_size": {"choices": (0, 16, 28, 32, 64)},
                      "colour": {"choices": COLOUR_CHOICES}}
_PREPARATION_KEYS = ("features", "label", "missing", "scaling", "one_hot", "log_columns", "max_rows", "whiten")


def preparation_from(options: dict) -> Preparation:
    from unsup_core.datasets.prepare import Preparation

    values = {**FILE_OPTIONS, **options}
    return Preparation(**{key: tuple(values[key]) if isinstance(values[key], list) else values[key]
                          for key in _PREPARATION_KEYS})


@functools.lru_cache(maxsize=2)
def _load_stored(path: str, image_size: int, colour: str) -> LoadedFile:
    from unsup_core.datasets.uploads import load_file

    return load_file(path, image_size=image_size, colour=colour)


def open_file(options: dict) -> LoadedFile:
    """The stored upload named by ``options['path']`` (kept in memory: stored uploads never change).

    Only files in the lab's own uploads are read: a path from a form, a link or an imported archive
    must never open another file on the server.
    """
    from unsup_core.datasets.uploads import is_stored

    path, image_size, colour = options.get("path", ""), options.get("image_size", 0), options.get("colour", "auto")
    if not path:
        raise DatasetError("the file dataset needs a path option (the file to read)")
    if not is_stored(Path(path)):
        raise DatasetError("the file dataset reads only files stored in the lab: upload the file on the Your data "
                           "page, or give it to `python -m unsup_core run --dataset FILE`")
    return _load_stored(str(Path(path).resolve()), image_size, colour)


def file_kind(options: dict) -> str:
    """Check the options against the file (columns exist and fit their role); the kind the file gives."""
    from unsup_core.datasets.prepare import check_preparation

    loaded = open_file(options)
    check_preparation(loaded, preparation_from(options))
    return loaded.kind


def load_file_dataset(**options) -> Dataset:
    return prepare_file(options)[0]


def prepare_file(options: dict) -> tuple[Dataset, list[str]]:
    """The dataset these options give, and the notes on what the preparation did (rows dropped...)."""
    from unsup_core.datasets.prepare import prepare

    loaded = open_file(options)
    prepared = prepare(loaded, preparation_from(options))
    name = Path(options["path"]).name
    description = f"{name}: {len(prepared.source_rows):,} rows" + (
        f", features {', '.join(prepared.features)}" if prepared.features else "")
    dataset = Dataset(
        name=name, kind=loaded.kind, X=prepared.X, y=prepared.y, feature_names=prepared.feature_names,
        label_names=prepared.label_names, image_shape=prepared.image_shape, description=description,
        source_rows=prepared.source_rows, preprocessed=True,
    )
    return dataset, prepared.notes
