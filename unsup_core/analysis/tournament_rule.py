"""How the tournament's label-free scores become one recommendation: the rule and the evidence for it.

Evidence (bench/model_selection.py, 13 real labelled tables with distractor columns plus 6 generated
ones, every candidate scored and its ARI measured; bench/README.md has the numbers):

- The silhouette alone (the old "choose k") prefers k = 2 nearly everywhere: mean ARI 0.30 on the
  real tables. Davies-Bouldin does the same (0.30); Calinski-Harabasz alone 0.46.
- A full Gaussian mixture chosen by BIC/ICL on raw-unit likelihoods wins where groups are
  elliptical (penguins 0.95, athletes 0.90, crabs 0.41-0.82, every generated Gaussian set 1.00) and
  says "one cluster" on pure noise, but on tables whose groups are not Gaussian (integer scores,
  skewed chemistry) it covers each group with several components and picks k = 5..8 (biopsy 0.36
  where k-means k = 2 reaches 0.87).
- Stability alone prefers k = 2 (0.47); as a filter on the mixtures it hurts, because EM refits
  on resamples disagree even when the chosen model is right.
- Combined: take the mixture's choice when it is a small k (at most ACCEPT_K), otherwise fall back
  to the most compact partition among those that survive resampling (Calinski-Harabasz among
  candidates with stability >= STABLE): mean ARI 0.50 on the real tables, above k-means (0.46),
  a full mixture (0.50 on the expert's features) and Ward (0.45) given the true k; the grid over
  ACCEPT_K in 3..6, STABLE in 0.7..0.9 and silhouette vs Calinski-Harabasz as the fallback put these
  values on top (with 4 resamples per finalist the benchmark run gives 0.47).
- Which mixtures decide k: a full mixture of two components in d dimensions has d(d+3)+1 free
  parameters; on wine (13 columns, 178 rows: 209 parameters) it is not estimable and its ICL picks
  k = 2 (ARI 0.46). Where the rows do not cover that count (ROWS_PER_PARAMETER = 1, the bound below
  which the fit is underdetermined, set before looking; 1.5-3 would also move athletes to tied
  mixtures, 0.90 -> 0.85), mixtures with one shared (tied) covariance decide instead: wine
  0.81-0.91 over three seeds, no other table of the benchmark changed. Mean ARI on the 13 real
  tables over seeds 0, 1, 2: 0.506 (replaying every candidate's scores: 0.500, against 0.479 for the
  same rule with full mixtures only). Tied mixtures everywhere would win iris and diabetes (k = 3-4)
  but lose penguins, crabs and breast cancer (0.48-0.49 on seed 0); choosing full or tied by BIC
  picks full k = 2 on iris (mclust's known answer) and tied k = 4 on penguins.
- Tried and left out: a tolerance preferring the largest k whose BIC is within 0.05 x rows of the
  best (iris 0.90, but fitted to one table); cutting a BIC-weighted co-association of all
  mixtures (0.38-0.45); requiring the preparations to agree on k (breaks the anisotropic blobs);
  three EM restarts per mixture (0.491 over three seeds, slower). A grid over ROWS_PER_PARAMETER,
  ACCEPT_K, STABLE, the fallback criterion and ICL vs BIC (288 rules) reaches 0.541 fitted to all 13
  real tables but 0.458 when each table is held out and the rule fitted on the other 12: knobs
  fitted to this benchmark do not carry to new tables, so the rule keeps its earlier values and the
  one new bound that was set without looking.
- Tried 2026-12-03 and left out (bench/model_selection_replay.py replays them): no log preparation
  (0.523 on the 13 tables, all of it diabetes: 0.503 held out), log(x) on strictly positive columns
  (0.514, caterpillars 0.40 -> 0.15), the log only where it makes a column symmetric (0.510), BIC
  deciding k (0.508), the fallback limited to the best-BIC transform (0.510; one seed of one table).
  On five tables added as a check (0.257 with this rule) none of them gains beyond noise. A rank sum
  (Borda count) of silhouette, Calinski-Harabasz, Davies-Bouldin and stability: 0.430 (the
  distance-based scores prefer round groups: penguins, crabs and the elongated groups are lost).
- Tried 2026-12-03 evening and left out: mixtures initialised from Ward's partition (as mclust starts
  from a hierarchical agglomeration), alone or as a second start kept when its likelihood is better:
  0.468 / 0.478 on the 13 tables (athletes 0.90 -> 0.57, breast cancer 0.55 -> 0.35). Better EM
  optima reach lower BIC at larger k, as three restarts did.
- On the six tables that match the issue's description of its hidden suite and reproduce its
  reference figures (bench.model_selection.ISSUE_PROFILE): 0.602, against 0.482 for the best single
  method given the true k.
- Not reached on the broader tables: mean ARI 0.55. What is lost: iris and diabetes, where BIC and
  ICL in raw units prefer two groups (iris: setosa against the rest; diabetes: the log of the skewed
  glucose and insulin columns makes two groups fit better than three), and the three tables with little
  structure (pima, neurocog, skulls; at most 0.2 ARI is on offer) where the rule says "no structure".
- No structure: one cluster when the deciding mixtures' BIC and ICL both prefer a single Gaussian.
"""

from __future__ import annotations

import numpy as np

ACCEPT_K = 4  # a mixture asking for more components than this is read as covering non-Gaussian groups
STABLE = 0.9  # mean ARI across bootstrap refits for a partition to count as reproducible
CH_FINALISTS = 12  # how many of the most compact partitions get their stability measured
ROWS_PER_PARAMETER = 1.0  # a family whose two-component mixture has more parameters than rows is not estimable


def _score(candidate, name: str, worst: float) -> float:
    value = candidate.scores.get(name, np.nan)
    return float(value) if np.isfinite(value) else worst


def _mixtures(candidates, covariance: str):
    return [c for c in candidates if c.algorithm == "gmm" and c.config["covariance_type"] == covariance
            and np.isfinite(c.scores.get("icl", np.nan))]


def estimable(mixtures) -> bool:
    """Whether a family of mixtures can be fitted at all here: its two-component model has no more free
    parameters than there are rows (beyond that BIC's approximation, and the fit, are meaningless)."""
    pairs = [c for c in mixtures if c.k == 2]
    return bool(pairs) and all(len(c.labels) >= ROWS_PER_PARAMETER * c.parameters for c in pairs)


def mixture_family(candidates):
    """The mixtures whose ICL decides k: full covariances where they are estimable, else one shared
    (tied) covariance, the shape a linear discriminant assumes, with far fewer parameters."""
    full = _mixtures(candidates, "full")
    if estimable(full) or not _mixtures(candidates, "tied"):
        return full, "full"
    return _mixtures(candidates, "tied"), "tied"


def finalists(candidates, count: int):
    """Candidates whose stability is measured: the most compact partitions and the mixtures' choices."""
    if count >= len(candidates):
        return [c for c in candidates if c.k > 1]
    compact = sorted((c for c in candidates if c.k > 1), key=lambda c: -_score(c, "calinski_harabasz", -np.inf))
    mixtures = sorted(mixture_family(candidates)[0], key=lambda c: _score(c, "icl", np.inf))
    chosen = compact[:count]
    return chosen + [c for c in mixtures[:2] if c not in chosen and c.k > 1]


def recommend(candidates):
    """The winner and why, in one sentence."""
    mixtures, family = mixture_family(candidates)
    by_icl = min(mixtures, key=lambda c: c.scores["icl"]) if mixtures else None
    by_bic = min(mixtures, key=lambda c: c.scores["bic"]) if mixtures else None
    if by_icl is not None and by_icl.k == 1 and by_bic.k == 1:
        return by_icl, ("No structure: one Gaussian explains these measurements better than any mixture of 2 or "
                        "more (BIC and ICL both best at k = 1), so any split would cut one cloud, not find groups.")
    if by_icl is not None and 1 < by_icl.k <= ACCEPT_K:
        runner = min((c for c in mixtures if c.k != by_icl.k), key=lambda c: c.scores["icl"], default=None)
        margin = f" (next best k = {runner.k}, ICL {runner.scores['icl'] - by_icl.scores['icl']:+.0f})" if runner else ""
        shared = ("; with this few rows per measurement only one shared covariance can be estimated"
                  if family == "tied" else "")
        return by_icl, (f"{by_icl.title}: the best ICL of all {len(mixtures)} {family} mixtures{margin}, i.e. "
                        f"{by_icl.k} elliptical groups explain the measurements best{shared}; silhouette "
                        f"{_score(by_icl, 'silhouette', np.nan):.2f}.")
    partitions = [c for c in candidates if c.k > 1]
    stable = [c for c in partitions if _score(c, "stability", 0.0) >= STABLE] or partitions
    winner = max(stable, key=lambda c: _score(c, "calinski_harabasz", -np.inf))
    wanted = f"the mixtures want k = {by_icl.k}, more groups than these shapes support, so " if by_icl else ""
    return winner, (f"{winner.title}: {wanted}the most compact partition that survives resampling wins "
                    f"(Calinski-Harabasz {_score(winner, 'calinski_harabasz', np.nan):.0f}, stability "
                    f"{_score(winner, 'stability', np.nan):.2f}).")


def consensus(candidates) -> np.ndarray:
    """Mean rank (0 best) over the criteria each candidate has: the leaderboard's order after the winner."""
    criteria = (("silhouette", False), ("davies_bouldin", True), ("calinski_harabasz", False),
                ("stability", False), ("icl", True))
    ranks, counts = np.zeros(len(candidates)), np.zeros(len(candidates))
    for name, lower_is_better in criteria:
        values = np.array([candidate.scores.get(name, np.nan) for candidate in candidates], dtype=np.float64)
        present = np.isfinite(values)
        if present.sum() < 2:
            continue
        order = np.argsort(values[present] if lower_is_better else -values[present])
        position = np.empty(present.sum())
        position[order] = np.arange(present.sum()) / (present.sum() - 1)
        ranks[present] += position
        counts[present] += 1
    return np.where(counts > 0, ranks / np.maximum(counts, 1), 1.0)


def rank(candidates):
    """(leaderboard best first, winner); the winner carries its reason in ``scores``-free ``reason``."""
    winner, reason = recommend(candidates)
    order = np.argsort(consensus(candidates), kind="stable")
    ranked = [winner] + [candidates[i] for i in order if candidates[i] is not winner]
    return ranked, winner, reason
