"""bench/run_all.py: every bench in a child process, one table, and a bench that fails or is missing
is reported as not run while the others still count."""

import importlib.util
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)


def write_bench(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


def test_each_bench_runs_in_a_child_and_failures_become_not_run_rows(tmp_path):
    write_bench(tmp_path, "fine", """
        import os
        def rows(quick=False):
            return [{"figure": "speed", "ours": 2.0, "reference": 1.0, "ratio": 2.0, "goal": ">= 1.5",
                     "met": True, "note": f"quick={quick} pid={os.getpid()}"}]
    """)
    write_bench(tmp_path, "broken", "def rows():\n    raise RuntimeError('no GPU on this machine')\n")
    write_bench(tmp_path, "rowless", "VALUE = 1\n")

    fine = run_all.run_child("fine", True, tmp_path)
    assert fine[0]["ratio"] == 2.0 and fine[0]["note"].startswith("quick=True")
    assert fine[0]["note"] != f"quick=True pid={__import__('os').getpid()}"  # measured in another process
    broken, = run_all.run_child("broken", False, tmp_path)
    assert broken["note"] == "not run: RuntimeError: no GPU on this machine"
    rowless, = run_all.run_child("rowless", False, tmp_path)
    assert rowless["note"].startswith("not run: AttributeError") and "rows()" in rowless["note"]
    missing, = run_all.run_child("scaleout", False, tmp_path)
    assert missing["note"] == "not run: bench/scaleout.py does not exist yet"

    table = run_all.table([*fine, broken, missing]).splitlines()
    assert table[0] == "| figure | ours | reference | ratio | goal | met |"
    assert table[2].startswith("| speed (quick=True") and table[2].endswith("| 2 | 1 | 2 | >= 1.5 | yes |")
    assert table[3].endswith("| - | - | - | - | not run |") and "no GPU on this machine" in table[3]
