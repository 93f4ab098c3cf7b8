"""Replay the tournament's rule, and the alternatives tried, on recorded evidence; with leave-one-table-out.

`python bench/model_selection.py --seeds 0,1,2 --evidence evidence.json` records every candidate's
label-free scores and its ARI (stability measured for all of them); this script rebuilds the
candidates, keeps stability only where the live tournament measures it (its finalists), and asks
each rule for its winner. No fitting happens here, so a rule is judged on all tables in seconds.

Leave-one-table-out: each table is scored by the rule that does best on the other tables of its
suite, so choosing among rules by this benchmark is itself measured (an honest rule choice scores
no worse held out than fitted).

    python bench/model_selection_replay.py evidence.json [more.json ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from unsup_core.analysis import tournament_rule as rule
from unsup_core.analysis.tournament import STABILITY_FINALISTS, Candidate, Recipe, mixture_parameters


def recipe_from_name(name: str) -> Recipe:
    """Inverse of Recipe.name: "log + robust + whitened" -> Recipe("robust", log=True, whiten=True)."""
    parts = name.split(" + ")
    scaling = next(part for part in parts if part not in ("log", "whitened"))
    return Recipe(scaling, log="log" in parts, whiten="whitened" in parts)


def candidates(entry: dict) -> tuple[list[Candidate], dict[int, float]]:
    """The tournament's candidates as recorded (labels stand in by their length), and each one's ARI by id."""
    rebuilt, ari = [], {}
    for recorded in entry["candidates"]:
        covariance = recorded["config"].get("covariance_type")
        candidate = Candidate(recorded["algorithm"], recorded["k"], recipe_from_name(recorded["preparation"]),
                              recorded["config"], np.zeros(entry["rows"]), dict(recorded["scores"]),
                              mixture_parameters(covariance, recorded["k"], entry["dimensions"]) if covariance else 0)
        rebuilt.append(candidate)
        ari[id(candidate)] = recorded["ari"]
    measured = {id(c) for c in rule.finalists(rebuilt, STABILITY_FINALISTS)}
    for candidate in rebuilt:  # the evidence run measured every candidate; the live one only its finalists
        if id(candidate) not in measured:
            candidate.scores.pop("stability", None)
    return rebuilt, ari


# -- the alternatives tried on 2026-12-03 (bench/README.md has the numbers) ---------------------------
def live(found: list[Candidate]) -> Candidate:
    return rule.recommend(found)[0]


def without_log(found: list[Candidate]) -> Candidate:
    """No log preparation: sign(x) log(1 + |x|) depends on the columns' units, the raw columns do not."""
    return rule.recommend([c for c in found if not c.recipe.log])[0]


def by_bic(found: list[Candidate]) -> Candidate:
    """The mixtures' BIC instead of their ICL decides k."""
    copies = {id(c): Candidate(c.algorithm, c.k, c.recipe, c.config, c.labels,
                               {**c.scores, "icl": c.scores["bic"]} if "bic" in c.scores else c.scores, c.parameters)
              for c in found}
    winner = rule.recommend(list(copies.values()))[0]
    return next(c for c in found if copies[id(c)] is winner)


def fallback_in_chosen_transform(found: list[Candidate]) -> Candidate:
    """When the fallback decides, only partitions on the transform (log or not) of the best-BIC mixture
    compete: Calinski-Harabasz values on log and on raw columns are not on one scale."""
    mixtures, _ = rule.mixture_family(found)
    if not mixtures:
        return live(found)
    by_icl = min(mixtures, key=lambda c: c.scores["icl"])
    by_bic = min(mixtures, key=lambda c: c.scores["bic"])
    if by_icl.k <= rule.ACCEPT_K and (by_icl.k > 1 or by_bic.k == 1):
        return live(found)
    partitions = [c for c in found if c.k > 1 and c.recipe.log == by_bic.recipe.log]
    stable = [c for c in partitions if rule._score(c, "stability", 0.0) >= rule.STABLE] or partitions
    return max(stable, key=lambda c: rule._score(c, "calinski_harabasz", -np.inf))


def best_fit_per_k(found: list[Candidate]) -> Candidate:
    """Full and tied mixtures are affine-equivariant, so the standard, robust and whitened fits of one k are
    EM restarts of one model: keep the best likelihood (BIC) of each k and log choice, then apply the rule."""
    mixtures, family = rule.mixture_family(found)
    best: dict[tuple[int, bool], Candidate] = {}
    for candidate in mixtures:
        key = (candidate.k, candidate.recipe.log)
        if key not in best or candidate.scores["bic"] < best[key].scores["bic"]:
            best[key] = candidate
    kept = {id(c) for c in best.values()}
    return rule.recommend([c for c in found if c.config.get("covariance_type") != family or id(c) in kept])[0]


def rank_sum(found: list[Candidate]) -> Candidate:
    """Borda count: every partition (k >= 2) ranked by silhouette, Calinski-Harabasz, Davies-Bouldin and,
    where measured, stability; the lowest rank sum wins. "No structure" stays the live rule's call."""
    chosen = live(found)
    if chosen.k == 1:
        return chosen
    partitions = [c for c in found if c.k > 1]
    criteria = (("silhouette", 1), ("calinski_harabasz", 1), ("davies_bouldin", -1), ("stability", 1))
    rank_sums = np.zeros(len(partitions))
    for name, sign in criteria:
        values = np.array([sign * rule._score(c, name, -np.inf if sign > 0 else np.inf) for c in partitions])
        rank_sums += np.argsort(np.argsort(-values, kind="stable"), kind="stable")
    return partitions[int(np.argmin(rank_sums))]


RULES = {"live": live, "no log preparation": without_log, "BIC decides k": by_bic,
         "fallback within the best-BIC transform": fallback_in_chosen_transform,
         "best fit per k (preparations as restarts)": best_fit_per_k,
         "rank sum of the four label-free scores": rank_sum}


def table_aris(evidence: list[dict]) -> dict[str, dict[str, float]]:
    """rule -> table -> ARI of its winner, averaged over the recorded seeds."""
    per_rule: dict[str, dict[str, list[float]]] = {name: {} for name in RULES}
    for entry in evidence:
        found, ari = candidates(entry)
        for name, choose in RULES.items():
            winner = choose(found)
            per_rule[name].setdefault(entry["table"], []).append(ari[id(winner)])
    return {name: {table: float(np.mean(values)) for table, values in tables.items()}
            for name, tables in per_rule.items()}


def leave_one_table_out(aris: dict[str, dict[str, float]], tables: list[str]) -> float:
    """Mean ARI when each table is scored by the rule with the best mean on the others (ties: the live rule)."""
    held_out = []
    for table in tables:
        others = [t for t in tables if t != table]
        chosen = max(aris, key=lambda name: (np.mean([aris[name][t] for t in others]), name == "live"))
        held_out.append(aris[chosen][table])
    return float(np.mean(held_out))


def main() -> None:
    import model_selection as bench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evidence", nargs="+", help="JSON files written by model_selection.py --evidence")
    args = parser.parse_args()
    evidence = [entry for path in args.evidence for entry in json.loads(Path(path).read_text())]
    aris = table_aris(evidence)
    recorded = set(next(iter(aris.values())))
    suites = {"real": list(bench.REAL_TABLES), "added": list(bench.ADDED_TABLES),
              "real + added": [*bench.REAL_TABLES, *bench.ADDED_TABLES], "generated": bench.GENERATED_TABLES,
              "issue's profile": bench.ISSUE_PROFILE}
    suites = {name: [t for t in tables if t in recorded] for name, tables in suites.items()}
    suites = {name: tables for name, tables in suites.items() if tables}
    print(f"{'rule':<44}" + "".join(f"{f'{name} ({len(tables)})':>20}" for name, tables in suites.items()))
    for name, by_table in aris.items():
        print(f"{name:<44}" + "".join(f"{np.mean([by_table[t] for t in tables]):>20.3f}" for tables in suites.values()))
    print(f"{'leave-one-table-out over these rules':<44}"
          + "".join(f"{leave_one_table_out(aris, tables):>20.3f}" if len(tables) > 1 else f"{'-':>20}"
                    for tables in suites.values()))


if __name__ == "__main__":
    main()
