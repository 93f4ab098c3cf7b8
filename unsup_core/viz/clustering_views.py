"""Views of clustering runs: assignments on a 2-D projection, centroids as images, scores, merge tree."""

from __future__ import annotations

from unsup_core.snapshots import ClusteringSnapshot
from unsup_core.viz.clusters import dendrogram_figure
from unsup_core.viz.images import image_grid
from unsup_core.viz.panels import Panel, RunView, curves_panel, register_views
from unsup_core.viz.scatter import categorical_scatter, cluster_scatter


@register_views("clustering")
def clustering_panels(view: RunView) -> list[Panel]:
    panels = [
        curves_panel(view, ["inertia"], "Inertia per iteration", "inertia",
                     "Sum of squared distances to the nearest centre; Lloyd iterations never increase it."),
        curves_panel(view, ["log_likelihood"], "Mean log-likelihood per row", "log-likelihood",
                     "EM never decreases it; the run stops when it stops improving."),
        curves_panel(view, ["ari", "nmi"], "Agreement with the true labels", "agreement",
                     "ARI and NMI against the dataset's labels (never used for fitting)."),
    ]
    if view.snapshot is not None:
        snapshot = ClusteringSnapshot.from_arrays(view.snapshot)
        title = f"Clusters at step {view.snapshot_step} (PCA projection when > 2 features)"
        panels.append(Panel("clusters", title, cluster_scatter(snapshot.points, snapshot.labels, title,
                                                               centers=snapshot.centers)))
        if snapshot.true_labels is not None:
            panels.append(Panel("true-labels", "True labels (same projection)", categorical_scatter(
                snapshot.points, snapshot.true_labels, "True labels (same projection)",
                label_names=snapshot.label_name_list(), prefix="class")))
        if snapshot.center_images is not None:
            panels.append(Panel("center-images", "Cluster means as images",
                                image_grid(snapshot.center_images, "Cluster means as images"),
                                "Each cluster's mean image, in the original pixel scale."))
        if snapshot.dendrogram_x is not None:
            panels.append(Panel("dendrogram", "Merge tree (top 30 merges)", dendrogram_figure(
                snapshot.dendrogram_x, snapshot.dendrogram_y, snapshot.dendrogram_leaves,
                float(snapshot.dendrogram_cut), "Merge tree (top 30 merges)"),
                "Height of a join = linkage distance; the dashed line cuts the tree into your k clusters. "
                "A leaf '(n)' stands for a branch of n rows."))
    return panels
