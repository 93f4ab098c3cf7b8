"""What makes each cluster different: sizes, per-feature means and medians, and the standout features.

Profiles are computed in the units of the file (before scaling or log transforms), so an analyst
reads "income 52,000 vs 38,000 overall", not z-scores. A categorical column becomes one 0/1
indicator per level, whose mean is the share of rows with that level. The **effect** of a feature in
a cluster is its standardised mean difference,

    effect = (mean in cluster - overall mean) / overall standard deviation,

so +1 means the cluster sits one standard deviation above the data as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOISE = -1
MEDIAN_ROWS = 200_000  # medians (a sort per cluster and feature) come from a sample of this many rows


@dataclass
class ClusterProfiles:
    """Indexed by cluster id (-1: noise), columns by feature (numeric) or ``column=level`` (categorical)."""

    sizes: pd.Series
    means: pd.DataFrame
    medians: pd.DataFrame  # numeric features only
    overall_mean: pd.Series
    overall_median: pd.Series
    effects: pd.DataFrame

    def top_features(self, cluster: int, n: int = 3) -> list[tuple[str, float, float, float]]:
        """The ``n`` features with the largest |effect|: (feature, effect, cluster mean, overall mean)."""
        effects = self.effects.loc[cluster].dropna()
        ranked = effects.reindex(effects.abs().sort_values(ascending=False).index)[:n]
        return [(name, float(effect), float(self.means.loc[cluster, name]), float(self.overall_mean[name]))
                for name, effect in ranked.items()]


def feature_frame(table: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Numeric columns as they are, categorical ones as 0/1 indicators ``column=level``."""
    parts = []
    for name in features:
        column = table[name]
        if pd.api.types.is_numeric_dtype(column):
            parts.append(column.astype(np.float64).rename(name))
        else:
            levels = sorted(column.dropna().astype(str).unique())
            text = column.astype(str).where(column.notna())
            parts += [(text == level).astype(np.float64).where(column.notna()).rename(f"{name}={level}")
                      for level in levels]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=table.index)


def cluster_profiles(table: pd.DataFrame, features: list[str], labels: np.ndarray,
                     seed: int = 0) -> ClusterProfiles:
    """Profiles of the rows of ``table`` grouped by ``labels`` (one per row; -1 is noise).

    Sizes, means and effects use every row; medians use a random sample of 200,000 rows when there
    are more (they differ from the exact ones in the third digit, and cost a sort each).
    """
    frame = feature_frame(table, features).reset_index(drop=True)
    clusters = pd.Series(np.asarray(labels), name="cluster")
    means = frame.groupby(clusters).mean()
    numeric = [name for name in features if pd.api.types.is_numeric_dtype(table[name])]
    sample = np.arange(len(frame))
    if len(frame) > MEDIAN_ROWS:
        sample = np.sort(np.random.default_rng(seed).choice(len(frame), MEDIAN_ROWS, replace=False))
    medians = frame.iloc[sample][numeric].groupby(clusters.iloc[sample]).median().reindex(means.index) \
        if numeric else pd.DataFrame(index=means.index)
    overall_mean = frame.mean()
    spread = frame.std(ddof=0).replace(0, np.nan)
    effects = (means - overall_mean) / spread
    return ClusterProfiles(sizes=clusters.value_counts().sort_index(), means=means, medians=medians,
                           overall_mean=overall_mean, overall_median=frame.iloc[sample][numeric].median(),
                           effects=effects)


def readable(value: float, share: bool = False) -> str:
    """52,000 / 12.5 / 0.031, or 42% for the share of a category."""
    if share:
        return f"{value:.0%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def describe_cluster(profiles: ClusterProfiles, cluster: int, n: int = 3) -> str:
    """One line a person can read: 'income high (+1.8 sd: 52,000 vs 38,000), ...'."""
    parts = []
    for name, effect, mean, overall in profiles.top_features(cluster, n):
        share = "=" in name
        direction = ("more often" if effect > 0 else "less often") if share else ("high" if effect > 0 else "low")
        parts.append(f"{name} {direction} ({effect:+.1f} sd: {readable(mean, share)} vs {readable(overall, share)})")
    return ", ".join(parts)
