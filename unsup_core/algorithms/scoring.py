"""When a generative run scores its samples, and the metric rows it logs for image quality."""

from __future__ import annotations

import torch

from unsup_core.datasets import Dataset
from unsup_core.sample_quality import BackgroundScorer, SampleScorer, has_scorer, scored_sample_count


class ScoreSchedule:
    """Score at step 1, every ``every`` steps (0 = never) and at the run's last step, so the curve's
    points sit on round steps and the final model always has a score. The classifier loads in the
    background; a due step that finds it not ready yet is skipped.
    """

    def __init__(self, every: int, data: Dataset, device: str) -> None:
        self.every = every
        self.loader = BackgroundScorer(data, device) if every and has_scorer(data) else None
        self.n_scored = scored_sample_count(data)  # also without scoring: the samples are in the state

    def scorer(self) -> SampleScorer | None:
        return self.loader.ready() if self.loader else None

    def due(self, steps_done: int, last_step: int | None = None) -> bool:
        if not self.every:
            return False
        return steps_done == 1 or steps_done % self.every == 0 or steps_done == last_step


def image_quality_metrics(schedule: ScoreSchedule, images: torch.Tensor) -> dict[str, float]:
    """Classifier scores of ``images`` [N, D] in [0, 1], with the held-out real images' for reference."""
    scorer = schedule.scorer()
    if scorer is None:
        return {}
    real = scorer.real_scores
    return {**scorer.score(images).as_metrics(), "score_is_real": real.inception_score,
            "score_fid_real": real.frechet_distance}
