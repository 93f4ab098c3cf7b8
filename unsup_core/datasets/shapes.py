"""Generated images of squares, circles and triangles with known generating factors.

Each image is drawn analytically (point-in-shape tests on a 2x2 supersampled grid), so the data is
exact, deterministic by seed, any size, and its factors (shape, scale, rotation, x, y) are kept as
labels: a VAE traversal or a SOM map can be checked against them.
"""

from __future__ import annotations

import numpy as np

from unsup_core.datasets.base import Dataset, DatasetError

SHAPE_NAMES = ["square", "circle", "triangle"]
_SUPERSAMPLE = 2
_CHUNK = 1024
# As many pixels as MNIST's training set (188 MB as float32): each option is bounded, their product too.
MAX_PIXELS = 60_000 * 28 * 28


def _inside(shape: np.ndarray, px: np.ndarray, py: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Boolean mask [B, P] of local points (px, py) inside each sample's shape of half-size ``size``."""
    square = np.maximum(np.abs(px), np.abs(py)) <= size
    circle = px**2 + py**2 <= size**2
    # Equilateral triangle with circumradius 1.3*size: inside all three edges at the inradius.
    inradius = 0.65 * size
    edges = [np.pi / 2 + k * 2 * np.pi / 3 for k in range(3)]
    triangle = np.ones_like(square)
    for angle in edges:
        triangle &= -(px * np.cos(angle) + py * np.sin(angle)) <= inradius
    return np.where(shape == 0, square, np.where(shape == 1, circle, triangle))


def make_shapes(n_samples: int = 5000, image_size: int = 28, seed: int = 0) -> Dataset:
    """``n_samples`` greyscale images [image_size, image_size] with values in [0, 1]."""
    if n_samples * image_size**2 > MAX_PIXELS:
        raise DatasetError(f"shapes: {n_samples:,} images of {image_size}x{image_size} are too large; keep "
                           f"n_samples x image_size x image_size at most {MAX_PIXELS:,}, e.g. "
                           f"n_samples={MAX_PIXELS // image_size**2:,}")
    rng = np.random.default_rng(seed)
    shape = rng.integers(0, 3, n_samples)
    scale = rng.uniform(0.25, 0.5, n_samples)
    # Rotation within each shape's symmetry period, so equal angles mean equal images.
    period = np.where(shape == 0, np.pi / 2, np.where(shape == 1, 2 * np.pi, 2 * np.pi / 3))
    rotation = rng.uniform(0, 1, n_samples) * period
    reach = 1.0 - 1.3 * scale  # keep the whole shape inside the frame
    centre_x = rng.uniform(-1, 1, n_samples) * reach
    centre_y = rng.uniform(-1, 1, n_samples) * reach

    fine = image_size * _SUPERSAMPLE
    coords = (np.arange(fine) + 0.5) / fine * 2 - 1
    grid_y, grid_x = np.meshgrid(-coords, coords, indexing="ij")  # y grows upwards
    grid_x, grid_y = grid_x.ravel()[None, :], grid_y.ravel()[None, :]

    images = np.empty((n_samples, image_size, image_size), dtype=np.float32)
    for start in range(0, n_samples, _CHUNK):
        part = slice(start, min(start + _CHUNK, n_samples))
        cos, sin = np.cos(rotation[part])[:, None], np.sin(rotation[part])[:, None]
        dx, dy = grid_x - centre_x[part, None], grid_y - centre_y[part, None]
        local_x, local_y = cos * dx + sin * dy, -sin * dx + cos * dy
        mask = _inside(shape[part, None], local_x, local_y, scale[part, None])
        fine_images = mask.reshape(-1, image_size, _SUPERSAMPLE, image_size, _SUPERSAMPLE)
        images[part] = fine_images.mean(axis=(2, 4))

    factors = {"shape": shape, "scale": scale, "rotation": rotation, "x": centre_x, "y": centre_y}
    return Dataset(
        name="shapes",
        kind="images",
        X=images.reshape(n_samples, -1),
        y=shape,
        feature_names=[f"px{i}" for i in range(image_size * image_size)],
        label_names=list(SHAPE_NAMES),
        image_shape=(image_size, image_size),
        factors=factors,
        description="Squares, circles and triangles at random position, scale and rotation.",
    )
