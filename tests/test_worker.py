"""Real worker processes: runs end, cancel, crash and lose their launcher as a user would see."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from unsup_core.runs import processes
from unsup_core.runs.executor import LocalExecutor, RunHandle
from unsup_core.runs.spec import HELPER, make_spec
from unsup_core.settings import QueueLimits


def wait_for(condition, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def executor(store):
    executor = LocalExecutor(store)
    yield executor
    executor.shutdown()


def long_vae():
    return make_spec("vae", "digits", {"hidden_dim": 64}, steps=1_000_000)


def wait_until_training(store, run_id):
    return wait_for(lambda: (run := store.get_run(run_id)).status == "running" and run.step > 0 and run)


def test_a_run_trains_in_a_worker_process_and_records_everything(store, executor):
    handle = executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4}))
    run = handle.wait(timeout=60)
    assert run.status == "done", run.error
    assert run.pid != os.getpid() and run.device == "cpu" and run.device_label.startswith("CPU")
    metrics = store.last_metrics(run.id)
    assert metrics["ari"] > 0.95 and metrics["inertia"] > 0
    assert store.load_snapshot(run.id)[1]["centers"].shape == (4, 2)
    assert store.load_checkpoint(run.id)["step"] == run.step
    status, fresh = handle.poll()
    assert status == "done" and fresh["inertia"][0][-1] == run.step
    assert handle.poll()[1] == {}  # nothing new the second time


def test_cancel_stops_the_run_within_a_second(store, executor):
    run_id = executor.submit(long_vae()).run_id
    wait_until_training(store, run_id)
    asked = time.monotonic()
    executor.cancel(run_id)
    run = RunHandle(store, run_id).wait(timeout=10, interval=0.01)
    assert time.monotonic() - asked < 1.0
    assert run.status == "cancelled" and run.error is None
    assert store.load_checkpoint(run_id)["step"] == run.step  # checkpointed on cancel
    wait_for(lambda: not processes.is_alive(run.pid), timeout=5)


def test_a_killed_worker_leaves_the_run_failed_with_the_reason(store, executor):
    run_id = executor.submit(long_vae()).run_id
    run = wait_until_training(store, run_id)
    wait_for(lambda: store.count_metric_rows(run_id) > 0)
    os.kill(run.pid, signal.SIGKILL)
    failed = RunHandle(store, run_id).wait(timeout=5)
    assert failed.status == "failed"
    assert "killed by SIGKILL" in failed.error
    assert store.count_metric_rows(run_id) > 0  # metrics written before the kill are kept


def test_two_runs_progress_at_the_same_time(store, executor):
    first, second = (executor.submit(long_vae()).run_id for _ in range(2))
    for run_id in (first, second):
        wait_until_training(store, run_id)
    steps_before = [store.get_run(r).step for r in (first, second)]
    time.sleep(1.5)
    steps_after = [store.get_run(r).step for r in (first, second)]
    assert all(after > before for before, after in zip(steps_before, steps_after))
    for run_id in (first, second):
        executor.cancel(run_id)


def _has_open(pid, path):
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        try:
            if os.readlink(f"{folder}/{fd}") == str(path):
                return True
        except FileNotFoundError:  # closed since the listing (an import's file, a finished thread's pipe)
            continue
    return False


def _resident_mb(pid):
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a worker's memory from /proc")
def test_a_queued_worker_stays_small_until_it_holds_a_slot(store, executor, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_MAX_CPU_RUNS", "1")
    held = store.create_run(make_spec("kmeans", "blobs", steps=1), device="cpu")
    assert store.claim_slot(held, os.getpid(), QueueLimits(cpu=1, cuda=1)) == "claimed"
    run_id = executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=3, device="cpu")).run_id
    pid = store.get_run(run_id).pid
    # Once it has the store open it is past every import it makes before holding a slot.
    wait_for(lambda: _has_open(pid, store.db_path))
    loaded = Path(f"/proc/{pid}/maps").read_text()
    assert not [name for name in ("torch", "sklearn", "pandas", "numpy") if f"/{name}/" in loaded]
    assert _resident_mb(pid) < 80
    assert store.get_run(run_id).status == "queued"
    store.finish(held, "done")
    run = RunHandle(store, run_id).wait(timeout=60)
    assert run.status == "done", run.error


def test_a_failing_run_is_marked_failed_with_its_error(store, executor, tmp_path):
    # The files exist (so the run is accepted at submit) but are not IDX files: it fails in the worker.
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (tmp_path / stem).write_bytes(b"not an IDX file")
    spec = make_spec("vae", "mnist", steps=10, dataset_options={"path": str(tmp_path)})
    run = executor.submit(spec).wait(timeout=60)
    assert run.status == "failed"
    assert run.error.startswith("DatasetError: ") and "is not an IDX file" in run.error
    assert "Traceback" in (store.run_dir(run.id) / "error.log").read_text()


def test_workers_exit_when_the_process_that_started_them_dies(store, lab_home):
    launcher = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from unsup_core.runs.executor import LocalExecutor
        from unsup_core.runs.spec import HELPER, make_spec
        from unsup_core.runs.store import RunStore
        handle = LocalExecutor(RunStore({str(lab_home)!r})).submit(
            make_spec("vae", "digits", {{"hidden_dim": 64}}, steps=1_000_000))
        print(handle.run_id, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    run_id = launcher.stdout.readline().strip()
    run = wait_until_training(store, run_id)
    launcher.kill()
    launcher.wait()
    wait_for(lambda: not processes.is_alive(run.pid, run.pid_start), timeout=5)
    run = store.get_run(run_id)
    assert run.status == "interrupted"
    assert "server that started this run exited" in run.error


def test_a_warm_worker_takes_the_next_run(store):
    executor = LocalExecutor(store, warm_workers=1)
    try:
        warm_pid = executor._warm[0].pid
        run = executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4})).wait(timeout=60)
        assert run.status == "done" and run.pid == warm_pid
        wait_for(lambda: executor._warm and executor._warm[0].poll() is None, timeout=10)
    finally:
        executor.shutdown()


@pytest.mark.slow
def test_a_warm_worker_compiles_umap_while_it_waits_and_a_new_process_loads_it_from_disk(store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_UP_UMAP", "1")
    executor = LocalExecutor(store, warm_workers=1)
    try:
        warm_pid = executor._warm[0].pid
        wait_for(lambda: executor.warm_umap_state() == "warming", timeout=120)
        # Compiling holds the GIL for seconds at a time: a training run goes to a fresh worker meanwhile.
        other = executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4})).wait(timeout=120)
        assert other.status == "done" and other.pid != warm_pid
        # The worker reports "umap" only once its own numba dispatchers hold compiled code (umap_compiled()).
        wait_for(lambda: executor.warm_umap_state() == "warm", timeout=600, interval=0.2)
        spec = make_spec("embedding", "blobs", {"method": "umap"}, purpose=HELPER)
        run = executor.submit(spec).wait(timeout=120)
        assert run.status == "done" and run.pid == warm_pid
    finally:
        executor.shutdown()
    assert list((store.home / "numba-cache").rglob("*.nbi")), "the warm-up wrote no numba cache index"
    fresh_process = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import numpy as np
        from unsup_core.algorithms.umap_compile import import_umap
        umap = import_umap()
        umap.UMAP(n_neighbors=5, n_epochs=5, random_state=0).fit_transform(
            np.random.default_rng(1).normal(size=(60, 4)).astype(np.float32))
        print(sum(umap.umap_.smooth_knn_dist.stats.cache_hits.values()),
              sum(umap.umap_.smooth_knn_dist.stats.cache_misses.values()))
    """)], capture_output=True, text=True, timeout=600, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert fresh_process.returncode == 0, fresh_process.stderr
    hits, misses = map(int, fresh_process.stdout.split())
    assert hits >= 1 and misses == 0
