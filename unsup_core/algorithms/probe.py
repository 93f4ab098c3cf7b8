"""Linear probes: how linearly separable the classes are in a representation (labels used only here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProbeSplit:
    """A fixed split of a labelled dataset: the probe fits on ``train`` and is scored on ``held_out``."""

    train: np.ndarray
    held_out: np.ndarray

    @classmethod
    def make(cls, n_samples: int, held_out_fraction: float, seed: int, max_train: int = 2000,
             max_held_out: int = 1000) -> "ProbeSplit":
        order = np.random.default_rng(seed).permutation(n_samples)
        n_held_out = min(max_held_out, max(1, int(n_samples * held_out_fraction)))
        return cls(train=np.sort(order[n_held_out:n_held_out + max_train]), held_out=np.sort(order[:n_held_out]))


def probe_accuracy(features: np.ndarray, labels: np.ndarray, split: ProbeSplit) -> float:
    """Accuracy on the held-out rows of a logistic regression fitted on standardised train features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(features[split.train])
    classifier = LogisticRegression(max_iter=500).fit(scaler.transform(features[split.train]), labels[split.train])
    return float((classifier.predict(scaler.transform(features[split.held_out])) == labels[split.held_out]).mean())
