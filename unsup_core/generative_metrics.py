"""Scores for generated samples (numpy only): mode coverage on 2-D sets, and the classifier-based
Inception-like score and Fréchet distance used on images (see :mod:`unsup_core.sample_quality`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODE_RADIUS_STDS = 3.0  # a sample "hits" a mode within this many standard deviations of its centre
MODE_MIN_SHARE = 0.25  # a mode is covered when it gets at least this fraction of its fair share


@dataclass
class Modes:
    """Compact, well-separated clusters of a labelled 2-D set: centres [K, 2] and radii [K]."""

    centres: np.ndarray
    radii: np.ndarray
    weights: np.ndarray  # share of the real data in each mode, [K]


def find_modes(points: np.ndarray, labels: np.ndarray | None) -> Modes | None:
    """The labelled classes as modes, or None when they are not compact, separated blobs.

    Each class is a mode of radius 3 * (per-axis standard deviation). Classes qualify only when no
    two such discs overlap (true for ``ring8`` and ``blobs``, false for ``moons`` whose class means
    lie off the data), since "hitting a mode" means nothing otherwise.
    """
    if labels is None:
        return None
    classes = np.unique(labels)
    if len(classes) < 2:
        return None
    centres = np.stack([points[labels == k].mean(axis=0) for k in classes])
    spreads = np.array([np.sqrt(((points[labels == k] - centres[i]) ** 2).sum(axis=1).mean() / points.shape[1])
                        for i, k in enumerate(classes)])
    radii = MODE_RADIUS_STDS * spreads
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    np.fill_diagonal(gaps, np.inf)
    if np.any(gaps < radii[:, None] + radii[None, :]):
        return None
    weights = np.array([(labels == k).mean() for k in classes])
    return Modes(centres.astype(np.float32), radii.astype(np.float32), weights)


def mode_coverage(modes: Modes, samples: np.ndarray) -> tuple[np.ndarray, float]:
    """(covered [K] bool, high-quality fraction): Srivastava et al. 2017 (VEEGAN)'s toy-data scores.

    A sample is high quality when it lies within a mode's radius; mode k is covered when at least
    ``MODE_MIN_SHARE`` of its fair share (weight_k * N) of the samples hit it.
    """
    distances = np.linalg.norm(samples[:, None, :] - modes.centres[None], axis=-1)  # [N, K]
    hits = distances <= modes.radii[None]
    nearest_hit = np.where(hits.any(axis=1), np.argmin(np.where(hits, distances, np.inf), axis=1), -1)
    counts = np.bincount(nearest_hit[nearest_hit >= 0], minlength=len(modes.centres))
    covered = counts >= MODE_MIN_SHARE * modes.weights * len(samples)
    return covered, float(hits.any(axis=1).mean())


def inception_score(probabilities: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) for class probabilities [N, K] (Salimans et al. 2016).

    1 when every sample gets the same prediction; K when predictions are confident and the classes
    are used equally: it rewards both recognisable and varied samples.
    """
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)
    marginal = probabilities.mean(axis=0)
    kl = (probabilities * (np.log(probabilities) - np.log(marginal))).sum(axis=1)
    return float(np.exp(kl.mean()))


def classes_covered(probabilities: np.ndarray, min_share: float = MODE_MIN_SHARE) -> int:
    """How many classes are the top prediction for at least ``min_share`` of a fair 1/K share."""
    n, n_classes = probabilities.shape
    counts = np.bincount(np.argmax(probabilities, axis=1), minlength=n_classes)
    return int((counts >= min_share * n / n_classes).sum())


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [F] and covariance [F, F] (float64) of features [N, F]."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between two Gaussians (Heusel et al. 2017).

    tr((S_a S_b)^(1/2)) = sum of sqrt(eig(A S_b A)) with A = S_a^(1/2): a symmetric problem, so it
    stays real and stable even for the rank-deficient covariances of small samples.
    """
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))
