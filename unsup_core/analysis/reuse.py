"""Finding a run that already did the work: an embedding or a sweep of the same prepared data is reused."""

from __future__ import annotations

from unsup_core.runs.store import RunRecord

REUSABLE_STATUSES = ("queued", "running", "done")


def find_run(runs: list[RunRecord], algorithm: str, dataset: str, dataset_options: dict,
             config: dict | None = None) -> RunRecord | None:
    """The newest run of ``algorithm`` on the same data (and ``config``, when given) that is done or
    still going; failed and cancelled runs are not reused. ``runs`` come newest first."""
    for run in runs:
        spec = run.spec
        if (run.status in REUSABLE_STATUSES and spec.algorithm == algorithm and spec.dataset == dataset
                and spec.dataset_options == dataset_options and (config is None or spec.config == config)):
            return run
    return None
