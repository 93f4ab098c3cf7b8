import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
