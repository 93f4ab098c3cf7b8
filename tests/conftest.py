import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One thread for torch and BLAS in the test process, so worker subprocesses get the other core.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")


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
