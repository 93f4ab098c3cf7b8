import os
import secrets

import pytest

# One thread for torch and BLAS in the test process, so worker subprocesses get the other core.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
# Servers and AppTests started by tests skip the UMAP warm-up (15-25 s of CPU each); its own test turns it on.
os.environ.setdefault("UNSUP_LAB_WARM_UP_UMAP", "0")


@pytest.fixture
def lab_home(tmp_path, monkeypatch):
    """A fresh, empty run store for the test, also seen by the workers and CLI it starts."""
    home = tmp_path / "lab"
    monkeypatch.setenv("UNSUP_LAB_HOME", str(home))
    return home


@pytest.fixture
def store(lab_home):
    from unsup_core.runs.store import RunStore

    return RunStore(lab_home)


def required_service(variable: str, what: str) -> str:
    """The address of a service `.ci/run` starts; without it the test is skipped, or fails in CI."""
    value = os.environ.get(variable)
    if not value:
        message = f"needs {what}: set {variable} (`.ci/run` starts one and sets it)"
        if os.environ.get("UNSUP_LAB_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture
def postgres_url(monkeypatch):
    """A fresh, empty schema in the test PostgreSQL server, named in UNSUP_LAB_DATABASE_URL for every
    store this test and the workers it starts open; dropped afterwards."""
    import psycopg

    server = required_service("UNSUP_LAB_TEST_DATABASE_URL", "a PostgreSQL server")
    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    url = f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"
    monkeypatch.setenv("UNSUP_LAB_DATABASE_URL", url)
    yield url
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def ray_address():
    """The Jobs API address of the test Ray cluster: a head (resource ``node1``) and a second node (``node2``)."""
    return required_service("UNSUP_LAB_TEST_RAY_ADDRESS", "a Ray cluster (head + second node)")


def stop_active_runs(store) -> None:
    """Cancel every run still queued or running in ``store`` (Ray jobs outlive the test otherwise)."""
    from unsup_core.runs.ray_executor import RayExecutor

    for run in store.list_runs(statuses=("queued", "running")):
        store.request_cancel(run.id)
        if run.ray_job is not None:
            RayExecutor.stop_job_at(os.environ["UNSUP_LAB_TEST_RAY_ADDRESS"], run.ray_job)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, lab_home):
    """The run store on each backend: the same tests hold for SQLite and PostgreSQL."""
    from unsup_core.runs.store import RunStore

    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")
    return RunStore(lab_home)


@pytest.fixture(scope="session")
def scored_home(tmp_path_factory):
    """A data home whose digits classifier (for sample-quality scores) is trained once per session."""
    from unsup_core.datasets import load_dataset
    from unsup_core.sample_quality import load_or_train_scorer

    home = tmp_path_factory.mktemp("scored-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNSUP_LAB_HOME", str(home))
        load_or_train_scorer(load_dataset("digits"))
    return home


@pytest.fixture
def scoring_enabled(scored_home, monkeypatch):
    """Runs in this test find the session's cached digits classifier."""
    monkeypatch.setenv("UNSUP_LAB_HOME", str(scored_home))
    return scored_home
