"""The training protocol every algorithm follows, so one worker loop can run them all.

A run calls ``setup(data, device, seed)`` once, then ``step()`` repeatedly (one iteration or a short
chunk of work, returning scalars to log), ``snapshot()`` now and then (arrays the live views draw),
and ``state_dict()`` / ``load_state_dict()`` for checkpoints. An algorithm that converges early sets
``finished``.

Some hyperparameters may change while a run trains (a learning rate, each network's in a GAN): an
algorithm lists them in ``adjustables`` and :meth:`Algorithm.adjust` applies one between two steps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from unsup_core import config as config_lib
from unsup_core.datasets import Dataset, DatasetError

Scalar = Any  # a float, or a 0-d torch tensor that the worker converts in batches (no per-step sync)


@dataclass(frozen=True)
class Adjustable:
    """A hyperparameter that may change between two steps of a running run.

    ``name`` is how it is logged and set (``set RUN_ID lr=0.001``); its allowed values are those of
    the Config field ``field`` (its ``param()`` range); ``optimizer`` names the attribute holding the
    torch optimizer whose learning rate it is (None: the algorithm overrides :meth:`Algorithm.adjust`).
    """

    name: str
    field: str
    label: str
    optimizer: str | None = None


class Algorithm(ABC):
    """Base class: subclasses set the class attributes and implement the protocol methods."""

    name: ClassVar[str]
    title: ClassVar[str] = ""  # a readable name for menus ("Variational autoencoder (VAE)")
    family: ClassVar[str]  # "clustering", "generative", "som", "embedding", ...
    accepts: ClassVar[tuple[str, ...]]  # dataset kinds: "images", "table", "points2d"
    Config: ClassVar[type]
    default_steps: ClassVar[int] = 1000
    summary: ClassVar[str] = ""  # one sentence for menus
    explanation: ClassVar[str] = ""  # markdown: what it does, the loss it optimises, what to look for
    # True when snapshots carry ``row_cluster`` (an int cluster per sample, -1 for noise): the
    # "Your data" page then offers the algorithm for clustering (a SOM can join by setting it).
    assigns_clusters: ClassVar[bool] = False
    # Rows it can take at most (methods whose memory grows with N^2); None: no limit.
    max_samples: ClassVar[int | None] = None
    # Hyperparameters a user may change while it trains (pause, change, step on): see Adjustable.
    adjustables: ClassVar[tuple[Adjustable, ...]] = ()
    # The family of live views that draws its runs ("clustering", "som", "vae", ...): unsup_core.viz
    # registers one builder per family. "curves": its metric curves only.
    view_family: ClassVar[str] = "curves"
    # Interactive sections the run page adds below the live views ("som_tools", "threshold_explorer"):
    # pages register one renderer per section name.
    page_sections: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any = None) -> None:
        self.config = config if config is not None else self.Config()
        self.finished = False
        # The run's step budget, set by whoever runs it before ``setup`` (None: not known). Algorithms
        # whose schedules span the whole run (a SOM's shrinking neighbourhood) plan with it.
        self.planned_steps: int | None = None

    @classmethod
    def build_config(cls, overrides: dict | None = None) -> Any:
        return config_lib.build(cls.Config, overrides)

    @classmethod
    def describe(cls) -> dict:
        return {
            "name": cls.name,
            "title": cls.title or cls.name,
            "family": cls.family,
            "accepts": list(cls.accepts),
            "default_steps": cls.default_steps,
            "summary": cls.summary,
            "explanation": cls.explanation,
            "config": [spec.as_dict() for spec in config_lib.describe(cls.Config)],
        }

    def row_counts(self) -> dict[str, int]:
        """Config values that count rows (neighbours, a smallest cluster): each needs that many rows."""
        return {}

    def check_row_counts(self, data: Dataset) -> None:
        """One sentence instead of scikit-learn's error when the table is smaller than a count asks for."""
        for field, count in self.row_counts().items():
            if count > data.n_samples:
                raise DatasetError(f"{self.name}: {field}={count} needs at least {count} rows and this data has "
                                   f"{data.n_samples:,}: set {field} to at most {data.n_samples:,}")

    @abstractmethod
    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        """Prepare data and models on ``device``; called once before the first step."""

    @abstractmethod
    def step(self) -> dict[str, Scalar]:
        """Do one unit of training and return the scalars to log for it."""

    @abstractmethod
    def snapshot(self) -> dict[str, np.ndarray]:
        """Arrays the live views draw (kept small: subsample large data)."""

    @abstractmethod
    def state_dict(self) -> dict:
        """Everything needed to continue training; tensors and plain Python values only."""

    @abstractmethod
    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (after ``setup`` with the same data)."""

    def adjust(self, name: str, value: float) -> None:
        """Use ``value`` for the adjustable ``name`` from the next step on (it goes into checkpoints too).

        The default sets the learning rate of every parameter group of the named optimizer; torch
        keeps it in ``optimizer.state_dict()``, so a resumed run continues with it.
        """
        adjustable = next((a for a in self.adjustables if a.name == name), None)
        if adjustable is None or adjustable.optimizer is None:
            raise KeyError(f"{self.name} cannot change {name!r} while it trains")
        for group in getattr(self, adjustable.optimizer).param_groups:
            group["lr"] = float(value)
