"""The knee (elbow) of a curve: where it bends most, measured against the chord between its ends."""

from __future__ import annotations

import numpy as np


def knee_index(values: np.ndarray) -> int:
    """Index of the point farthest from the straight line joining the first and last points.

    Both axes are scaled to [0, 1] first, so the answer does not depend on units (the idea of
    Satopaa et al.'s Kneedle). Works for falling curves (an inertia elbow) and rising ones (sorted
    neighbour distances); a curve with fewer than 3 points has its knee at 0.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 3 or np.ptp(values) == 0:
        return 0
    x = np.linspace(0.0, 1.0, len(values))
    y = (values - values.min()) / np.ptp(values)
    chord = np.array([x[-1] - x[0], y[-1] - y[0]])
    chord /= np.linalg.norm(chord)
    offsets = np.stack([x - x[0], y - y[0]], axis=1)
    distance = np.abs(offsets[:, 0] * chord[1] - offsets[:, 1] * chord[0])
    return int(np.argmax(distance))
