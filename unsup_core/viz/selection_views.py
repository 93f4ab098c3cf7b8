"""Views of the runs that help read clusters: the choose-k sweep and embeddings."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unsup_core.viz.clusters import cluster_map
from unsup_core.viz.panels import Panel, RunView, register_views
from unsup_core.viz.style import base_layout

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
K_CURVES = (("inertia", "inertia (elbow)", "k-means"), ("silhouette", "silhouette (higher is better)", "k-means"),
            ("davies_bouldin", "Davies-Bouldin (lower is better)", "k-means"),
            ("calinski_harabasz", "Calinski-Harabasz (higher is better)", "k-means"),
            ("bic", "BIC (lower is better)", "Gaussian mixture"))


def k_selection_figure(scores: dict[str, np.ndarray], recommended_k: int | None, title: str) -> go.Figure:
    """One small chart per criterion against k, the recommended k marked in each."""
    curves = [curve for curve in K_CURVES if curve[0] in scores and np.isfinite(scores[curve[0]]).any()]
    figure = make_subplots(rows=1, cols=len(curves), subplot_titles=[label for _, label, _ in curves],
                           horizontal_spacing=0.05)
    for column, (name, _, model) in enumerate(curves, start=1):
        figure.add_trace(go.Scatter(x=scores["k"], y=scores[name], mode="lines+markers", name=f"{name} ({model})",
                                    line={"color": "#4c78a8"}, showlegend=False), row=1, col=column)
        if name == "silhouette" and "mixture_silhouette" in scores and np.isfinite(scores["mixture_silhouette"]).any():
            figure.add_trace(go.Scatter(x=scores["k"], y=scores["mixture_silhouette"], mode="lines+markers",
                                        name="silhouette (Gaussian mixture)", line={"color": "#f58518", "dash": "dot"},
                                        showlegend=True), row=1, col=column)
        if recommended_k is not None:
            figure.add_vline(x=recommended_k, line_dash="dash", line_color="#d62728", row=1, col=column)
    figure.update_layout(**base_layout(title, 340))
    figure.update_xaxes(title_text="k", dtick=1)
    figure.update_annotations(font_size=11)
    return figure


@register_views("choose_k")
def choose_k_panels(view: RunView) -> list[Panel]:
    snapshot = view.snapshot
    if snapshot is None or not len(snapshot.get("k", [])):
        return []
    recommended = int(snapshot["recommended_k"]) if "recommended_k" in snapshot else None
    caption = str(snapshot["reason"]) if "reason" in snapshot else ""
    title = "Scores for each number of clusters k"
    return [Panel("k-selection", title, k_selection_figure(snapshot, recommended, title),
                  f"Recommended: {caption}" if caption else "")]


@register_views("embedding")
def embedding_panels(view: RunView) -> list[Panel]:
    snapshot = view.snapshot
    if snapshot is None or "row_subset" not in snapshot:
        return []
    method = str(snapshot["method"])
    axes = sorted(name for name in snapshot if name.startswith(f"row_{method}_"))
    coordinates = np.stack([snapshot[name] for name in axes], axis=1)
    title = f"{METHOD_NAMES[method]} map of {len(coordinates):,} rows"
    names = view.label_names()
    figure = cluster_map(coordinates, snapshot.get("true_labels"), title, names=names,
                         axis_names=tuple(f"{method} {i + 1}" for i in range(len(axes))))
    if "true_labels" not in snapshot:
        figure.update_layout(showlegend=False)
    return [Panel("embedding", title, figure, "Coloured by the dataset's labels when it has them.")]
