"""The tournament on a user's table: default features, the raw measurements, and the run that repeats the winner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unsup_core.analysis.tournament import Tournament, TournamentResult

# The preparation the tournament reads its raw measurements with; it tries its own preparations.
RAW_PREPARATION = {"scaling": "none", "log_columns": [], "whiten": False, "missing": "median", "one_hot": True}


def tournament_options(options: dict, features: list[str]) -> dict:
    """The file dataset options a tournament run reads: the chosen features, unscaled, imputed."""
    return {**options, **RAW_PREPARATION, "features": list(features)}


def loggable_columns(feature_names: list[str], features: list[str]) -> list[bool]:
    """Which columns of the prepared matrix are measurements (one-hot columns are named column=level)."""
    return [name in features for name in feature_names]


def recommended_options(result: TournamentResult, options: dict) -> dict:
    """The dataset options of a run that repeats the recommendation on the same file."""
    return {**options, **result.dataset_options}


@dataclass
class TableOutcome:
    """A tournament on a file: the result, each prepared row's source row, and the winner's label per row."""

    result: TournamentResult
    options: dict  # the recommendation's dataset options, for a run
    rows: np.ndarray  # source rows of the prepared data
    result_rows: np.ndarray  # positions (into rows) that were scored
    labels: np.ndarray  # the winner's cluster for every prepared row


def tournament_for_file(path: str | Path, label: str = "", seed: int = 0, **settings) -> TableOutcome:
    """Read a file as the lab does, choose its default features, play the tournament, label every row."""
    from unsup_core.datasets.files import read_file
    from unsup_core.datasets.prepare import Preparation, default_features, prepare

    loaded = read_file(path)
    features = default_features(loaded, label)
    prepared = prepare(loaded, Preparation(features=tuple(features), label=label, scaling="none"))
    tournament = Tournament(prepared.X, prepared.feature_names, seed=seed,
                            loggable=loggable_columns(prepared.feature_names, features), **settings)
    result = tournament.play()
    options = recommended_options(result, {"features": features, "label": label})
    return TableOutcome(result, options, prepared.source_rows, tournament.rows,
                        tournament.assign_all(result.recommendation))
