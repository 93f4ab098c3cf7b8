import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import Dataset, load_dataset
from unsup_core.sample_quality import cache_path, has_scorer, load_or_train_scorer

ROOT = Path(__file__).resolve().parents[1]


def test_the_classifier_knows_digits_and_real_images_score_best(scoring_enabled):
    digits = load_dataset("digits")
    scorer = load_or_train_scorer(digits)
    assert scorer.heldout_accuracy > 0.9
    real = scorer.real_scores
    assert real.inception_score > 8.5 and real.classes_covered == 10 and real.confidence > 0.9
    noise = scorer.score(torch.rand(scorer.n_scored, 64))
    assert noise.frechet_distance > 10 * real.frechet_distance and noise.inception_score < real.inception_score
    one_digit = torch.as_tensor(np.repeat(digits.X[digits.y == 3][:1], scorer.n_scored, axis=0))
    collapsed = scorer.score(one_digit)  # perfect images, no variety: mode collapse
    assert collapsed.classes_covered == 1 and collapsed.inception_score < 1.5


def test_the_classifier_is_cached_and_loaded_without_pickles(scoring_enabled):
    digits = load_dataset("digits")
    path = cache_path(digits)
    assert path.exists() and path.is_relative_to(scoring_enabled)
    modified = path.stat().st_mtime_ns
    first, second = load_or_train_scorer(digits), load_or_train_scorer(digits)
    assert path.stat().st_mtime_ns == modified  # loaded, not trained again
    for a, b in zip(first.classifier.parameters(), second.classifier.parameters()):
        assert torch.equal(a, b)
    assert torch.load(path, weights_only=True)["version"] >= 1


def test_a_damaged_cache_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_HOME", str(tmp_path))
    small = load_dataset("shapes", n_samples=300, image_size=8)
    path = cache_path(small)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    scorer = load_or_train_scorer(small)
    assert scorer is not None and torch.load(path, weights_only=True)["n_classes"] == 3


def test_only_labelled_images_can_be_scored():
    assert has_scorer(load_dataset("digits"))
    assert not has_scorer(load_dataset("ring8")) and not has_scorer(load_dataset("iris"))
    unlabelled = Dataset("plain", "images", np.zeros((4, 4)), image_shape=(2, 2))
    assert not has_scorer(unlabelled)


def test_scoring_does_not_change_what_the_model_learns(scoring_enabled):
    losses = {}
    for eval_every in (0, 1):
        algorithm_cls = get_algorithm("dcgan")
        dcgan = algorithm_cls(algorithm_cls.build_config({"eval_every": eval_every}))
        dcgan.setup(load_dataset("digits"), device="cpu", seed=0)
        if eval_every:
            dcgan.scores.loader.wait()
        values = [dcgan.step() for _ in range(4)]
        if eval_every:
            assert all("score_fid" in v for v in values)
        losses[eval_every] = [(float(v["d_loss"]), float(v["g_loss"])) for v in values]
    assert losses[0] == losses[1]


def test_exiting_stops_a_classifier_still_in_training(tmp_path):
    # A thread still inside a torch kernel while the interpreter shuts down can abort the process
    # ("terminate called without an active exception"), so the module stops and joins its loaders at exit.
    script = textwrap.dedent("""
        import atexit
        loaders = []
        # Registered before the module's own handler, so it runs after it (atexit runs last-in first-out).
        atexit.register(lambda: print("still loading at exit:", sum(loader.loading for loader in loaders)))
        from unsup_core.datasets import load_dataset
        from unsup_core.sample_quality import BackgroundScorer
        loaders += [BackgroundScorer(load_dataset("digits"), "cpu") for _ in range(2)]
        assert all(loader.loading for loader in loaders)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "UNSUP_LAB_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "still loading at exit: 0" in result.stdout
    assert not (tmp_path / "quality").exists()  # an abandoned classifier is not cached
