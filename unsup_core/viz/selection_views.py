"""Views of the runs that help read clusters: the choose-k sweep and embeddings."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unsup_core.snapshots import EmbeddingSnapshot, KSelectionSnapshot
from unsup_core.viz.clusters import cluster_map
from unsup_core.viz.panels import Panel, RunView, register_views
from unsup_core.viz.style import base_layout

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# (score, name, which way is better, model): the name and the direction are the subplot title's two lines.
K_CURVES = (("inertia", "inertia", "elbow", "k-means"), ("silhouette", "silhouette", "higher is better", "k-means"),
            ("davies_bouldin", "Davies-Bouldin", "lower is better", "k-means"),
            ("calinski_harabasz", "Calinski-Harabasz", "higher is better", "k-means"),
            ("bic", "BIC", "lower is better", "Gaussian mixture"))
K_COLUMNS = 3  # a 430 px panel holds three small charts side by side, not five


def _has_values(scores: np.ndarray | None) -> bool:
    return scores is not None and bool(np.isfinite(scores).any())


def k_selection_figure(scores: KSelectionSnapshot, recommended_k: int | None, title: str) -> go.Figure:
    """One small chart per criterion against k, three to a row, the recommended k marked in each."""
    curves = [curve for curve in K_CURVES if _has_values(getattr(scores, curve[0]))]
    columns = min(K_COLUMNS, len(curves))
    rows = math.ceil(len(curves) / columns)
    shared = base_layout(title, 110 + 230 * rows)
    # Between rows: the k axis (ticks and title, ~45 px) and the next row's two-line titles (~35 px). The
    # paper's height leaves out the top margin, the first titles (30 px) and the bottom axis and legend (~90 px).
    paper_height = shared["height"] - shared["margin"]["t"] - 30 - 90
    figure = make_subplots(rows=rows, cols=columns, horizontal_spacing=0.1,
                           vertical_spacing=min(0.5, 90 / paper_height) if rows > 1 else 0.0,
                           subplot_titles=[f"{label}<br>({direction})" for _, label, direction, _ in curves])
    for index, (name, _, _, model) in enumerate(curves):
        cell = {"row": index // columns + 1, "col": index % columns + 1}
        figure.add_trace(go.Scatter(x=scores.k, y=getattr(scores, name), mode="lines+markers", name=f"{name} ({model})",
                                    line={"color": "#4c78a8"}, showlegend=False), **cell)
        if name == "silhouette" and _has_values(scores.mixture_silhouette):
            figure.add_trace(go.Scatter(x=scores.k, y=scores.mixture_silhouette, mode="lines+markers",
                                        name="silhouette (Gaussian mixture)", line={"color": "#f58518", "dash": "dot"},
                                        showlegend=True), **cell)
        if recommended_k is not None:
            figure.add_vline(x=recommended_k, line_dash="dash", line_color="#d62728", **cell)
    figure.update_layout(**shared)
    # The first row's subplot titles sit above the plot, below the figure's title.
    figure.update_layout(margin={**shared["margin"], "t": shared["margin"]["t"] + 30})
    figure.update_xaxes(title_text="k", dtick=1, automargin=True)
    figure.update_yaxes(automargin=True)
    figure.update_annotations(font_size=11)
    return figure


@register_views("choose_k")
def choose_k_panels(view: RunView) -> list[Panel]:
    if view.snapshot is None:
        return []
    snapshot = KSelectionSnapshot.from_arrays(view.snapshot)
    if snapshot.k is None or not len(snapshot.k):
        return []
    recommended = int(snapshot.recommended_k) if snapshot.recommended_k is not None else None
    caption = str(snapshot.reason) if snapshot.reason is not None else ""
    title = "Scores for each number of clusters k"
    return [Panel("k-selection", title, k_selection_figure(snapshot, recommended, title),
                  f"Recommended: {caption}" if caption else "")]


@register_views("embedding")
def embedding_panels(view: RunView) -> list[Panel]:
    if view.snapshot is None:
        return []
    snapshot = EmbeddingSnapshot.from_arrays(view.snapshot)
    if snapshot.row_subset is None:
        return []
    method, coordinates = str(snapshot.method), snapshot.coordinates
    title = f"{METHOD_NAMES[method]} map of {len(coordinates):,} rows"
    names = snapshot.label_name_list()
    figure = cluster_map(coordinates, snapshot.true_labels, title, names=names,
                         axis_names=tuple(f"{method} {i + 1}" for i in range(coordinates.shape[1])))
    if snapshot.true_labels is None:
        figure.update_layout(showlegend=False)
    return [Panel("embedding", title, figure, "Coloured by the dataset's labels when it has them.")]
