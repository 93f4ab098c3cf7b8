"""Faults a shared server meets: killed workers, full or read-only disks, many sessions at once."""

import os
import signal
import subprocess
import threading
import time

import pytest

from unsup_core.runs.executor import LocalExecutor, RunHandle
from unsup_core.runs.spec import make_spec
from tests.test_worker import wait_for, wait_until_training


def test_a_killed_run_keeps_its_metrics_and_resumes_from_its_checkpoint(store):
    executor = LocalExecutor(store)
    try:
        run_id = executor.submit(make_spec("vae", "digits", {"hidden_dim": 64}, steps=6000)).run_id
        wait_until_training(store, run_id)
        wait_for(lambda: store.checkpoint_path(run_id).exists(), timeout=60)
        killed_at = store.get_run(run_id)
        os.kill(killed_at.pid, signal.SIGKILL)
        failed = RunHandle(store, run_id).wait(timeout=5)
        assert failed.status == "failed" and "killed by SIGKILL" in failed.error
        rows_before = store.read_metrics(run_id)["loss"]
        assert len(rows_before[0]) > 0
        checkpoint_step = store.load_checkpoint(run_id)["step"]
        assert 0 < checkpoint_step <= rows_before[0][-1]

        # Fewer steps than first planned keep the test short; the resume still starts at the checkpoint.
        total = int(rows_before[0][-1]) + 300
        done = executor.resume(run_id, steps=total).wait(timeout=300)
        assert done.status == "done" and done.step == total, done.error
        steps, losses = store.read_metrics(run_id)["loss"]
        assert steps.tolist() == list(range(1, total + 1))  # every step exactly once, no gap, no duplicate
        # The curve continues from the checkpoint instead of starting over.
        early = losses[:20].mean()
        resumed = losses[checkpoint_step:checkpoint_step + 20].mean()
        assert resumed < 0.8 * early
    finally:
        executor.shutdown()


@pytest.fixture
def tiny_mount(tmp_path):
    """Mount a small tmpfs (root only; CI runs as root) and unmount it afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill the disk needs root (CI runs as root)")
    mounted = []

    def mount(path, options):
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
        mounted.append(path)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.parametrize("options, message", [
    ("size=8k", "disk full: no space left on device"),
    ("ro,size=1m", "cannot write"),
])
def test_a_full_or_read_only_run_folder_fails_that_run_cleanly_and_others_go_on(store, tiny_mount, options,
                                                                                 message):
    executor = LocalExecutor(store)
    try:
        spec = make_spec("kmeans", "blobs", {"n_clusters": 4})
        doomed = store.create_run(spec, device="cpu")
        tiny_mount(store.run_dir(doomed), options)
        executor.start(doomed)
        healthy = executor.submit(spec)
        failed = RunHandle(store, doomed).wait(timeout=60)
        assert failed.status == "failed"
        assert failed.error.startswith(message), failed.error
        assert healthy.wait(timeout=60).status == "done"
    finally:
        executor.shutdown()


@pytest.mark.slow  # a stress case (45 s); the queue's rules are unit-tested in test_store
def test_twenty_runs_from_three_sessions_all_finish_with_every_row_once(store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_MAX_CPU_RUNS", "2")
    spec = make_spec("kmeans", "blobs", {"n_clusters": 6, "init": "random", "tol": 0.0},
                     dataset_options={"n_samples": 20000})
    run_ids, errors = [], []

    def session(count):
        executor = LocalExecutor(type(store)(store.home))  # each session: its own executor and connection
        try:
            run_ids.extend(executor.submit(spec, owner=f"session-{count}").run_id for _ in range(count))
        except Exception as error:  # noqa: BLE001 - any error here is what the test must catch
            errors.append(error)

    threads = [threading.Thread(target=session, args=(count,)) for count in (7, 7, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(run_ids)) == 20
    runs = [RunHandle(store, run_id).wait(timeout=300) for run_id in run_ids]
    assert {run.status for run in runs} == {"done"}, [run.error for run in runs]
    for run in runs:
        metrics = store.read_metrics(run.id)
        assert store.count_metric_rows(run.id) == len(metrics) * run.step
        for steps, _ in metrics.values():
            assert steps.tolist() == list(range(1, run.step + 1))
        log = store.run_dir(run.id) / "worker.log"
        assert "locked" not in (log.read_text() if log.exists() else "")
    # Never more runs training at once than there are slots.
    events = sorted([(run.started_at, 1) for run in runs] + [(run.ended_at, -1) for run in runs])
    running, most = 0, 0
    for _, change in events:
        running += change
        most = max(most, running)
    assert most <= 2
    assert store.get_run(run_ids[0]).queued_at <= store.get_run(run_ids[-1]).queued_at
