"""Built-in data with planted anomalies, so anomaly detectors can be scored (precision, recall).

The labels are 0 (normal) / 1 (planted anomaly); ``factors["anomaly_kind"]`` says how each one was
made. Deterministic by seed.
"""

from __future__ import annotations

import numpy as np

from unsup_core.datasets.base import Dataset
from unsup_core.datasets.builtin import load_digits
from unsup_core.datasets.points2d import make_blobs

ANOMALY_LABELS = ["normal", "planted anomaly"]


def make_digits_anomalies(share: float = 0.03, seed: int = 0) -> Dataset:
    """Digits where ``share`` of the images are replaced by noise, rotated by 90 degrees, or inverted."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    images = digits.images().copy()
    n_planted = max(3, int(round(share * len(images))))
    planted = np.sort(rng.choice(len(images), n_planted, replace=False))
    kinds = np.zeros(len(images), dtype=np.int64)  # 0 normal, 1 noise, 2 rotated, 3 inverted
    kinds[planted] = 1 + np.arange(n_planted) % 3
    for index in planted:
        if kinds[index] == 1:
            images[index] = rng.uniform(0, 1, images[index].shape)
        elif kinds[index] == 2:
            images[index] = np.rot90(images[index])
        else:
            images[index] = 1.0 - images[index]
    return Dataset(
        name="digits_anomalies", kind="images", X=images.reshape(len(images), -1),
        y=(kinds > 0).astype(np.int64), feature_names=digits.feature_names, label_names=list(ANOMALY_LABELS),
        image_shape=digits.image_shape, factors={"anomaly_kind": kinds, "digit": digits.y},
        description=f"Digits with {n_planted} planted anomalies: noise, rotated by 90 degrees, or inverted.",
    )


def make_blobs_outliers(n_samples: int = 1000, share: float = 0.03, seed: int = 0) -> Dataset:
    """Four blobs plus ``share`` of points scattered uniformly over a wide box around them."""
    blobs = make_blobs(n_samples=n_samples, seed=seed)
    rng = np.random.default_rng(seed + 1)
    n_planted = max(3, int(round(share * n_samples)))
    spread = np.abs(blobs.X).max() * 1.8
    far = rng.uniform(-spread, spread, (n_planted, 2))
    far = far[np.linalg.norm(far, axis=1) > 0.6 * spread][: n_planted]
    while len(far) < n_planted:  # keep only points clearly outside the blobs
        extra = rng.uniform(-spread, spread, (n_planted, 2))
        far = np.concatenate([far, extra[np.linalg.norm(extra, axis=1) > 0.6 * spread]])[:n_planted]
    points = np.concatenate([blobs.X, far])
    labels = np.concatenate([np.zeros(n_samples, np.int64), np.ones(n_planted, np.int64)])
    order = rng.permutation(len(points))
    return Dataset("blobs_outliers", "points2d", points[order], labels[order], ["x", "y"], list(ANOMALY_LABELS),
                   factors={"anomaly_kind": labels[order]},
                   description=f"Four blobs and {n_planted} far-away points to find.")
