"""The shape of a snapshot, one frozen dataclass per view family, shared by the algorithms and the views.

An algorithm builds its family's dataclass and returns :meth:`SnapshotShape.as_arrays` (the run store
keeps that dict as .npz); a view builder reads it back with ``FamilySnapshot.from_arrays``. The array
names are the field names, so runs stored before these classes existed still open. Fields without a
default are required; ``None`` means "not in this snapshot". Scalars travel as 0-d arrays, so a
snapshot round-trips unchanged. Shapes: N displayed rows, R rows of the whole data (``row_*`` arrays,
which the exports read), C classes, U map units, F features, [S, H, W] or [S, C, H, W] images.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

Array = np.ndarray


class SnapshotShape:
    """``as_arrays`` / ``from_arrays`` for the dataclasses below: one array per field that is not None."""

    family: ClassVar[str]

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array]) -> Self:
        """The snapshot from a stored dict; unknown keys are ignored, a missing required one is an error."""
        fields = dataclasses.fields(cls)
        missing = [f.name for f in fields if _is_required(f) and f.name not in arrays]
        if missing:
            raise KeyError(f"a {cls.family!r} snapshot needs the arrays {missing}; it has {sorted(arrays)}")
        return cls(**{f.name: arrays[f.name] for f in fields if f.name in arrays})

    def as_arrays(self) -> dict[str, Array]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def label_name_list(self) -> list[str] | None:
        names = getattr(self, "label_names", None)
        return None if names is None else [str(name) for name in names]


def _is_required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


@dataclass(frozen=True, kw_only=True, eq=False)
class ClusteringSnapshot(SnapshotShape):
    """A clusterer's labels on a 2-D projection.

    points [N, 2], labels [N] (-1: noise), row_cluster [R] (every row, compact labels), true_labels [N],
    label_names [C], centers [K, 2] projected, center_images [K, H, W] cluster means as images;
    agglomerative only: dendrogram_x / dendrogram_y [M, 4] merge segments, dendrogram_leaves [M + 1],
    dendrogram_cut [] the height cutting the tree into k clusters.
    """

    family: ClassVar[str] = "clustering"
    points: Array
    labels: Array
    row_cluster: Array | None = None
    true_labels: Array | None = None
    label_names: Array | None = None
    centers: Array | None = None
    center_images: Array | None = None
    dendrogram_x: Array | None = None
    dendrogram_y: Array | None = None
    dendrogram_leaves: Array | None = None
    dendrogram_cut: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class SOMSnapshot(SnapshotShape):
    """A self-organizing map and how the data falls on it.

    weights [U, F] in scaled units (original = weights * feature_scale + feature_mean, both [F]),
    grid_shape [2] (rows, columns), topology [] ("rectangular" / "hexagonal"), positions [U, 2],
    umatrix [U], hits [U], n_evaluated [], qe [], te [], marker_units [M] best unit of the drawn
    samples, marker_labels [M], label_counts [U, C], label_names [C], data_kind [], feature_names [F],
    image_shape [2] (images only); SOM clustering adds unit_clusters [U], row_som_unit [R], row_cluster [R].
    """

    family: ClassVar[str] = "som"
    weights: Array
    feature_mean: Array
    feature_scale: Array
    grid_shape: Array
    topology: Array
    positions: Array
    umatrix: Array
    hits: Array
    n_evaluated: Array | None = None
    qe: Array | None = None
    te: Array | None = None
    marker_units: Array | None = None
    marker_labels: Array | None = None
    label_counts: Array | None = None
    label_names: Array | None = None
    data_kind: Array | None = None
    feature_names: Array | None = None
    image_shape: Array | None = None
    unit_clusters: Array | None = None
    row_som_unit: Array | None = None
    row_cluster: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class EmbeddingSnapshot(SnapshotShape):
    """A 2-D (or 3-D) map of the data by PCA, t-SNE or UMAP; before the fit, only ``method``.

    method [] ("pca" / "tsne" / "umap"), row_subset [R] the rows mapped, coordinates [R, D] stored as
    ``row_{method}_1`` ... ``row_{method}_D`` (one export column each), true_labels [R], label_names [C].
    """

    family: ClassVar[str] = "embedding"
    method: Array
    row_subset: Array | None = None
    coordinates: Array | None = None
    true_labels: Array | None = None
    label_names: Array | None = None

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array]) -> Self:
        plain = super().from_arrays(arrays)
        prefix = f"row_{str(plain.method)}_"
        axes = sorted((int(name[len(prefix):]), name) for name in arrays
                      if name.startswith(prefix) and name[len(prefix):].isdigit())
        if not axes:
            return plain
        return dataclasses.replace(plain, coordinates=np.stack([arrays[name] for _, name in axes], axis=1))

    def as_arrays(self) -> dict[str, Array]:
        arrays = super().as_arrays()
        coordinates = arrays.pop("coordinates", None)
        if coordinates is not None:
            arrays.update({f"row_{str(self.method)}_{axis + 1}": coordinates[:, axis]
                           for axis in range(coordinates.shape[1])})
        return arrays


@dataclass(frozen=True, kw_only=True, eq=False)
class KSelectionSnapshot(SnapshotShape):
    """Scores of k-means and a Gaussian mixture for each k tried, and the k recommended.

    k, inertia, silhouette, davies_bouldin, calinski_harabasz, bic, mixture_silhouette: [n_k] (NaN where
    not computed); recommended_k [], recommended_algorithm [], reason [] once a k is scored.
    """

    family: ClassVar[str] = "choose_k"
    k: Array | None = None
    inertia: Array | None = None
    silhouette: Array | None = None
    davies_bouldin: Array | None = None
    calinski_harabasz: Array | None = None
    bic: Array | None = None
    mixture_silhouette: Array | None = None
    recommended_k: Array | None = None
    recommended_algorithm: Array | None = None
    reason: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class TournamentSnapshot(SnapshotShape):
    """A clustering tournament: its progress, then its result.

    rounds_done [], rounds []; once finished: tournament_json [] (the summary as JSON), row_cluster [R],
    moves_k [n_k] and moves_labels [n_k, R'] (each k's labels of the tournament's rows), true_labels [R'].
    """

    family: ClassVar[str] = "tournament"
    rounds_done: Array | None = None
    rounds: Array | None = None
    tournament_json: Array | None = None
    row_cluster: Array | None = None
    moves_k: Array | None = None
    moves_labels: Array | None = None
    true_labels: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class OutlierSnapshot(SnapshotShape):
    """Outlier scores of every row, for the families "outliers" and "trained_outliers".

    points [N, 2], scores [N] and display_rows [N] for the drawn rows; threshold []; row_outlier_score [R],
    row_is_outlier [R]; top_rows [T] highest score first; planted [R] (datasets with planted anomalies);
    images: top_images [T, H, W], top_reconstructions [T', H, W] (autoencoder); tables: top_values [T, F],
    feature_names [F].
    """

    family: ClassVar[str] = "outliers"
    points: Array
    scores: Array
    threshold: Array
    row_outlier_score: Array
    top_rows: Array | None = None
    display_rows: Array | None = None
    row_is_outlier: Array | None = None
    planted: Array | None = None
    top_images: Array | None = None
    top_reconstructions: Array | None = None
    top_values: Array | None = None
    feature_names: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class AdversarialSnapshot(SnapshotShape):
    """A GAN's samples, for the families "adversarial" and "wgan": images, or 2-D points (the GAN lab).

    Images: samples [S, C, H, W] from fixed noise, interpolation_linear / interpolation_spherical
    [P, T, C, H, W] (P pairs, T steps). Points: real [N, 2], real_labels [N], generated [G, 2], the
    critic's field [Y, X] over field_x [X] and field_y [Y], arrows [A, 2] (minus the generator's
    gradient) from arrows_from [A, 2], mode_centres [M, 2], mode_radii [M], mode_covered [M].
    label_names [C] either way.
    """

    family: ClassVar[str] = "adversarial"
    samples: Array | None = None
    interpolation_linear: Array | None = None
    interpolation_spherical: Array | None = None
    real: Array | None = None
    real_labels: Array | None = None
    generated: Array | None = None
    field: Array | None = None
    field_x: Array | None = None
    field_y: Array | None = None
    arrows_from: Array | None = None
    arrows: Array | None = None
    mode_centres: Array | None = None
    mode_radii: Array | None = None
    mode_covered: Array | None = None
    label_names: Array | None = None

    @property
    def is_gan_lab(self) -> bool:
        return self.field is not None


@dataclass(frozen=True, kw_only=True, eq=False)
class VAESnapshot(SnapshotShape):
    """A VAE's reconstructions, samples and latent space ([S, H, W] or [S, C, H, W] images).

    recon_inputs / recon_outputs [S, ...], samples [S, ...] from fixed noise, latent [N, 2] encoder means
    (PCA when latent_is_projected []), latent_labels [N], kl_per_dim [Z], traversal [D, V, ...] of the
    dims traversal_dims [D] over traversal_values [V], interpolation_inputs [P, 2, ...] the pairs' ends,
    interpolation_linear / interpolation_spherical [P, T, ...], label_names [C].
    """

    family: ClassVar[str] = "vae"
    recon_inputs: Array
    recon_outputs: Array
    samples: Array
    latent: Array
    latent_is_projected: Array | None = None
    latent_labels: Array | None = None
    kl_per_dim: Array | None = None
    traversal: Array | None = None
    traversal_dims: Array | None = None
    traversal_values: Array | None = None
    interpolation_inputs: Array | None = None
    interpolation_linear: Array | None = None
    interpolation_spherical: Array | None = None
    label_names: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class PixelCNNSnapshot(SnapshotShape):
    """PixelCNN samples and predictions, uint8 [S, H, W] (0..255).

    samples, sample_probabilities (the probability each sampled pixel was drawn from), inputs and the
    network's predictions for them (every pixel given the ones before it), label_names [C].
    """

    family: ClassVar[str] = "pixelcnn"
    samples: Array
    sample_probabilities: Array
    inputs: Array
    predictions: Array
    label_names: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class SelfSupervisedSnapshot(SnapshotShape):
    """Learned features on a held-out split, and the pretext task's examples ([S, H, W] images).

    embedding [N, 2] (PCA of the features), embedding_labels [N], label_names [C]; contrastive:
    originals, view_1, view_2 [S, ...]; masked reconstruction: originals, masked, reconstructions [S, ...].
    """

    family: ClassVar[str] = "self_supervised"
    embedding: Array | None = None
    embedding_labels: Array | None = None
    label_names: Array | None = None
    originals: Array | None = None
    view_1: Array | None = None
    view_2: Array | None = None
    masked: Array | None = None
    reconstructions: Array | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class SemiSupervisedSnapshot(SnapshotShape):
    """Predictions from a few labels on a 2-D projection.

    points [N, 2], true_labels [N], predicted [N], labelled [N] bool, map_scores [3] = (semi-supervised
    accuracy, supervised accuracy, labels per class), label_names [C].
    """

    family: ClassVar[str] = "semi_supervised"
    points: Array
    true_labels: Array
    predicted: Array
    labelled: Array
    map_scores: Array
    label_names: Array | None = None


SHAPES: dict[str, type[SnapshotShape]] = {
    **{shape.family: shape for shape in (ClusteringSnapshot, SOMSnapshot, EmbeddingSnapshot, KSelectionSnapshot,
                                         TournamentSnapshot, OutlierSnapshot, AdversarialSnapshot, VAESnapshot,
                                         PixelCNNSnapshot, SelfSupervisedSnapshot, SemiSupervisedSnapshot)},
    "trained_outliers": OutlierSnapshot,
    "wgan": AdversarialSnapshot,
}
"""Each view family's snapshot shape ("curves" has none: its views draw metrics only)."""
