"""The in-memory dataset every algorithm consumes, and the registry entry that produces one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from unsup_core.config import FieldSpec
from unsup_core.errors import UserError

DatasetKind = Literal["images", "table", "points2d"]
KINDS: tuple[str, ...] = ("images", "table", "points2d")


class DatasetError(UserError):
    """A dataset cannot be found or loaded; the message tells the user what to do."""


@dataclass
class Dataset:
    """Samples as a float32 matrix ``X`` of shape [N, D] plus what views need to draw them.

    Images are stored flattened with values in [0, 1]; ``image_shape`` is (H, W) or (C, H, W).
    ``y`` holds optional integer labels, used only for colouring and external scores (ARI/NMI).
    A dataset made from a user's file has ``source_rows`` (each sample's row in the file) and is
    ``preprocessed``: its features are already scaled as the user chose, so algorithms leave them.
    """

    name: str
    kind: DatasetKind
    X: np.ndarray
    y: np.ndarray | None = None
    feature_names: list[str] = field(default_factory=list)
    label_names: list[str] | None = None
    image_shape: tuple[int, ...] | None = None
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    description: str = ""
    source_rows: np.ndarray | None = None
    preprocessed: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        if self.X.ndim != 2:
            raise ValueError(f"X must be 2-D [N, D], got shape {self.X.shape}")
        if self.y is not None:
            self.y = np.asarray(self.y)
            if len(self.y) != len(self.X):
                raise ValueError("y must have one label per row of X")
        if not self.feature_names:
            self.feature_names = [f"x{i}" for i in range(self.X.shape[1])]
        if self.kind == "images":
            if self.image_shape is None or int(np.prod(self.image_shape)) != self.X.shape[1]:
                raise ValueError("image datasets need an image_shape matching the number of features")

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def has_labels(self) -> bool:
        return self.y is not None

    def images(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        """Samples reshaped to images, [N, H, W] or [N, C, H, W]."""
        rows = self.X if index is None else self.X[index]
        return rows.reshape((-1, *self.image_shape))


_TYPE_NAMES = {bool: "bool", int: "int", float: "float"}


@dataclass(frozen=True)
class Option:
    """A loader option: its default and the values a user may give it (an inclusive range, or choices).

    Every option of a built-in dataset is bounded, because its values decide how much memory the
    server spends building the data. ``local_only`` options name server paths or make the server
    download, so a shared server refuses them.
    """

    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    help: str = ""
    local_only: bool = False

    def field(self, name: str) -> FieldSpec:
        """This option as a config field, so forms and validation treat it like an algorithm's."""
        kind = "list" if isinstance(self.default, list) else _TYPE_NAMES.get(type(self.default), "str")
        return FieldSpec(name, kind, self.default, self.low, self.high, None, self.choices, False, self.help)


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: static metadata for listings and a loader that builds it on demand.

    ``n_samples``/``n_features`` may be ``None`` when they depend on files the user provides. Such an
    entry is not ``listed`` among the built-ins. ``check_options`` validates the options against the
    files they name (at submit, before any process starts) and returns the kind of data they give.
    ``fetch`` does what the options ask before loading (a download); only a run's worker calls it, so
    loading for a preview never writes anything.
    """

    name: str
    kind: DatasetKind
    loader: Callable[..., Dataset]
    description: str
    n_samples: int | None
    n_features: int | None
    has_labels: bool
    options: dict[str, Option] = field(default_factory=dict)  # passed to the loader by name
    check_options: Callable[[dict], str] | None = None
    listed: bool = True
    fetch: Callable[..., None] | None = None

    @property
    def defaults(self) -> dict[str, Any]:
        return {name: option.default for name, option in self.options.items()}

    def fields(self, *, shared: bool = False) -> list[FieldSpec]:
        """The options a user may set, as config fields; a shared server leaves out the local-only ones."""
        return [option.field(name) for name, option in self.options.items() if not (shared and option.local_only)]

    def kind_for(self, options: dict) -> str:
        """The kind of data these options give (raises a UserError when they cannot work)."""
        return self.kind if self.check_options is None else self.check_options(options)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "has_labels": self.has_labels,
            "description": self.description,
            "options": self.defaults,
            "option_fields": [spec.as_dict() for spec in self.fields()],
        }
