"""Every benchmark in one command, one table: figure, ours, reference, ratio, goal, met.

Each bench module exposes ``rows(quick=False) -> list[dict]`` with those keys (an optional "note"
explains a figure that could not be measured). Each runs in its own child process, so one bench's
thread settings, environment and imports cannot colour the next; a module that is missing, has no
``rows()`` or fails is reported as "not run" with the reason, and the others still run.

    python bench/run_all.py [--quick] [--only NAME ...] [--json FILE]

``--quick`` is a smoke run at small sizes: it checks that every bench still works, and its numbers
mean little. The table is printed as Markdown, with the machine and its load, ready for the README.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# In the order the table lists them; modules still to be written are reported as not run.
MODULES = ["kmeans_vs_sklearn", "som_vs_minisom", "run_path", "logging_overhead", "first_metric_latency",
           "live_page", "upload_to_map", "model_selection", "scaleout"]
COLUMNS = ["figure", "ours", "reference", "ratio", "goal", "met"]
CHILD_TIMEOUT_SECONDS = 3600


def rows_of(name: str, quick: bool, bench_dir: Path = BENCH_DIR) -> list[dict]:
    """Import bench ``name`` and return its rows (run in the child process)."""
    sys.path[:0] = [str(ROOT), str(bench_dir)]
    module = importlib.import_module(name)
    rows = getattr(module, "rows", None)
    if rows is None:
        raise AttributeError(f"bench/{name}.py has no rows() function")
    accepts_quick = "quick" in inspect.signature(rows).parameters
    return rows(quick=quick) if accepts_quick else rows()


def run_child(name: str, quick: bool, bench_dir: Path = BENCH_DIR) -> list[dict]:
    """Rows of bench ``name`` measured in a child process; a failure becomes one 'not run' row."""
    if not (bench_dir / f"{name}.py").exists():
        return [not_run(name, f"bench/{name}.py does not exist yet")]
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--bench-dir", str(bench_dir),
               *(["--quick"] if quick else [])]
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return [not_run(name, f"timed out after {CHILD_TIMEOUT_SECONDS} s")]
    sys.stderr.write(result.stderr[-2000:] if result.returncode else "")
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:
        error = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [not_run(name, error[:200])]
    return json.loads(lines[-1])


def not_run(name: str, reason: str) -> dict:
    return {"figure": name, "ours": None, "reference": None, "ratio": None, "goal": None, "met": None,
            "note": f"not run: {reason}"}


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * 3 + "---|---|"]
    for row in rows:
        figure = row["figure"] + (f" ({row['note']})" if row.get("note") else "")
        met = "not run" if str(row.get("note", "")).startswith("not run") else cell(row.get("met"))
        lines.append("| " + " | ".join([figure, *(cell(row.get(key)) for key in COLUMNS[1:5]), met]) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
        versions = f"torch {torch.__version__}"
    except ImportError:
        gpu, versions = "?", ""
    return (f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, {versions}; "
            f"load average {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not a measurement")
    parser.add_argument("--only", nargs="+", choices=MODULES, metavar="NAME", help=f"some of: {', '.join(MODULES)}")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(rows_of(args.child, args.quick, args.bench_dir)))
        return
    started, load_before = time.monotonic(), machine()
    rows = []
    for name in args.only or MODULES:
        print(f"running bench/{name}.py ...", file=sys.stderr, flush=True)
        rows += run_child(name, args.quick)
    print(f"Machine: {load_before} (at the start); load average at the end "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}; {time.monotonic() - started:.0f} s in all"
          + ("; --quick: smoke sizes, numbers not meaningful" if args.quick else ""))
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": load_before, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
