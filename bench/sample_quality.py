"""Sample quality after a fixed training budget: every image model against held-out real images,
and the 2-D GANs' mode coverage on ring8.

Image scores come from the small classifier of :mod:`unsup_core.sample_quality` (trained once on
85% of the dataset): an Inception-like score (higher is better, at most the number of classes),
classes covered and a Fréchet distance on its features (lower is better). Held-out real images
give the reference. Each model trains with its default config for the same number of steps
(``--seconds`` of wall time, default 60, or ``--steps``), in this process, with a worker's thread count.

    python bench/sample_quality.py [--dataset digits] [--seconds 60 | --steps 1500] [--device auto]
"""

from __future__ import annotations

import argparse
import time

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset
from unsup_core.device import resolve_device
from unsup_core.generative_metrics import find_modes, mode_coverage
from unsup_core.runs.worker import limit_threads
from unsup_core.sample_quality import load_or_train_scorer

IMAGE_MODELS = [("vae", {}), ("vae", {"architecture": "conv", "latent_dim": 16}), ("dcgan", {}),
                ("wgan_gp", {}), ("pixelcnn", {})]
POINT_MODELS = [("gan", {}), ("wgan_gp", {})]


def train(name: str, overrides: dict, dataset, device: str, steps: int | None, seconds: float | None):
    """The model after the budget, with the steps it took and the seconds it ran."""
    algorithm_cls = get_algorithm(name)
    algorithm = algorithm_cls(algorithm_cls.build_config({**overrides, "eval_every": 0}))
    algorithm.setup(dataset, device=device, seed=0)
    start = time.perf_counter()
    done = 0
    while (steps is not None and done < steps) or (seconds is not None and time.perf_counter() - start < seconds):
        algorithm.step()
        done += 1
    return algorithm, done, time.perf_counter() - start


def label(name: str, overrides: dict) -> str:
    return name + "".join(f" {key}={value}" for key, value in overrides.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, default=None, help="wall-clock seconds per model (default 60)")
    budget.add_argument("--steps", type=int, default=None, help="training steps per model instead")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    steps, seconds = args.steps, args.seconds
    if steps is None and seconds is None:
        seconds = 60.0
    device = resolve_device(args.device)
    limit_threads()
    import torch

    print(f"device: {device}, torch threads: {torch.get_num_threads()}, "
          f"budget: {f'{steps} steps' if steps else f'{seconds:g} s'} per model")
    data = load_dataset(args.dataset)
    scorer = load_or_train_scorer(data, device)
    real = scorer.real_scores
    print(f"\n{args.dataset}: classifier accuracy on held-out images {scorer.heldout_accuracy:.3f}; "
          f"scores use {scorer.n_scored} images")
    print(f"{'model':<36} {'steps':>6} {'seconds':>8} {'IS-like':>8} {'classes':>8} {'FID-like':>9}")
    print(f"{'real held-out images':<36} {'-':>6} {'-':>8} {real.inception_score:8.2f} "
          f"{real.classes_covered:8d} {real.frechet_distance:9.1f}")
    for name, overrides in IMAGE_MODELS:
        model, done, elapsed = train(name, overrides, data, device, steps, seconds)
        scores = scorer.score(model.quality_samples())
        print(f"{label(name, overrides):<36} {done:6d} {elapsed:8.1f} {scores.inception_score:8.2f} "
              f"{scores.classes_covered:8d} {scores.frechet_distance:9.1f}")

    ring = load_dataset("ring8")
    modes = find_modes(ring.X, ring.y)
    print("\nring8: modes covered (of 8) and fraction of samples within 3 std of a mode, 1000 fixed samples")
    print(f"{'model':<36} {'steps':>6} {'seconds':>8} {'modes':>8} {'on mode':>9}")
    covered, high_quality = mode_coverage(modes, ring.X[:1000])
    print(f"{'real points':<36} {'-':>6} {'-':>8} {int(covered.sum()):8d} {high_quality:9.2f}")
    for name, overrides in POINT_MODELS:
        model, done, elapsed = train(name, overrides, ring, device, steps, seconds)
        covered, high_quality = mode_coverage(modes, model.generate(model.fixed_noise).cpu().numpy())
        print(f"{label(name, overrides):<36} {done:6d} {elapsed:8.1f} {int(covered.sum()):8d} {high_quality:9.2f}")


if __name__ == "__main__":
    main()
