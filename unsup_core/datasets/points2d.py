"""Generated 2-D point sets for teaching, deterministic by seed and built with numpy alone."""

from __future__ import annotations

import numpy as np

from unsup_core.datasets.base import Dataset


def _standardise(points: np.ndarray) -> np.ndarray:
    """Centre and scale to unit overall std so every set fits the same plotting range."""
    points = points - points.mean(axis=0)
    return points / points.std()


def make_moons(n_samples: int = 1000, noise: float = 0.08, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer_angle = rng.uniform(0, np.pi, n_outer)
    inner_angle = rng.uniform(0, np.pi, n_inner)
    outer = np.stack([np.cos(outer_angle), np.sin(outer_angle)], axis=1)
    inner = np.stack([1 - np.cos(inner_angle), 0.5 - np.sin(inner_angle)], axis=1)
    points = np.concatenate([outer, inner]) + rng.normal(0, noise, (n_samples, 2))
    labels = np.concatenate([np.zeros(n_outer, int), np.ones(n_inner, int)])
    return Dataset("moons", "points2d", _standardise(points), labels, ["x", "y"], ["upper", "lower"],
                   description="Two interleaving half circles.")


def make_circles(n_samples: int = 1000, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    radius = np.concatenate([np.ones(n_outer), np.full(n_inner, factor)])
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    points += rng.normal(0, noise, points.shape)
    labels = np.concatenate([np.zeros(n_outer, int), np.ones(n_inner, int)])
    return Dataset("circles", "points2d", _standardise(points), labels, ["x", "y"], ["outer", "inner"],
                   description="A small circle inside a large one: not linearly separable.")


def make_blobs(n_samples: int = 1000, n_blobs: int = 4, spread: float = 0.6, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_blobs) / n_blobs
    centres = 5.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = np.arange(n_samples) % n_blobs
    points = centres[labels] + rng.normal(0, spread, (n_samples, 2))
    order = rng.permutation(n_samples)
    return Dataset("blobs", "points2d", _standardise(points[order]), labels[order], ["x", "y"],
                   [f"blob {i}" for i in range(n_blobs)],
                   description=f"{n_blobs} well-separated Gaussian blobs.")


def make_ring8(n_samples: int = 2000, radius: float = 2.0, std: float = 0.05, seed: int = 0) -> Dataset:
    """Eight Gaussians on a circle: the classic test of GAN mode collapse."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(8) / 8
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = rng.integers(0, 8, n_samples)
    points = centres[labels] + rng.normal(0, std, (n_samples, 2))
    # Not standardised: the mode positions (radius, angle) are part of what a user checks.
    return Dataset("ring8", "points2d", points, labels, ["x", "y"], [f"mode {i}" for i in range(8)],
                   description="8 Gaussians on a circle (GAN mode coverage).")


def make_swiss_roll_2d(n_samples: int = 1000, noise: float = 0.3, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=n_samples))
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) + rng.normal(0, noise, (n_samples, 2))
    # Label by position along the roll (4 equal segments) so colouring shows the unrolled order.
    labels = np.digitize(t, np.quantile(t, [0.25, 0.5, 0.75]))
    return Dataset("swiss_roll_2d", "points2d", _standardise(points), labels, ["x", "y"],
                   [f"segment {i}" for i in range(4)],
                   description="A 2-D spiral; labels are the four segments along the roll.")
