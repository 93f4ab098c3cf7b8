import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from unsup_core.runs.spec import make_spec
from unsup_core.settings import QueueLimits
from unsup_core.runs.store import RunNotFound, RunStore


LIMITS = QueueLimits(cpu=100, cuda=1)


def _spec(**overrides):
    return make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=overrides.pop("steps", 10), **overrides)


@pytest.fixture
def store(any_store):
    """Every test here runs against SQLite and PostgreSQL."""
    return any_store


def test_create_get_and_list_runs_newest_first(store):
    first = store.create_run(_spec())
    second = store.create_run(_spec(seed=3))
    run = store.get_run(second)
    assert run.status == "queued" and run.spec.seed == 3 and run.spec.config["n_clusters"] == 4
    assert [r.id for r in store.list_runs()] == [second, first]
    assert store.run_dir(first).is_dir()
    with pytest.raises(RunNotFound, match="no run with id 'missing'"):
        store.get_run("missing")


def test_run_ids_are_unique_under_concurrent_creation(store):
    ids, spec = [], _spec()

    def create_many():
        local = RunStore(store.home)
        ids.extend(local.create_run(spec) for _ in range(40))

    threads = [threading.Thread(target=create_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == len(set(ids)) == 160


def test_metrics_are_written_in_batches_and_read_incrementally(store):
    run_id = store.create_run(_spec())
    store.log_metrics(run_id, [("loss", 1, 3.0), ("loss", 2, 2.0), ("kl", 2, 0.5)], step=2, steps_per_second=10.0)
    store.log_metrics(run_id, [("loss", 3, 1.0), ("loss", 4, float("nan"))], step=4)
    everything = store.read_metrics(run_id)
    assert everything["loss"][0].tolist() == [1, 2, 3, 4]
    assert np.isnan(everything["loss"][1][-1])
    newer = store.read_metrics(run_id, after_step=2)
    assert newer["loss"][0].tolist() == [3, 4] and "kl" not in newer
    assert store.last_metrics(run_id)["kl"] == 0.5
    assert store.get_run(run_id).step == 4


def test_rewriting_a_step_replaces_it_instead_of_duplicating(store):
    run_id = store.create_run(_spec())
    store.log_metrics(run_id, [("loss", 1, 3.0)])
    store.log_metrics(run_id, [("loss", 1, 2.5)])  # e.g. a resumed run repeating a step
    assert store.count_metric_rows(run_id) == 1
    assert store.last_metrics(run_id) == {"loss": 2.5}


def test_status_changes_are_guarded_so_the_first_outcome_wins(store):
    run_id = store.create_run(_spec())
    assert store.claim_slot(run_id, 12345, LIMITS) == "claimed"
    assert store.finish(run_id, "cancelled")
    assert not store.finish(run_id, "failed", "late report")
    run = store.get_run(run_id)
    assert run.status == "cancelled" and run.error is None and run.ended_at is not None


def test_cancelling_a_queued_run_ends_it_and_blocks_its_start(store):
    run_id = store.create_run(_spec())
    assert store.request_cancel(run_id).status == "cancelled"
    assert store.claim_slot(run_id, 1, LIMITS) == "gone"


def test_snapshots_round_trip_without_pickles(store):
    run_id = store.create_run(_spec())
    store.save_snapshot(run_id, 5, {"points": np.ones((3, 2)), "names": np.array(["a", "b"])})
    store.save_snapshot(run_id, 9, {"points": np.zeros((3, 2))})
    assert store.snapshot_steps(run_id) == [5, 9]
    step, arrays = store.load_snapshot(run_id)
    assert step == 9 and arrays["points"].sum() == 0
    assert store.load_snapshot(run_id, 5)[1]["names"].tolist() == ["a", "b"]
    with pytest.raises(ValueError):  # object arrays would need pickle
        store.save_snapshot(run_id, 11, {"bad": np.array([{"a": 1}], dtype=object)})
    assert store.snapshot_steps(run_id) == [5, 9]


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoints_are_loaded_with_weights_only(store):
    run_id = store.create_run(_spec())
    store.save_checkpoint(run_id, {"step": 3, "state": {"w": torch.ones(2)}})
    assert store.load_checkpoint(run_id)["state"]["w"].tolist() == [1.0, 1.0]
    store.checkpoint_path(run_id).write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(pickle.UnpicklingError):
        store.load_checkpoint(run_id)


def test_reconcile_marks_runs_whose_worker_is_gone(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    failed_id = store.create_run(_spec())
    store.claim_slot(failed_id, dead.pid, LIMITS)
    # A run started by a launcher that is gone too (the server died): interrupted, not failed.
    orphan_id = store.create_run(_spec(), launcher_pid=dead.pid)
    store.claim_slot(orphan_id, dead.pid, LIMITS)
    queued_orphan = store.create_run(_spec(), launcher_pid=dead.pid)
    assert set(store.reconcile()) == {failed_id, orphan_id, queued_orphan}
    assert store.get_run(failed_id).status == "failed"
    assert "ended without reporting" in store.get_run(failed_id).error
    assert store.get_run(orphan_id).status == "interrupted"
    assert store.get_run(queued_orphan).status == "interrupted"


def test_reconcile_leaves_runs_of_other_machines_and_ray_jobs_alone(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # Process ids name processes on the machine that recorded them; Ray tells whether its jobs live.
    elsewhere = store.create_run(_spec(), launcher_pid=dead.pid)
    store._execute("UPDATE runs SET host='another-machine' WHERE id=?", (elsewhere,))
    on_ray = store.create_run(_spec(), launcher_pid=dead.pid)
    store.set_ray_job(on_ray, "unsup-lab-job")
    store.claim_slot(on_ray, dead.pid, LIMITS)
    assert store.reconcile() == []
    assert store.get_run(elsewhere).status == "queued" and store.get_run(on_ray).status == "running"
    assert not store.finish_ray_job(on_ray, "an-older-job", "failed", "gone")  # a resumed run's new job wins
    assert store.finish_ray_job(on_ray, "unsup-lab-job", "failed", "worker killed by SIGKILL")
    assert store.get_run(on_ray).error == "worker killed by SIGKILL"


def test_reconcile_tells_machines_by_machine_id_and_boot_not_by_hostname(store):
    import socket

    from unsup_core.runs.processes import machine_identity

    machine, boot = machine_identity().split("/")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # A clone of this machine (same hostname, same boot clock) with its own machine id: not ours to judge.
    clone = store.create_run(_spec(), launcher_pid=dead.pid)
    store._execute("UPDATE runs SET host=? WHERE id=?", (f"another-machine-id/{boot}", clone))
    # This machine before a reboot: its launcher's pid now names a live process (this one), yet it is gone.
    before_reboot = store.create_run(_spec())
    store._execute("UPDATE runs SET host=? WHERE id=?", (f"{machine}/an-earlier-boot", before_reboot))
    # A row written before machine ids (a hostname) still counts as this machine's.
    legacy = store.create_run(_spec(), launcher_pid=dead.pid)
    store._execute("UPDATE runs SET host=? WHERE id=?", (socket.gethostname(), legacy))
    live = store.create_run(_spec())  # launched by this process, this boot: left queued
    assert set(store.reconcile()) == {before_reboot, legacy}
    assert store.get_run(clone).status == store.get_run(live).status == "queued"
    assert store.get_run(before_reboot).status == store.get_run(legacy).status == "interrupted"


def test_the_backend_is_the_one_the_url_names(store, request):
    assert store.backend_name == request.getfixturevalue("any_store").backend_name
    assert store.backend_name == ("postgresql" if "postgresql" in request.node.name else "sqlite")


def test_delete_run_removes_rows_and_artifacts(store):
    run_id = store.create_run(_spec())
    store.log_metrics(run_id, [("loss", 1, 1.0)])
    store.save_snapshot(run_id, 1, {"a": np.ones(2)})
    store.delete_run(run_id)
    assert not store.run_dir(run_id).exists() and store.count_metric_rows(run_id) == 0
    with pytest.raises(RunNotFound):
        store.get_run(run_id)


def test_slots_are_claimed_in_queue_order_per_device(store):
    limits = QueueLimits(cpu=1, cuda=1)
    first, second, third = (store.create_run(_spec()) for _ in range(3))
    on_gpu = store.create_run(_spec(), device="cuda")
    assert store.claim_slot(second, 2, limits) == "wait"  # first is ahead in the queue
    assert store.claim_slot(first, 1, limits) == "claimed"
    assert store.claim_slot(second, 2, limits) == "wait"  # the only CPU slot is taken
    assert store.claim_slot(on_gpu, 4, limits) == "claimed"  # another device, another slot
    store.finish(first, "done")
    assert store.claim_slot(third, 3, limits) == "wait"
    assert store.claim_slot(second, 2, limits) == "claimed"
    assert [run.id for run in store.queued_runs()] == [third]


def test_concurrent_claims_never_exceed_the_slots(store):
    limits = QueueLimits(cpu=2, cuda=1)
    run_ids = [store.create_run(_spec()) for _ in range(12)]
    outcomes = {}

    def claim(run_id):
        outcomes[run_id] = RunStore(store.home).claim_slot(run_id, 1, limits)

    threads = [threading.Thread(target=claim, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(outcomes.values()).count("claimed") <= 2
    assert len(store.list_runs(statuses=("running",))) == sum(o == "claimed" for o in outcomes.values())


def test_requeue_resumes_only_ended_runs(store):
    from unsup_core.runs.store import RunStateError

    run_id = store.create_run(_spec(steps=10))
    store.claim_slot(run_id, 1, LIMITS)
    with pytest.raises(RunStateError, match="only an ended run can be resumed"):
        store.requeue(run_id)
    store.log_metrics(run_id, [("loss", 4, 1.0)], step=4)
    store.finish(run_id, "cancelled")
    run = store.requeue(run_id)
    assert run.status == "queued" and run.error is None and not run.cancel_requested and run.ended_at is None
    store.claim_slot(run_id, 1, LIMITS)
    store.finish(run_id, "done")
    with pytest.raises(RunStateError, match="give more steps"):
        store.requeue(run_id)
    with pytest.raises(RunStateError, match="more than the 4 already done"):
        store.requeue(run_id, steps=3)
    assert store.requeue(run_id, steps=50).spec.steps == 50


def test_each_owner_sees_their_runs_and_shared_ones(store):
    mine = store.create_run(_spec(), owner="alice")
    theirs = store.create_run(_spec(), owner="bob")
    shared = store.create_run(_spec(), owner="teacher")
    store.set_shared(shared, True)
    assert {run.id for run in store.list_runs(visible_to="alice")} == {mine, shared}
    assert {run.id for run in store.list_runs()} == {mine, theirs, shared}


def test_a_store_made_before_a_column_was_added_gains_it(lab_home):
    import sqlite3

    lab_home.mkdir(parents=True)
    with sqlite3.connect(lab_home / "runs.db") as connection:  # the runs table as it was before Ray
        connection.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, algorithm TEXT NOT NULL, dataset TEXT NOT NULL,"
                           " spec TEXT NOT NULL, status TEXT NOT NULL, steps INTEGER NOT NULL, step INTEGER NOT NULL"
                           " DEFAULT 0, steps_per_second REAL, device TEXT, device_label TEXT, pid INTEGER,"
                           " pid_start TEXT, launcher_pid INTEGER, launcher_start TEXT, created_at REAL NOT NULL,"
                           " queued_at REAL NOT NULL, started_at REAL, updated_at REAL, ended_at REAL,"
                           " cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT, owner TEXT,"
                           " shared INTEGER NOT NULL DEFAULT 0, parent_id TEXT)")
        # ... and the control table before Step asked for a step instead of a count
        connection.execute("CREATE TABLE run_control (run_id TEXT PRIMARY KEY, paused INTEGER NOT NULL DEFAULT 0,"
                           " step_credit INTEGER NOT NULL DEFAULT 0, held_step INTEGER) WITHOUT ROWID")
    store = RunStore(lab_home)
    run_id = store.create_run(_spec())
    store.set_ray_job(run_id, "unsup-lab-job")
    assert store.get_run(run_id).ray_job == "unsup-lab-job" and store.get_run(run_id).host
    assert store.request_steps(run_id, 4) == 4 and store.control_state(run_id).hold_at == 4


def test_control_and_ownership_records_round_trip(store):
    run_id = store.create_run(make_spec("vae", "digits", {"hidden_dim": 32}, steps=10))
    assert store.request_steps(run_id, 3) == 3
    assert store.request_steps(run_id, 2) == 5  # on from the step already asked for
    assert store.request_steps(run_id, 2, from_step=1) == 3  # from the step a page showed
    store.set_hyperparameter(run_id, "lr", 0.01)
    store.set_hyperparameter(run_id, "lr", 0.002)  # replaces the request not yet applied
    control = store.take_control(run_id)
    assert control.paused and control.hold_at == 3 and [(c.name, c.value) for c in control.changes] == [("lr", 0.002)]
    assert control.holds_at(3) and not control.holds_at(2)
    store.record_changes_applied(run_id, control.changes, 4)
    store.set_held_step(run_id, 4)
    assert store.applied_changes(run_id)[0].step == 4 and store.control_state(run_id).held_step == 4

    token = store.issue_teacher_link()
    assert store.redeem_teacher_link(token) and not store.redeem_teacher_link(token)
    folder = store.uploads_dir / ("0" * 16)
    folder.mkdir(parents=True)
    (folder / "points.csv").write_text("x,y\n1,2\n")
    for owner in ("ada", "ada", "bob"):
        store.record_upload(folder / "points.csv", owner)
    assert store.get_upload(f"{'0' * 16}/points.csv").owners == {"ada", "bob"}
    store.remember_preparation(f"{'0' * 16}/points.csv", "ada", {"path": "x", "scaling": "none"})
    store.remember_preparation(f"{'0' * 16}/points.csv", "ada", {"path": "x", "scaling": "standard"})
    assert store.remembered_preparation(f"{'0' * 16}/points.csv", "ada") == {"scaling": "standard"}
