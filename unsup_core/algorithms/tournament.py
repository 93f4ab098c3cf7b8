"""The clustering tournament as a run: one round per preparation, stability, then every row assigned."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from unsup_core.algorithms import register
from unsup_core.algorithms.base import Algorithm
from unsup_core.algorithms.estimator_run import compact_labels
from unsup_core.analysis.tournament import K_MAX, SAMPLE_ROWS, Tournament
from unsup_core.config import param
from unsup_core.datasets import Dataset
from unsup_core.snapshots import TournamentSnapshot

LEADERBOARD_ROWS = 20


@dataclass
class TournamentConfig:
    k_max: int = param(K_MAX, low=2, high=20, step=1, help="Largest number of clusters a candidate may have.")
    sample_rows: int = param(SAMPLE_ROWS, low=200, high=20000, step=100,
                             help="Score on a random sample of at most this many rows; every row is assigned to "
                                  "the winner's clusters at the end.")


@register
class TournamentAlgorithm(Algorithm):
    name = "tournament"
    title = "Clustering tournament (choose for me)"
    family = "model selection"
    accepts = ("table", "points2d")
    view_family = "tournament"
    Config = TournamentConfig
    default_steps = 8
    summary = ("Clustering tournament: k-means, Gaussian mixtures, Ward, spectral and HDBSCAN for every k and "
               "preparation, scored without labels; recommends one.")
    explanation = r"""
Every candidate (algorithm $\times$ $k$ $\times$ preparation: standard or robust scaling, a log of
skewed positive columns, PCA whitening) is fitted and scored without labels: silhouette,
Davies-Bouldin, Calinski-Harabasz, the mixtures' BIC $-2\log L + p\log N$ and ICL (BIC plus twice the
entropy of the soft assignments), both in the units of the raw measurements, and the stability of
the front runners (mean ARI between the clustering and refits on bootstrap resamples).

**The rule** (chosen on a benchmark of labelled tables): a full Gaussian mixture with the best ICL
when it asks for at most 4 groups; otherwise the most compact (Calinski-Harabasz) partition whose
stability is at least 0.9. One cluster ("no structure") when BIC and ICL both prefer one Gaussian.

**What to look for:** the leaderboard shows how close the runners-up are; the flow chart shows
which groups split as $k$ grows: a group that splits cleanly is real structure, one that is shuffled
between clusters is a cut through a cloud.
"""

    def setup(self, data: Dataset, device: str = "cpu", seed: int = 0) -> None:
        self.data = data
        names = list(data.feature_names) or [f"x{j + 1}" for j in range(data.n_features)]
        # one-hot columns are named column=level: a log never touches them
        self.tournament = Tournament(data.X, names, k_max=self.config.k_max, seed=seed,
                                     sample_rows=self.config.sample_rows, loggable=["=" not in n for n in names])
        self.result = None
        self.row_cluster = None

    def step(self) -> dict[str, float]:
        if not self.tournament.finished:
            self.tournament.play_round()
        if self.tournament.finished:
            self.result = self.tournament.result()
            self.row_cluster = self.tournament.assign_all(self.result.recommendation)
            self.finished = True
        values = {"round": float(self.tournament.rounds_done), "candidates": float(len(self.tournament.candidates))}
        if self.result is not None:
            values["recommended_k"] = float(self.result.recommendation.k)
        return values

    def snapshot(self) -> dict[str, np.ndarray]:
        progress = {"rounds_done": np.array(self.tournament.rounds_done), "rounds": np.array(self.tournament.n_rounds)}
        if self.result is None:
            return TournamentSnapshot(**progress).as_arrays()
        summary = self.result.as_dict(top=LEADERBOARD_ROWS)
        moves = sorted(self.result.moves)
        return TournamentSnapshot(
            **progress, tournament_json=np.array(json.dumps(summary)), row_cluster=compact_labels(self.row_cluster),
            moves_k=np.array(moves, dtype=np.int16),
            moves_labels=np.stack([compact_labels(np.asarray(self.result.moves[k])) for k in moves]) if moves
            else np.zeros((0, 0), dtype=np.int16),
            true_labels=self.data.y[self.tournament.rows] if self.data.has_labels else None).as_arrays()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        """The tournament replays from the start: its rounds take seconds."""
