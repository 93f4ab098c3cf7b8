"""Runs on a real Ray cluster of two nodes with the store in a real PostgreSQL server.

`.ci/run` starts both (a Ray head with custom resource ``node1`` and a second node with ``node2``,
and PostgreSQL on 127.0.0.1) and sets UNSUP_LAB_TEST_RAY_ADDRESS / UNSUP_LAB_TEST_DATABASE_URL.
"""

import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.conftest import stop_active_runs
from tests.test_worker import wait_for
from unsup_core.runs.executor import RunHandle
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from unsup_core.settings import ClusterSettings, QueueLimits


@pytest.fixture
def cluster_store(lab_home, postgres_url):
    return RunStore(lab_home)


def ray_executor(store, address, **resources):
    from unsup_core.runs.ray_executor import RayExecutor

    return RayExecutor(store, ClusterSettings("ray", address, cpus_per_run=1.0, ray_resources=resources))


@pytest.fixture
def cluster(cluster_store, ray_address):
    executors = []

    def make(**resources):
        executors.append(ray_executor(cluster_store, ray_address, **resources))
        return executors[-1]

    yield make
    for executor in executors:
        executor.shutdown()
    stop_active_runs(cluster_store)


def node_of(executor, run):
    """The Ray node id whose job trained ``run``."""
    return executor.client.get_job_info(run.ray_job).driver_node_id


def second_node_id(executor):
    from ray.util.state import list_nodes

    return next(node.node_id for node in list_nodes(address=executor.settings.ray_address)
                if "node2" in node.resources_total)


def test_twelve_runs_spread_over_both_nodes_and_every_metric_row_is_stored_once(cluster_store, cluster,
                                                                                 monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_MAX_CPU_RUNS", "6")  # 3 CPUs on each node: both are needed
    executor = cluster()
    specs = [make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=12, seed=seed) for seed in range(12)]
    handles = [executor.submit(spec) for spec in specs]
    runs = [handle.wait(timeout=240) for handle in handles]
    assert [run.status for run in runs] == ["done"] * 12, [run.error for run in runs]
    assert len({node_of(executor, run) for run in runs}) == 2  # placed on both nodes
    for run in runs:
        rows = cluster_store.metric_rows(run.id)
        names = {name for name, _, _, _ in rows}
        # Each metric has one row per step trained (k-means may converge before its 12 steps): once each.
        assert sorted((name, step) for name, step, _, _ in rows) == [
            (name, step) for name in sorted(names) for step in range(1, run.step + 1)]
        assert "inertia" in names and run.step >= 2


def test_cancel_reaches_a_run_on_the_second_node_within_a_second(cluster_store, cluster):
    executor = cluster(node2=1)
    run_id = executor.submit(make_spec("vae", "digits", {"hidden_dim": 32}, steps=1_000_000)).run_id
    run = wait_for(lambda: (run := cluster_store.get_run(run_id)).step > 0 and run, timeout=120)
    assert node_of(executor, run) == second_node_id(executor)
    executor.cancel(run_id)
    cancelled = RunHandle(cluster_store, run_id).wait(timeout=1.5)
    assert cancelled.status == "cancelled"
    step = cancelled.step
    wait_for(lambda: executor.client.get_job_status(run.ray_job).value in ("STOPPED", "FAILED"), timeout=10)
    assert cluster_store.get_run(run_id).step == step  # the worker is gone, not still training


def job_ended(executor, job_id):
    return executor.client.get_job_status(job_id).value in ("STOPPED", "FAILED", "SUCCEEDED")


def test_deleting_a_ray_run_stops_its_job_and_the_watcher_stops_jobs_of_ended_runs(cluster_store, cluster,
                                                                                  monkeypatch):
    from unsup_core.runs import ray_executor
    from unsup_core.runs.executor import cancel_and_wait

    monkeypatch.setenv("UNSUP_LAB_MAX_CPU_RUNS", "3")
    monkeypatch.setattr(ray_executor, "ORPHAN_SWEEP_INTERVAL", 0.5)
    executor = cluster(node2=1)
    monkeypatch.setenv("UNSUP_LAB_RAY_ADDRESS", executor.settings.ray_address)  # what the CLI and pages read
    spec = make_spec("vae", "digits", {"hidden_dim": 32}, steps=1_000_000)
    run_ids = [executor.submit(spec).run_id for _ in range(3)]
    deleted, killed, ended = (wait_for(lambda: (run := cluster_store.get_run(run_id)).step > 0 and run, timeout=120)
                              for run_id in run_ids)
    # The CLI's delete: the worker reads the cancel flag and ends; the command returns once its job has.
    result = subprocess.run([sys.executable, "-m", "unsup_core", "delete", deleted.id, "--yes"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert job_ended(executor, deleted.ray_job) and not cluster_store.has_run(deleted.id)
    # No grace: the kill path, as for a worker inside one long step that never reads the cancel flag.
    assert cancel_and_wait(cluster_store, killed.id, grace=0).status == "cancelled"
    assert job_ended(executor, killed.ray_job)  # ended before the run is recorded cancelled, so before a delete
    # A run ended in the store while its worker trains on (no cancel flag to read): the watcher stops the job.
    cluster_store.finish(ended.id, "failed", "ended elsewhere")
    wait_for(lambda: job_ended(executor, ended.ray_job), timeout=30)


def test_a_killed_worker_on_the_second_node_fails_the_run_and_resume_continues_it(cluster_store, cluster):
    executor = cluster(node2=1)
    run_id = executor.submit(make_spec("vae", "digits", {"hidden_dim": 32, "eval_every": 0}, steps=1_000_000)).run_id
    wait_for(lambda: cluster_store.load_checkpoint(run_id) is not None, timeout=120)  # the first, after 5 s
    run = cluster_store.get_run(run_id)
    os.kill(run.pid, signal.SIGKILL)  # the worker's process on node2 (this same machine in CI)
    failed = RunHandle(cluster_store, run_id).wait(timeout=15)
    assert failed.status == "failed" and "killed by SIGKILL" in failed.error and run.ray_job in failed.error
    checkpoint_step = cluster_store.load_checkpoint(run_id)["step"]
    resumed = executor.resume(run_id, steps=failed.step + 20).wait(timeout=180)
    assert resumed.status == "done", resumed.error
    assert resumed.ray_job != run.ray_job and node_of(executor, resumed) == second_node_id(executor)
    steps = cluster_store.read_metrics(run_id)["loss"][0].tolist()
    assert steps == list(range(1, failed.step + 21)) and checkpoint_step > 0  # no gap, no duplicate


def test_queue_order_and_slots_hold_on_the_cluster(cluster_store, cluster, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_MAX_CPU_RUNS", "1")
    executor = cluster()
    first, second = (executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=5, seed=seed))
                     for seed in range(2))
    first, second = first.wait(timeout=120), second.wait(timeout=120)
    assert first.status == second.status == "done"
    # One slot: the second run was handed to Ray only after the first ended.
    assert first.ended_at <= second.started_at


def test_the_database_password_stays_out_of_the_job_and_the_nodes_supply_it(cluster_store, cluster, postgres_url):
    password = urlsplit(postgres_url).password
    assert password, "the test PostgreSQL has a password (.ci/services.sh)"
    executor = cluster()
    run = executor.submit(make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=3)).wait(timeout=120)
    assert run.status == "done", run.error  # its worker reached the store with the node's own PGPASSFILE
    info = executor.client.get_job_info(run.ray_job)  # what anyone who reaches the Jobs API reads
    assert password not in repr(info) and "@127.0.0.1" in info.runtime_env["env_vars"]["UNSUP_LAB_DATABASE_URL"]


def test_a_run_whose_job_ray_has_forgotten_is_marked_failed(cluster_store, cluster):
    executor = cluster()
    run_id = cluster_store.create_run(make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=5))
    cluster_store.set_ray_job(run_id, "unsup-lab-lost-job")  # as if the Ray head restarted since
    cluster_store.claim_slot(run_id, 1, QueueLimits(cpu=4, cuda=1))
    cluster_store._execute("UPDATE runs SET updated_at=updated_at-120 WHERE id=?", (run_id,))
    executor.reap()
    wait_for(lambda: cluster_store.get_run(run_id).status == "failed", timeout=10)
    assert "no record of job unsup-lab-lost-job" in cluster_store.get_run(run_id).error


@pytest.mark.parametrize("variable, value, says", [
    ("UNSUP_LAB_EXECUTOR", "slurm", "use one of: local, ray"),
    ("UNSUP_LAB_GPU_PER_RUN", "half", "must be a number from 0 to 16"),
    ("UNSUP_LAB_GPU_PER_RUN", "-1", "must be a number from 0 to 16"),
    ("UNSUP_LAB_RAY_RESOURCES", '{"node2": "all"}', "JSON object of resource names to positive amounts"),
    ("UNSUP_LAB_RAY_RESOURCES", "[1]", "JSON object of resource names to positive amounts"),
])
def test_bad_cluster_settings_are_refused_in_one_sentence(monkeypatch, variable, value, says):
    from unsup_core.errors import UserError

    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError, match=says):
        ClusterSettings.from_env()


def test_the_ray_executor_needs_an_address_and_the_store_a_postgresql_url(monkeypatch, lab_home):
    from unsup_core.errors import UserError

    monkeypatch.setenv("UNSUP_LAB_EXECUTOR", "ray")
    with pytest.raises(UserError, match="needs UNSUP_LAB_RAY_ADDRESS"):
        ClusterSettings.from_env()
    monkeypatch.setenv("UNSUP_LAB_DATABASE_URL", "mysql://somewhere/lab")
    with pytest.raises(UserError, match="must start with postgresql://"):
        RunStore(lab_home)


@pytest.mark.parametrize("settings, says", [
    ({"UNSUP_LAB_DATABASE_URL": "postgresql://lab:secret@127.0.0.1:1/lab"}, "cannot reach the PostgreSQL database"),
    ({"UNSUP_LAB_EXECUTOR": "ray", "UNSUP_LAB_RAY_ADDRESS": "http://127.0.0.1:1"}, "cannot reach the Ray cluster"),
])
def test_an_unreachable_database_or_cluster_is_one_sentence(lab_home, settings, says):
    command = ["list"] if "UNSUP_LAB_DATABASE_URL" in settings else ["run", "kmeans", "--dataset", "blobs"]
    result = subprocess.run([sys.executable, "-m", "unsup_core", *command], capture_output=True, text=True,
                            env={**os.environ, **settings}, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith(f"error: {says}")
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
