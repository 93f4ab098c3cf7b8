"""Latency to the first result: from asking for a run to its first metric row in the store, and
from pressing Train in the browser to the first point on the chart. Target: <= 1.0 s median.

Measured, each a few times (median reported):
  worker   through the executor to the first metric row: a fresh worker process per run (cold),
           the dashboard's pre-started worker that has paid its imports (warm), and the CLI
  parts    in this process, what a warm worker and the page do before the first point: model
           construction (set-up), the first step, the first snapshot and its write, the first
           metric flush, and the page's figures for the curves and for the snapshot
  browser  (needs Chromium) the Train click to the first point drawn on the live chart, for k-means,
           the VAE and DCGAN with a warm worker, split where the store and the page let us see:
           click -> run created (form submit) -> first metric row (worker) -> first point (the live
           fragment's poll, its render, the browser's drawing); page switch and first fragment
           render are timed from the click too

    python bench/first_metric_latency.py [--repeats 3] [--no-browser] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from unsup_core.runs.executor import LocalExecutor, request_stop
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[1]

GOAL_SECONDS = 1.0
# (algorithm, dataset, config, the form field that shows its form is drawn, its loss chart's title)
CASES = [("kmeans", "blobs", {"n_clusters": 4}, "n clusters", "Inertia"),
         ("vae", "digits", {}, "latent dim", "Loss"),
         ("dcgan", "digits", {}, "latent dim", "Losses")]


def wait_first_row(store: RunStore, run_id: str, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while store.count_metric_rows(run_id) == 0:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no metric row for {run_id}: {store.get_run(run_id).error}")
        time.sleep(0.002)
    return time.perf_counter()


def wait_warm(home: Path, timeout: float = 120.0) -> None:
    """Until a warm worker has finished its imports (it touches its ready file)."""
    deadline = time.monotonic() + timeout
    while not list((home / "logs").glob("warm-*.ready")):
        if time.monotonic() > deadline:
            raise TimeoutError("warm worker never became ready")
        time.sleep(0.05)


def through_executor(store: RunStore, executor: LocalExecutor, algorithm, dataset, config) -> float:
    if executor.warm_workers:
        deadline = time.monotonic() + 120
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


def in_process_parts(store: RunStore, algorithm: str, dataset: str, config: dict) -> dict[str, float]:
    """Seconds for each thing a warm worker and the page do before the first point (second call: warm)."""
    from unsup_core.algorithms import get_algorithm
    from unsup_core.datasets import fetch_dataset, load_dataset
    from unsup_core.runs.loop import rows_from_buffer
    from unsup_core.viz import metric_panels, snapshot_panels

    parts, clock = {}, time.perf_counter
    spec = make_spec(algorithm, dataset, config, steps=1000)
    run_id = store.create_run(spec)
    start = clock()
    cls = get_algorithm(algorithm)
    model = cls(cls.build_config(spec.config))
    model.planned_steps = spec.steps
    fetch_dataset(dataset)
    data = load_dataset(dataset)
    model.setup(data, device="cpu", seed=0)
    parts["model construction"] = clock() - start
    start = clock()
    values = model.step()
    parts["first step"] = clock() - start
    start = clock()
    store.log_metrics(run_id, rows_from_buffer([(1, values)]), step=1)
    parts["first metric flush"] = clock() - start
    start = clock()
    store.save_snapshot(run_id, 1, model.snapshot())
    parts["first snapshot"] = clock() - start
    start = clock()
    for panel in metric_panels(algorithm, store.read_metrics(run_id)):
        panel.figure.to_json()
    parts["page: curve figures"] = clock() - start
    start = clock()
    step, arrays = store.load_snapshot(run_id)
    for panel in snapshot_panels(algorithm, arrays, step):
        panel.figure.to_json()
    parts["page: snapshot figures"] = clock() - start
    if getattr(model, "scores", None) is not None and model.scores.loader is not None:
        model.scores.loader.wait()
    return parts


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def through_browser(repeats: int, cases=CASES) -> dict[str, dict[str, list[float]]] | str:
    """algorithm -> part -> seconds from the click, one value per repeat."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        return "skipped: no Chromium at /usr/bin/chromium"
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT))  # the browser tests' helpers
    from tests.e2e.conftest import CHROMIUM_ARGS, wait_until_rendered
    from tests.e2e.helpers import LAST_STEP, choose
    from unsup_core.algorithms import get_algorithm
    from unsup_core.algorithms.catalogue import menu_label
    from unsup_core.datasets import load_dataset
    from unsup_core.sample_quality import load_or_train_scorer

    port = _free_port()
    home = Path(tempfile.mkdtemp())
    os.environ["UNSUP_LAB_HOME"] = str(home)
    load_or_train_scorer(load_dataset("digits"), "cpu")  # cached, as after a user's first run on digits
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT,
        env={**os.environ, "UNSUP_LAB_HOME": str(home), "UNSUP_LAB_WARM_WORKERS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RunStore(home)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page()
            for algorithm, dataset, _, form_field, chart in cases:
                parts = results.setdefault(algorithm, {})
                for _ in range(repeats):
                    deadline = time.monotonic() + 60
                    while True:
                        try:
                            page.goto(f"http://127.0.0.1:{port}/train")
                            break
                        except Exception:
                            if time.monotonic() > deadline:
                                raise
                            time.sleep(0.3)
                    wait_until_rendered(page)
                    choose(page, "Dataset", re.compile(rf"^{dataset}\b"))
                    # Typed, not scrolled to: the option list is virtualised, long lists hide options.
                    page.get_by_test_id("stSelectbox").filter(has_text="Algorithm").click()
                    page.keyboard.type(menu_label(get_algorithm(algorithm)))
                    page.get_by_role("option", name=menu_label(get_algorithm(algorithm)), exact=True).click()
                    expect(page.get_by_label(form_field, exact=True)).to_be_visible(timeout=30_000)
                    wait_until_rendered(page)
                    known = {run.id for run in store.list_runs()}
                    wait_warm(home)  # as between a user's runs
                    clicked = time.time()
                    page.get_by_role("button", name="Train").click()
                    page.wait_for_url("**/run?run=*", timeout=60_000)
                    switched = time.time()
                    page.get_by_text("Status:").first.wait_for(timeout=60_000)
                    fragment = time.time()
                    page.wait_for_function(f"() => ({LAST_STEP})({chart!r}) > 0", timeout=60_000, polling=10)
                    drawn = time.time()
                    run = next(run for run in store.list_runs() if run.id not in known)
                    first_row = min(wall for _, _, _, wall in store.metric_rows(run.id))
                    for name, at in [("run created (form submitted)", run.created_at),
                                     ("page switched", switched), ("first fragment drawn", fragment),
                                     ("first metric row stored", first_row), ("first point drawn", drawn)]:
                        parts.setdefault(name, []).append(at - clicked)
                    request_stop(store, run.id)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def _median(values: list[float]) -> str:
    return f"median {statistics.median(values):6.3f} s   runs: " + ", ".join(f"{v:.3f}" for v in values)


def report(name: str, values) -> None:
    print(f"{name:<44} {values if isinstance(values, str) else _median(values)}")


def rows(quick: bool = False) -> list[dict]:
    repeats = 1 if quick else 3
    results = through_browser(repeats, CASES[:1] if quick else CASES)
    if isinstance(results, str):
        return [{"figure": "browser Train -> first point", "ours": None, "reference": None, "ratio": None,
                 "goal": f"<= {GOAL_SECONDS} s", "met": None, "note": results}]
    table = []
    for algorithm, parts in results.items():
        medians = {name: statistics.median(values) for name, values in parts.items()}
        drawn = medians.pop("first point drawn")
        split = ", ".join(f"{name} {seconds:.2f}" for name, seconds in medians.items())
        table.append({"figure": f"browser Train -> first point, {algorithm}, warm worker, median s",
                      "ours": drawn, "reference": None, "ratio": None, "goal": f"<= {GOAL_SECONDS} s",
                      "met": drawn <= GOAL_SECONDS, "note": f"s after the click: {split}"})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-workers", action="store_true", help="skip the cold/warm/CLI worker latencies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["UNSUP_LAB_HOME"] = home
        store = RunStore(home)
        if not args.no_workers:
            cold = LocalExecutor(store)
            warm = LocalExecutor(store, warm_workers=1)
            for algorithm, dataset, config, _, _ in CASES:
                label = f"{algorithm} on {dataset}"
                report(f"cold worker, {label}",
                       [through_executor(store, cold, algorithm, dataset, config) for _ in range(args.repeats)])
                report(f"warm worker, {label}",
                       [through_executor(store, warm, algorithm, dataset, config) for _ in range(args.repeats)])
                report(f"CLI run, {label}",
                       [through_cli(store, algorithm, dataset, config) for _ in range(args.repeats)])
            warm.shutdown()
        from unsup_core.runs.worker import prepare_for_runs

        prepare_for_runs()  # this process now stands for a warm worker
        for algorithm, dataset, config, _, _ in CASES:
            in_process_parts(store, algorithm, dataset, config)  # first call pays lazy imports
            parts = [in_process_parts(store, algorithm, dataset, config) for _ in range(args.repeats)]
            for name in parts[0]:
                report(f"  {algorithm}: {name}", [p[name] for p in parts])
    if not args.no_browser:
        results = through_browser(args.repeats)
        if isinstance(results, str):
            report("browser", results)
            return
        for algorithm, parts in results.items():
            print(f"browser, {algorithm}, seconds from the Train click (warm worker):")
            for name, values in parts.items():
                report(f"  {name}", values)


if __name__ == "__main__":
    main()
