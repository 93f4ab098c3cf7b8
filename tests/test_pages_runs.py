"""Runs, Run and Compare pages with Streamlit's AppTest: sharing, limits, resume, clone, compare."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from unsup_core.runs.executor import RunHandle
from unsup_core.runs.spec import make_spec
from unsup_core.settings import QueueLimits

APP = str(Path(__file__).resolve().parents[1] / "app.py")
LIMITS = QueueLimits(cpu=8, cuda=1)


@pytest.fixture
def app(lab_home, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_WARM_WORKERS", "0")

    def make(page: str | None = None, user: str = "alice", **query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["access.user"] = user
        if page:
            at.switch_page(page)
        for key, value in query.items():
            at.query_params[key] = value
        return at

    return make


def ended_run(store, owner="alice", status="done", **config):
    run_id = store.create_run(make_spec("kmeans", "blobs", {"n_clusters": 4, **config}, steps=50), owner=owner)
    store.claim_slot(run_id, 1, LIMITS)
    store.log_metrics(run_id, [("inertia", 1, 9.0), ("inertia", 2, 5.0)], step=2)
    store.finish(run_id, status)
    return run_id


def run_ids_in_table(at) -> set[str]:
    return set(at.dataframe[0].value["id"])


def test_in_shared_mode_each_session_sees_its_runs_and_the_shared_ones(app, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    alice, bob, shared = ended_run(store, "alice"), ended_run(store, "bob"), ended_run(store, "teacher")
    store.set_shared(shared, True)
    alice_view = app("pages/runs.py", user="alice").run()
    assert run_ids_in_table(alice_view) == {alice, shared}
    assert alice_view.dataframe[0].value.set_index("id")["shared"].to_dict() == {alice: False, shared: True}
    assert run_ids_in_table(app("pages/runs.py", user="bob").run()) == {bob, shared}
    at = app("pages/run.py", user="bob", run=alice).run()
    assert any("belongs to another session" in error.value for error in at.error)


def test_without_shared_mode_everyone_sees_every_run(app, store):
    runs = {ended_run(store, "alice"), ended_run(store, "bob")}
    at = app("pages/runs.py").run()
    assert run_ids_in_table(at) == runs
    assert "shared" not in at.dataframe[0].value.columns  # sharing is a shared-mode feature


def test_a_session_over_its_run_limit_is_told_why(app, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    monkeypatch.setenv("UNSUP_LAB_MAX_RUNS_PER_USER", "1")
    store.create_run(make_spec("kmeans", "blobs", steps=5), owner="alice")  # queued: still active
    at = app("pages/train.py").run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert any("you already have 1 active runs" in error.value for error in at.error)
    assert len(store.list_runs()) == 1


def test_the_teacher_password_unlocks_sharing(app, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    run_id = ended_run(store, "alice")
    at = app("pages/run.py", user="alice", run=run_id)
    at.secrets["teacher_password"] = "s3cret"
    at.run()
    assert not [t for t in at.toggle if t.label == "Shared"]
    at.text_input(key="access.password").input("wrong").run()
    assert any("Wrong password" in error.value for error in at.error)
    at.text_input(key="access.password").input("s3cret").run()
    next(t for t in at.toggle if t.label == "Shared").set_value(True).run()
    assert store.get_run(run_id).shared


def test_resume_from_the_run_page_trains_further(app, store):
    run = RunHandle(store, _real_kmeans_run(store)).wait(timeout=60)
    at = app("pages/run.py", run=run.id).run()
    at.number_input(key=f"resume.steps.{run.id}").set_value(run.steps + 30)
    next(b for b in at.button if b.label == "Resume from checkpoint").click().run()
    resumed = RunHandle(store, run.id).wait(timeout=60)
    assert resumed.status == "done" and resumed.spec.steps == run.steps + 30, resumed.error


def _real_kmeans_run(store):
    from unsup_core.runs.executor import LocalExecutor

    spec = make_spec("kmeans", "blobs", {"n_clusters": 4}, steps=3)
    return LocalExecutor(store, watch_parent=False).submit(spec, owner="alice").run_id


def test_clone_with_edits_starts_a_new_run_that_remembers_its_parent(app, store):
    parent = ended_run(store, "alice")
    at = app("pages/run.py", run=parent).run()
    at.number_input(key=f"clone.{parent}.n_clusters").set_value(7)
    next(b for b in at.button if b.label == "Start the clone").click().run()
    clone = next(run for run in store.list_runs() if run.id != parent)
    assert clone.parent_id == parent and clone.spec.config["n_clusters"] == 7 and clone.owner == "alice"


def test_compare_shows_what_differs_and_one_chart_per_metric(app, store):
    first, second = ended_run(store, n_clusters=3), ended_run(store, n_clusters=5)
    at = app("pages/compare.py", runs=f"{first},{second}").run()
    assert not at.exception
    difference = at.dataframe[0].value
    assert list(difference.index) == ["n_clusters"]
    assert difference.loc["n_clusters"].tolist() == ["3", "5"]
    assert len(at.get("plotly_chart")) == 1  # one metric: inertia, both runs overlaid


def test_compare_names_runs_on_uploaded_files_by_their_files(app, store):
    from tests.own_files import labelled_table
    from unsup_core.datasets.uploads import add_upload

    runs = []
    for name, rows in (("flowers.csv", 90), ("more_flowers.csv", 60)):
        path, _ = add_upload(labelled_table(rows), name)
        run_id = store.create_run(make_spec("kmeans", "file", {"n_clusters": 3}, steps=5,
                                            dataset_options={"path": str(path)}), owner="alice")
        store.finish(run_id, "done")
        runs.append(run_id)
    at = app("pages/compare.py", runs=",".join(runs)).run()
    assert not at.exception
    difference = at.dataframe[0].value
    assert list(difference.columns) == [f"kmeans/flowers.csv {runs[0][-6:]}", f"kmeans/more_flowers.csv {runs[1][-6:]}"]
    assert difference.loc["dataset"].tolist() == ["flowers.csv", "more_flowers.csv"]


def test_a_one_time_teacher_link_turns_on_teacher_mode_despite_a_lockout(app, store, monkeypatch):
    monkeypatch.setenv("UNSUP_LAB_SHARED", "1")
    monkeypatch.setenv("UNSUP_LAB_LOGIN_MAX_FAILURES", "1")
    alice = ended_run(store, "alice")
    token = store.issue_teacher_link()
    at = app("pages/runs.py", user="u-teacher", teacher=token)
    at.secrets["teacher_password"] = "s3cret"
    at.run()
    assert any("Teacher controls on" in caption.value for caption in at.caption)
    assert alice in run_ids_in_table(at) and "teacher" not in at.query_params
    again = app("pages/runs.py", user="u-student", teacher=token)
    again.secrets["teacher_password"] = "s3cret"
    again.run()
    assert any("already used or has expired" in error.value for error in again.error)
    assert len(again.dataframe) == 0  # the student sees nobody's runs
