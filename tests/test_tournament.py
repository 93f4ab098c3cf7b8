"""The clustering tournament: no structure on noise, k = 3 on tilted groups, its outputs, default features."""

import numpy as np
import pandas as pd
import pytest

from unsup_core.analysis.tournament import Tournament, run_tournament
from unsup_core.analysis.tournament_table import tournament_for_file
from unsup_core.datasets.files import read_file
from unsup_core.datasets.prepare import default_features, feature_choices
from unsup_core.viz.tournament_views import leaderboard_rows, membership_sankey


def elongated_groups(rng, n_per_group=120):
    """Three elongated, correlated groups side by side: k-means cuts them across, a full mixture does not."""
    shape = np.array([[3.0, 0, 0, 0], [2.4, 0.5, 0, 0], [0, 0, 1.0, 0], [0, 0, 0.3, 0.8]])
    centres = np.array([[0, 0, 0, 0], [0, 4.0, 1.0, 0], [0, 8.0, 0, 1.0]])
    return np.concatenate([rng.normal(size=(n_per_group, 4)) @ shape + centre for centre in centres])


def test_pure_noise_is_one_cluster_and_says_no_structure():
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4))
    result = run_tournament(noise, ["a", "b", "c", "d"], k_max=5)
    assert result.recommendation.k == 1
    summary = result.as_dict()
    assert summary["recommendation"]["no_structure"] and result.reason.startswith("No structure")


def test_three_elongated_groups_beside_a_distracting_category_give_k_3(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame(elongated_groups(rng), columns=["w", "x", "y", "z"])
    table["colour"] = rng.choice(["red", "green", "blue"], len(table))  # says nothing about the groups
    table["group"] = np.repeat(["a", "b", "c"], 120)
    path = tmp_path / "tilted.csv"
    table.to_csv(path, index=False)
    outcome = tournament_for_file(path, label="group", k_max=5)
    assert outcome.result.features == ["w", "x", "y", "z"]
    assert outcome.result.recommendation.k == 3
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(np.repeat([0, 1, 2], 120), outcome.labels) > 0.9


def test_leaderboard_and_recommendation_carry_what_a_run_needs():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, (80, 3)), rng.normal(6, 1, (80, 3))])
    tournament = Tournament(X, ["a", "b", "c"], k_max=4)
    rounds = []
    result = tournament.play(on_round=lambda done, what: rounds.append(what))
    assert len(rounds) == tournament.n_rounds and rounds[-1] == "stability of the finalists"
    summary = result.as_dict(top=5)
    assert len(summary["leaderboard"]) == 5 and summary["candidates"] > 50
    first = summary["leaderboard"][0]
    assert first["title"] == summary["recommendation"]["title"] and {"silhouette", "calinski_harabasz"} <= set(
        first["scores"])
    recommendation = summary["recommendation"]
    assert recommendation["k"] == 2 and recommendation["algorithm"] in ("kmeans", "gmm", "agglomerative", "spectral",
                                                                       "hdbscan")
    assert set(recommendation["dataset_options"]) >= {"scaling", "log_columns", "whiten"}
    assert [k for k in sorted(result.moves) if k > 1] == [2, 3, 4] and all(len(labels) == 160 for labels in result.moves.values())


def test_large_tables_are_scored_on_a_sample_and_every_row_is_assigned():
    rng = np.random.default_rng(2)
    X = np.concatenate([rng.normal(0, 1, (3000, 2)), rng.normal(8, 1, (3000, 2))])
    tournament = Tournament(X, ["a", "b"], k_max=3, sample_rows=500)
    result = tournament.play()
    labels = tournament.assign_all(result.recommendation)
    assert result.n_scored == 500 and len(labels) == 6000
    assert len(np.unique(labels[:3000])) == 1 and labels[0] != labels[-1]


def test_default_features_leave_out_ids_years_codes_and_constants_with_a_reason(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    table = pd.DataFrame({"sample_id": rng.permutation(np.arange(5000, 5000 + n)), "row": np.arange(1, n + 1),
                          "length": rng.normal(10, 2, n), "width": rng.normal(5, 1, n),
                          "year": rng.integers(2001, 2006, n), "smoker": rng.integers(0, 2, n),
                          "batch": np.ones(n), "site": rng.choice(["a", "b"], n), "species": rng.choice(["p", "q"], n)})
    path = tmp_path / "plants.csv"
    table.to_csv(path, index=False)
    loaded = read_file(path)
    assert default_features(loaded, "species") == ["length", "width"]
    reasons = {choice.name: choice.reason for choice in feature_choices(loaded, "species")}
    assert "id" in reasons["sample_id"] and "row number" in reasons["row"]
    assert "year" in reasons["year"] and "integer codes" in reasons["smoker"] and "constant" in reasons["batch"]
    assert "categorical" in reasons["site"] and "label" in reasons["species"]
    assert all(len(reason.splitlines()) == 1 for reason in reasons.values())


def test_default_features_keep_acids_and_drop_row_counters_restarted_per_group(tmp_path):
    """Real tables: "malic_acid" ends in "id" but is a measurement; a counter 1..50 per group is a row number."""
    rng = np.random.default_rng(1)
    n = 200
    table = pd.DataFrame({"index": np.tile(np.arange(1, 51), 4), "patientid": rng.permutation(np.arange(n)) + 7,
                          "malic_acid": rng.gamma(2.0, 1.0, n).round(2), "lipid": rng.normal(3, 1, n).round(1),
                          "width": rng.normal(5, 1, n), "group": np.repeat(list("abcd"), 50)})
    path = tmp_path / "chemistry.csv"
    table.to_csv(path, index=False)
    loaded = read_file(path)
    assert default_features(loaded, "group") == ["malic_acid", "lipid", "width"]
    reasons = {choice.name: choice.reason for choice in feature_choices(loaded, "group")}
    assert "row number" in reasons["index"] and "id" in reasons["patientid"]


def test_membership_sankey_links_every_row_between_consecutive_k():
    labels = {2: np.array([0, 0, 1, 1]), 3: np.array([0, 2, 1, 1])}
    figure = membership_sankey(labels, "moves", highlight_k=3)
    sankey = figure.data[0]
    assert len(sankey.node.label) == 5 and sum(sankey.link.value) == 4
    rows = leaderboard_rows({"leaderboard": [{"title": "k-means, k = 2, standard", "scores": {"silhouette": 0.5}}]})
    assert rows[0]["silhouette"] == 0.5 and rows[0]["ICL"] is None
