"""Views of the clustering tournament: the leaderboard and how memberships move as k grows (a Sankey)."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go

from unsup_core.snapshots import TournamentSnapshot
from unsup_core.viz.panels import Panel, RunView, register_views
from unsup_core.viz.style import base_layout

MIN_FLOW_SHARE = 0.01  # flows under 1% of the rows are left out: they are crumbs, not moves


def membership_sankey(labels_by_k: dict[int, np.ndarray], title: str, highlight_k: int | None = None) -> go.Figure:
    """Nodes are the clusters at each k (a column per k); links carry the rows that go from one to the next.

    ``labels_by_k`` maps k to the labels [n] of the same n rows. A cluster that splits cleanly feeds
    two nodes; one that is shuffled between clusters feeds many thin links.
    """
    ks = sorted(labels_by_k)
    index, labels, xs, colours = {}, [], [], []
    for column, k in enumerate(ks):
        for cluster in np.unique(labels_by_k[k]):
            index[(k, int(cluster))] = len(labels)
            labels.append(f"k={k} · {'noise' if cluster < 0 else int(cluster) + 1}")
            xs.append(0.01 + 0.98 * column / max(len(ks) - 1, 1))
            colours.append("#d62728" if k == highlight_k else "#4c78a8")
    sources, targets, values = [], [], []
    for left, right in zip(ks, ks[1:]):
        pairs, counts = np.unique(np.stack([labels_by_k[left], labels_by_k[right]]), axis=1, return_counts=True)
        for (a, b), count in zip(pairs.T, counts):
            if count >= MIN_FLOW_SHARE * len(labels_by_k[left]):
                sources.append(index[(left, int(a))])
                targets.append(index[(right, int(b))])
                values.append(int(count))
    figure = go.Figure(go.Sankey(arrangement="snap",
                                 node={"label": labels, "x": xs, "color": colours, "pad": 8, "thickness": 14},
                                 link={"source": sources, "target": targets, "value": values,
                                       "color": "rgba(76, 120, 168, 0.25)"}))
    figure.update_layout(**base_layout(title, 420))
    return figure


def leaderboard_rows(summary: dict, top: int = 10) -> list[dict]:
    """The leaderboard as table rows: rank, candidate, and its scores rounded for reading."""
    rows = []
    for position, candidate in enumerate(summary["leaderboard"][:top], start=1):
        scores = candidate["scores"]
        rows.append({"rank": position, "candidate": candidate["title"],
                     **{name: round(scores[key], 3) if key in scores else None for name, key in
                        (("silhouette", "silhouette"), ("Davies-Bouldin", "davies_bouldin"),
                         ("Calinski-Harabasz", "calinski_harabasz"), ("ICL", "icl"), ("BIC", "bic"),
                         ("stability", "stability"))}})
    return rows


def tournament_summary(snapshot: TournamentSnapshot) -> dict | None:
    return json.loads(str(snapshot.tournament_json)) if snapshot.tournament_json is not None else None


@register_views("tournament")
def tournament_panels(view: RunView) -> list[Panel]:
    if view.snapshot is None:
        return []
    snapshot = TournamentSnapshot.from_arrays(view.snapshot)
    if snapshot.moves_k is None or not len(snapshot.moves_k):
        return []
    summary = tournament_summary(snapshot)
    recommendation = summary["recommendation"]
    labels_by_k = dict(zip(snapshot.moves_k.tolist(), snapshot.moves_labels))
    title = "How memberships move as k grows"
    figure = membership_sankey(labels_by_k, title, highlight_k=recommendation["k"])
    return [Panel("memberships", title, figure, f"Recommended: {recommendation['reason']}")]
