"""Latency to the first result: from asking for a run to its first metric row in the store, and
from pressing Train in the browser to the first point on the chart. Target: <= 1.0 s on CPU.

Paths measured, each a few times (median reported):
  cold   a fresh worker process per run (imports torch and scikit-learn first)
  warm   the dashboard's path: a pre-started worker that has already paid its imports
  cli    `python -m unsup_core run ...` from the command's start
  browser  (needs Chromium) the Train button to the first point drawn on the live chart

    python bench/first_metric_latency.py [--repeats 3] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unsup_core.runs.executor import LocalExecutor
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[1]

CASES = [("kmeans", "blobs", {"n_clusters": 4}), ("vae", "digits", {})]


def wait_first_row(store: RunStore, run_id: str, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while store.count_metric_rows(run_id) == 0:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no metric row for {run_id}: {store.get_run(run_id).error}")
        time.sleep(0.002)
    return time.perf_counter()


def through_executor(store: RunStore, executor: LocalExecutor, algorithm, dataset, config) -> float:
    if executor.warm_workers:
        deadline = time.monotonic() + 60
        while not executor.warm_ready():
            if time.monotonic() > deadline:
                raise TimeoutError("warm worker never became ready")
            time.sleep(0.05)
    start = time.perf_counter()
    handle = executor.submit(make_spec(algorithm, dataset, config, steps=1_000_000))
    latency = wait_first_row(store, handle.run_id) - start
    executor.cancel(handle.run_id)
    handle.wait(timeout=10)
    return latency


def through_cli(store: RunStore, algorithm, dataset, config) -> float:
    known = {run.id for run in store.list_runs()}
    start = time.perf_counter()
    sets = [arg for key, value in config.items() for arg in ("--set", f"{key}={value}")]
    subprocess.run([sys.executable, "-m", "unsup_core", "run", algorithm, "--dataset", dataset, "--steps",
                    "1000000", *sets], cwd=ROOT, env={**os.environ, "UNSUP_LAB_HOME": str(store.home)},
                   check=True, capture_output=True)
    run_id = next(run.id for run in store.list_runs() if run.id not in known)
    latency = wait_first_row(store, run_id) - start
    subprocess.run([sys.executable, "-m", "unsup_core", "cancel", run_id], cwd=ROOT, check=True,
                   env={**os.environ, "UNSUP_LAB_HOME": str(store.home)}, capture_output=True)
    return latency


def through_browser(repeats: int) -> list[float] | str:
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        return "skipped: no Chromium at /usr/bin/chromium"
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.e2e.conftest import CHROMIUM_ARGS, wait_until_rendered
    from tests.e2e.test_train_live import LAST_STEP

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tempfile.mkdtemp()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env={**os.environ, "UNSUP_LAB_HOME": home},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            for _ in range(repeats):
                deadline = time.monotonic() + 60
                while True:
                    try:
                        page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.3)
                wait_until_rendered(page)
                page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
                page.get_by_role("option", name="blobs", exact=False).first.click()
                wait_until_rendered(page)
                page.get_by_test_id("stSelectbox").filter(has_text="Algorithm").click()
                page.get_by_role("option", name="kmeans", exact=True).click()
                wait_until_rendered(page)
                time.sleep(8)  # let the warm worker finish its imports, as it would between a user's runs
                start = time.perf_counter()
                page.get_by_role("button", name="Train").click()
                page.wait_for_function(f"() => ({LAST_STEP})('Inertia') > 0", timeout=60_000, polling=10)
                latencies.append(time.perf_counter() - start)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return latencies


def report(name: str, values) -> None:
    if isinstance(values, str):
        print(f"{name:<28} {values}")
    else:
        print(f"{name:<28} median {statistics.median(values):6.3f} s   runs: "
              + ", ".join(f"{v:.3f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        cold = LocalExecutor(store)
        warm = LocalExecutor(store, warm_workers=1)
        for algorithm, dataset, config in CASES:
            label = f"{algorithm} on {dataset}"
            report(f"cold worker, {label}",
                   [through_executor(store, cold, algorithm, dataset, config) for _ in range(args.repeats)])
            report(f"warm worker, {label}",
                   [through_executor(store, warm, algorithm, dataset, config) for _ in range(args.repeats)])
            report(f"CLI run, {label}",
                   [through_cli(store, algorithm, dataset, config) for _ in range(args.repeats)])
        warm.shutdown()
    if not args.no_browser:
        report("browser Train -> first point (kmeans on blobs, warm)", through_browser(args.repeats))


if __name__ == "__main__":
    main()
