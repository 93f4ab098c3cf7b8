"""The access rules, signed identities and the teacher-login throttle, asked the way pages and the CLI ask."""

import os
import stat

import pytest

from unsup_core import identity
from unsup_core.access import AccessDenied, LoginThrottle, Principal, check_run_limit, data_name, may, require, \
    submit_run
from tests.tables import measurements
from unsup_core.datasets.uploads import save_upload
from unsup_core.runs.executor import LocalExecutor
from unsup_core.runs.spec import make_spec
from unsup_core.settings import SharingSettings

SHARED = SharingSettings(shared=True, max_active_runs_per_user=2, max_upload_mb=50)
ALONE = SharingSettings(shared=False, max_active_runs_per_user=0, max_upload_mb=256)
ALICE, BOB, TEACHER = Principal("u-alice"), Principal("u-bob"), Principal("u-teacher", teacher=True)


@pytest.fixture
def runs(store):
    mine = store.create_run(make_spec("kmeans", "blobs", steps=5), owner=ALICE.id)
    shared = store.create_run(make_spec("kmeans", "blobs", steps=5), owner=TEACHER.id)
    store.set_shared(shared, True)
    return store.get_run(mine), store.get_run(shared)


def test_in_shared_mode_a_user_sees_and_changes_only_their_own_runs(runs):
    mine, shared = runs
    assert may(ALICE, "see", mine, SHARED) and may(ALICE, "change", mine, SHARED)
    assert not may(BOB, "see", mine, SHARED) and not may(BOB, "change", mine, SHARED)
    assert may(BOB, "see", shared, SHARED) and not may(BOB, "change", shared, SHARED)
    assert may(TEACHER, "change", mine, SHARED) and may(TEACHER, "share", mine, SHARED)
    assert not may(ALICE, "share", mine, SHARED)
    with pytest.raises(AccessDenied, match="belongs to another user"):
        require(BOB, "change", mine, SHARED)
    assert may(Principal.operator(), "change", mine, SHARED)  # the CLI at the server's shell


def test_alone_on_ones_machine_everything_is_allowed(runs):
    mine, _ = runs
    assert may(BOB, "change", mine, ALONE) and may(BOB, "share", mine, ALONE)


def test_uploads_belong_to_whoever_uploaded_them(store, lab_home):
    path = save_upload(b"a,b\n1,2\n3,4\n5,6\n", "mine.csv")
    upload = store.record_upload(path, ALICE.id)
    assert may(ALICE, "see", upload, SHARED) and not may(BOB, "see", upload, SHARED)
    assert [u.id for u in store.list_uploads(visible_to=BOB.id)] == []
    assert [u.name for u in store.list_uploads(visible_to=ALICE.id)] == ["mine.csv"]
    assert store.record_upload(path, BOB.id).owners == {ALICE.id, BOB.id}  # same bytes, uploaded again
    assert store.upload_for_path("/etc/passwd") is None
    assert store.upload_for_path(path.parent / ".." / ".." / ".." / "runs.db") is None


def test_a_run_on_someone_elses_file_is_refused(store, lab_home, monkeypatch):
    path = save_upload(measurements(20, 2), "theirs.csv")
    store.record_upload(path, ALICE.id)
    spec = make_spec("kmeans", "file", {"n_clusters": 2}, steps=2, dataset_options={"path": str(path)})
    executor = LocalExecutor(store, watch_parent=False)
    with pytest.raises(AccessDenied, match="cannot see this file"):
        submit_run(executor, BOB, spec, settings=SHARED)
    assert store.list_runs() == []


def test_a_file_is_named_only_to_those_who_may_see_its_run(store, lab_home, runs):
    path = save_upload(measurements(20, 2), "alice grades 2026.csv")
    store.record_upload(path, ALICE.id)
    spec = make_spec("kmeans", "file", {"n_clusters": 2}, steps=2, dataset_options={"path": str(path)})
    on_file = store.get_run(store.create_run(spec, owner=ALICE.id))
    assert data_name(ALICE, on_file, SHARED) == data_name(TEACHER, on_file, SHARED) == "alice grades 2026.csv"
    assert data_name(BOB, on_file, SHARED) == "an uploaded file"  # the sidebar's queue shows everyone's runs
    assert data_name(BOB, on_file, ALONE) == "alice grades 2026.csv"
    assert data_name(BOB, runs[0], SHARED) == "blobs"  # a built-in dataset says nothing about its user


def test_the_run_limit_counts_every_run_a_user_starts(store):
    for _ in range(2):
        store.create_run(make_spec("kmeans", "blobs", steps=5), owner=ALICE.id)
    with pytest.raises(Exception, match="already have 2 active runs"):
        check_run_limit(store, ALICE, SHARED)
    check_run_limit(store, BOB, SHARED)


def test_only_cookies_this_server_signed_are_identities(lab_home):
    secret = identity.server_secret(lab_home)
    assert identity.server_secret(lab_home) == secret  # made once, kept in the store
    assert stat.S_IMODE(os.stat(lab_home / identity.SECRET_FILE).st_mode) == 0o600
    user = identity.new_browser_id()
    token = identity.sign(user, secret)
    assert identity.verify(token, secret) == user
    forged_signature = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_user = identity.new_browser_id() + token[len(user):]  # someone else's id with a copied signature
    for forged in (forged_signature, other_user, user, "cli", "dashboard", "u-" + "a" * 22 + ".x", None, 7,
                   identity.sign(user, b"another server's secret" * 2), token + "x" * 200):
        assert identity.verify(forged, secret) is None, forged


def test_wrong_teacher_passwords_are_slowed_then_locked_out():
    now = [0.0]
    throttle = LoginThrottle(max_failures=5, window=600, lockout=900, clock=lambda: now[0])
    throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0  # one typo costs nothing
    throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 1
    now[0] += 1
    for expected in (2, 4):
        throttle.record_failure("10.0.0.1")
        assert throttle.retry_after("10.0.0.1") == expected
        now[0] += expected
    throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 900  # locked out
    assert throttle.retry_after("10.0.0.2") == 0  # another client is not
    now[0] += 901
    assert throttle.retry_after("10.0.0.1") == 0


def test_guessing_from_many_clients_locks_the_whole_server():
    throttle = LoginThrottle(server_max_failures=6, clock=lambda: 0.0)
    for client in range(6):
        throttle.record_failure(f"client-{client}")
    assert throttle.retry_after("a-new-client") > 0


def test_a_teacher_link_works_once_and_only_before_it_expires(store):
    token = store.issue_teacher_link(minutes=10)
    assert store.redeem_teacher_link(token) and not store.redeem_teacher_link(token)
    assert not store.redeem_teacher_link("guess") and not store.redeem_teacher_link(None)
    expired = store.issue_teacher_link(minutes=-1)
    assert not store.redeem_teacher_link(expired)
