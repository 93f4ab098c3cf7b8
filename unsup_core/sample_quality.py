"""Offline sample quality for image models: a small classifier trained once on the real images.

Inception Score and FID need an ImageNet network and a download; ours is a small CNN trained on
the dataset itself (85% of it; the other 15% is held out), cached in the data home and loaded with
``weights_only=True``. Generated images are scored with its class probabilities (an Inception-like
score, confidence, classes covered) and its penultimate features (a Fréchet distance to the
training images' features). The same numbers for held-out real images are the ceiling to compare.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unsup_core import generative_metrics
from unsup_core.datasets import Dataset
from unsup_core.paths import data_home

CACHE_VERSION = 1  # bump when the classifier or its training changes, so old caches are ignored
HELDOUT_FRACTION = 0.15
MAX_SCORED = 1000  # images per score: held-out size on small sets, else this many
TRAINING_STEPS = 1000
BATCH_SIZE = 64
FEATURE_DIM = 64


class ImageClassifier(nn.Module):
    """Images [B, C, H, W] in [0, 1] -> logits [B, K]; :meth:`features` gives the [B, 64] layer below."""

    def __init__(self, channels: int, n_classes: int, image_size: int) -> None:
        super().__init__()
        # Small images (digits, 8x8) keep their resolution in the first layer; larger ones halve it.
        first_stride = 1 if image_size <= 16 else 2
        self.body = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=first_stride, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            nn.Linear(32 * 16, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, n_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


@dataclass
class QualityScores:
    inception_score: float  # exp(E KL(p(y|x) || p(y))): 1 (useless) .. K (confident and varied)
    frechet_distance: float  # between classifier features of the samples and of the training images
    confidence: float  # mean top-class probability
    classes_covered: int  # classes that are the top prediction of enough samples

    def as_metrics(self, prefix: str = "score_") -> dict[str, float]:
        return {f"{prefix}is": self.inception_score, f"{prefix}fid": self.frechet_distance,
                f"{prefix}confidence": self.confidence, f"{prefix}classes": float(self.classes_covered)}


def _channels(image_shape: tuple[int, ...]) -> int:
    return 1 if len(image_shape) == 2 else image_shape[0]


def _as_batch(images: torch.Tensor, image_shape: tuple[int, ...]) -> torch.Tensor:
    """Any [N, D] or [N, (C,) H, W] images -> [N, C, H, W] float32."""
    return images.reshape(len(images), _channels(image_shape), *image_shape[-2:]).float()


class SampleScorer:
    """Scores images shaped like the dataset's (``image_shape``, values in [0, 1])."""

    def __init__(self, classifier: ImageClassifier, image_shape: tuple[int, ...], reference_mean: np.ndarray,
                 reference_cov: np.ndarray, n_scored: int, heldout_accuracy: float, real_scores: QualityScores,
                 device: str) -> None:
        self.classifier = classifier.to(device).eval()
        self.image_shape = image_shape
        self.reference_mean = reference_mean
        self.reference_cov = reference_cov
        self.n_scored = n_scored
        self.heldout_accuracy = heldout_accuracy
        self.real_scores = real_scores
        self.device = device

    @torch.no_grad()
    def _outputs(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        batch = _as_batch(images.to(self.device), self.image_shape).clamp(0, 1)
        features = self.classifier.features(batch)
        probabilities = F.softmax(self.classifier.head(features), dim=1)
        return probabilities.double().cpu().numpy(), features.double().cpu().numpy()

    def score(self, images: torch.Tensor) -> QualityScores:
        """Scores of images [N, D] or [N, (C,) H, W]; use ``n_scored`` of them so numbers compare."""
        probabilities, features = self._outputs(images)
        mean, cov = generative_metrics.feature_statistics(features)
        return QualityScores(
            inception_score=generative_metrics.inception_score(probabilities),
            frechet_distance=generative_metrics.frechet_distance(mean, cov, self.reference_mean, self.reference_cov),
            confidence=float(probabilities.max(axis=1).mean()),
            classes_covered=generative_metrics.classes_covered(probabilities),
        )


def dataset_fingerprint(data: Dataset) -> str:
    """A content hash, so any loader options that give the same images share one classifier."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr((data.name, data.image_shape, CACHE_VERSION)).encode())
    digest.update(np.ascontiguousarray(data.X).data)
    digest.update(np.ascontiguousarray(data.y).astype(np.int64).data)
    return digest.hexdigest()


def cache_path(data: Dataset) -> Path:
    return data_home() / "quality" / f"{data.name}-{dataset_fingerprint(data)}.pt"


def split_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows), the same for every run on the same data."""
    order = np.random.default_rng(0).permutation(n)
    n_heldout = max(1, int(round(HELDOUT_FRACTION * n)))
    return np.sort(order[n_heldout:]), np.sort(order[:n_heldout])


def scored_sample_count(data: Dataset) -> int:
    """How many images one score uses: the held-out set's size, at most ``MAX_SCORED`` (0 if unscorable)."""
    return min(MAX_SCORED, len(split_rows(data.n_samples)[1])) if has_scorer(data) else 0


def _class_indices(data: Dataset) -> np.ndarray:
    return np.unique(data.y, return_inverse=True)[1]


def new_classifier(data: Dataset) -> ImageClassifier:
    """An untrained classifier, initialised from its own seed without touching the caller's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return ImageClassifier(_channels(data.image_shape), int(_class_indices(data).max()) + 1,
                               max(data.image_shape[-2:]))


class TrainingStopped(Exception):
    """The process is exiting: the classifier's training was abandoned (nothing is cached)."""


def _train(data: Dataset, device: str, classifier: ImageClassifier, stop: threading.Event | None = None) -> dict:
    """Fit ``classifier`` and compute the reference statistics; returns the payload to cache.

    Draws from its own random generator only, so it can run in a thread beside a training run;
    ``stop`` ends it between two steps.
    """
    train_rows, heldout_rows = split_rows(data.n_samples)
    labels = _class_indices(data)
    images = _as_batch(torch.as_tensor(data.X, device=device), data.image_shape)
    targets = torch.as_tensor(labels, device=device)
    classifier = classifier.to(device).train()
    optimizer = torch.optim.Adam(classifier.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(0)
    train_index = torch.as_tensor(train_rows)
    for _ in range(TRAINING_STEPS):
        if stop is not None and stop.is_set():
            raise TrainingStopped
        picks = torch.randint(len(train_index), (min(BATCH_SIZE, len(train_index)),), generator=generator)
        rows = train_index[picks].to(device)
        loss = F.cross_entropy(classifier(images[rows]), targets[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    n_scored = scored_sample_count(data)
    reference_rows = train_rows[np.random.default_rng(1).permutation(len(train_rows))[:10 * MAX_SCORED]]
    scorer = SampleScorer(classifier, data.image_shape, np.zeros(FEATURE_DIM), np.eye(FEATURE_DIM), n_scored,
                          0.0, QualityScores(0.0, 0.0, 0.0, 0), device)
    scorer.reference_mean, scorer.reference_cov = generative_metrics.feature_statistics(
        scorer._outputs(images[reference_rows])[1])
    accuracy = float((scorer._outputs(images[heldout_rows])[0].argmax(axis=1) == labels[heldout_rows]).mean())
    real = scorer.score(images[heldout_rows[:n_scored]])
    return {
        "version": CACHE_VERSION, "weights": classifier.state_dict(), "n_classes": int(labels.max()) + 1,
        "reference_mean": torch.as_tensor(scorer.reference_mean),
        "reference_cov": torch.as_tensor(scorer.reference_cov),
        "n_scored": n_scored, "heldout_accuracy": accuracy,
        "real_scores": [real.inception_score, real.frechet_distance, real.confidence, real.classes_covered],
    }


def _atomic_save(payload: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as stream:
        stream.write(buffer.getvalue())
    os.replace(temporary, path)


def has_scorer(data: Dataset) -> bool:
    """Whether ``data`` can be scored: labelled images with at least two classes."""
    return data.kind == "images" and data.y is not None and len(np.unique(data.y)) >= 2


def load_or_train_scorer(data: Dataset, device: str = "cpu", untrained: ImageClassifier | None = None,
                         stop: threading.Event | None = None) -> SampleScorer | None:
    """The cached scorer for ``data`` (training and caching it the first time); None if unscorable.

    ``untrained``: a fresh :func:`new_classifier` to train or load the weights into.
    """
    if not has_scorer(data):
        return None
    path = cache_path(data)
    payload = None
    if path.exists():
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a truncated or foreign file: train again and overwrite it
            payload = None
    # Built by the caller when this runs in a thread: creating a module draws from the global RNG.
    classifier = untrained if untrained is not None else new_classifier(data)
    if payload is None or payload.get("version") != CACHE_VERSION:
        payload = _train(data, device, classifier, stop)
        _atomic_save(payload, path)
    classifier.load_state_dict(payload["weights"])
    real = payload["real_scores"]
    return SampleScorer(classifier, data.image_shape, payload["reference_mean"].numpy(),
                        payload["reference_cov"].numpy(), int(payload["n_scored"]),
                        float(payload["heldout_accuracy"]),
                        QualityScores(float(real[0]), float(real[1]), float(real[2]), int(real[3])), device)


class BackgroundScorer:
    """Loads the scorer in a thread, so a run's first steps never wait for the classifier's training.

    The first run on a dataset trains the classifier (seconds on digits, a minute or so on MNIST on
    a CPU); later runs load it from the cache at once. Training is unaffected either way: the thread
    uses its own random generator and only its own tensors. At exit the thread is stopped and joined:
    a thread still inside a torch kernel while the interpreter shuts down aborts the process.
    """

    _running: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, data: Dataset, device: str) -> None:
        self.error: str | None = None
        self._scorer: SampleScorer | None = None
        self._stop = threading.Event()
        untrained = new_classifier(data)  # here, so the thread never touches the global RNG
        self._thread = threading.Thread(target=self._load, args=(data, device, untrained), daemon=True,
                                        name="sample-scorer")
        BackgroundScorer._running.add(self)
        self._thread.start()

    def _load(self, data: Dataset, device: str, untrained: ImageClassifier) -> None:
        try:
            self._scorer = load_or_train_scorer(data, device, untrained, self._stop)
        except TrainingStopped:
            pass
        except Exception as error:  # scoring is optional: training goes on without it
            self.error = f"{type(error).__name__}: {error}"

    @property
    def loading(self) -> bool:
        return self._thread.is_alive()

    def ready(self) -> SampleScorer | None:
        """The scorer once loaded, else None (still loading, or failed: see ``error``)."""
        return None if self.loading else self._scorer

    def wait(self, timeout: float | None = None) -> SampleScorer | None:
        self._thread.join(timeout)
        return self.ready()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@atexit.register
def _stop_background_scorers() -> None:
    for loader in list(BackgroundScorer._running):
        loader.stop()
