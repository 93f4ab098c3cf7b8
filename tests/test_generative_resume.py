"""Generative runs cancelled in their worker resume from the checkpoint: the curves continue exactly."""

import numpy as np
import pytest
import torch

from unsup_core.algorithms import get_algorithm
from unsup_core.datasets import load_dataset
from unsup_core.runs.executor import LocalExecutor, RunHandle
from unsup_core.runs.spec import make_spec
from tests.test_worker import wait_for, wait_until_training

EXTRA_STEPS = 40


def uninterrupted_curve(spec, metric: str, steps: int) -> list[float]:
    """The same run trained in this process without stopping (one torch thread, like the worker here)."""
    algorithm_cls = get_algorithm(spec.algorithm)
    algorithm = algorithm_cls(algorithm_cls.build_config(spec.config))
    algorithm.setup(load_dataset(spec.dataset, **spec.dataset_options), device="cpu", seed=spec.seed)
    return [float(algorithm.step()[metric]) for _ in range(steps)]


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
        expected = uninterrupted_curve(spec, metric, stopped_at + EXTRA_STEPS)
        np.testing.assert_array_equal(values, expected)  # before and after the resume
    finally:
        executor.shutdown()
