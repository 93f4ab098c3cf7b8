"""Generative runs cancelled in their worker resume from the checkpoint: the curves continue exactly."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from unsup_core.runs.executor import LocalExecutor, RunHandle
from unsup_core.runs.spec import make_spec
from tests.test_worker import wait_for, wait_until_training

EXTRA_STEPS = 40


def uninterrupted_curve(executor, store, spec, metric: str, steps: int) -> np.ndarray:
    """The same run trained without stopping, in a worker as well: a test process that has run hundreds
    of other tests may have its thread pools set otherwise, and torch's fused Adam splits its update
    across threads, so only a worker-to-worker comparison is exact."""
    reference = executor.submit(replace(spec, steps=steps)).wait(timeout=120)
    assert reference.status == "done", reference.error
    return store.read_metrics(reference.id)[metric][1]


@pytest.mark.parametrize(("algorithm", "dataset", "config", "metric"), [
    ("gan", "ring8", {"eval_every": 0}, "g_loss"),
    pytest.param("dcgan", "digits", {"eval_every": 0, "base_channels": 16}, "d_loss", marks=pytest.mark.slow),
])
def test_a_cancelled_generative_run_resumes_and_continues_its_curves_exactly(store, monkeypatch, algorithm,
                                                                            dataset, config, metric):
    monkeypatch.setenv("UNSUP_LAB_WORKER_THREADS", str(torch.get_num_threads()))
    executor = LocalExecutor(store)
    try:
        spec = make_spec(algorithm, dataset, config, steps=1_000_000)
        run_id = executor.submit(spec).run_id
        wait_until_training(store, run_id)
        wait_for(lambda: store.get_run(run_id).step >= 5)
        executor.cancel(run_id)
        cancelled = RunHandle(store, run_id).wait(timeout=10)
        assert cancelled.status == "cancelled"
        stopped_at = store.load_checkpoint(run_id)["step"]
        assert stopped_at == cancelled.step

        done = executor.resume(run_id, steps=stopped_at + EXTRA_STEPS).wait(timeout=120)
        assert done.status == "done", done.error
        steps, values = store.read_metrics(run_id)[metric]
        assert steps.tolist() == list(range(1, stopped_at + EXTRA_STEPS + 1))
        expected = uninterrupted_curve(executor, store, spec, metric, stopped_at + EXTRA_STEPS)
        np.testing.assert_array_equal(values, expected)  # before and after the resume
    finally:
        executor.shutdown()
