"""End to end: a killed server leaves no orphans and its runs say so; a run travels as a zip."""

import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import wait_for_later_step
from tests.e2e.test_train_live import start_vae
from unsup_core.runs.store import RunStore

pytestmark = pytest.mark.e2e


def worker_pids(home: Path) -> list[int]:
    """Worker processes (training or warm) that belong to this run store."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"unsup_core.runs.worker" in command and str(home).encode() in command:
                pids.append(int(entry.name))
    return pids


def test_killing_the_server_ends_its_workers_and_marks_runs_interrupted(page: Page, start_app, tmp_path):
    server = start_app()
    run_url = start_vae(page, server.url, steps=1_000_000)
    wait_for_later_step(page, "Loss", 0)
    assert len(worker_pids(server.home)) >= 2  # the training worker and a warm one

    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    deadline = time.monotonic() + 5
    while worker_pids(server.home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker_pids(server.home) == []  # no orphans

    run = RunStore(server.home).list_runs()[0]
    assert run.status == "interrupted" and "server that started this run exited" in run.error
    with sqlite3.connect(server.home / "runs.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restarted = start_app(server.home)
    page.goto(run_url.replace(server.url, restarted.url))
    wait_until_rendered(page)
    expect(page.get_by_text("Status: interrupted")).to_be_visible()
    wait_for_later_step(page, "Loss", 0)  # the metrics written before the kill are all there


def test_a_run_exported_from_one_server_imports_into_another(page: Page, start_app, tmp_path):
    source = start_app(tmp_path / "source-lab")
    start_vae(page, source.url, steps=60)
    expect(page.get_by_text("Status: done")).to_be_visible(timeout=60_000)
    wait_until_rendered(page)  # the run's end reruns the whole page: a click during that rerun is lost
    with page.expect_download() as download:
        page.get_by_role("button", name="Export zip").click()
    archive = tmp_path / "exported.zip"
    download.value.save_as(archive)
    run_id = RunStore(source.home).list_runs()[0].id
    assert download.value.suggested_filename == f"{run_id}.zip"

    target = start_app(tmp_path / "target-lab")
    page.goto(f"{target.url}/runs")
    wait_until_rendered(page)
    page.get_by_text("Import a run from a zip").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(archive)
    page.get_by_role("button", name="Import", exact=True).click()
    imported = page.get_by_text(re.compile(r"Imported run \d{8}-\d{6}-[0-9a-f]{6}\."))
    expect(imported).to_be_visible(timeout=20_000)
    new_id = re.search(r"\d{8}-\d{6}-[0-9a-f]{6}", imported.inner_text()).group(0)
    assert new_id != run_id  # an imported run gets an id made by the store it joins
    page.goto(f"{target.url}/run?run={new_id}")
    wait_until_rendered(page)
    expect(page.get_by_text("Status: done")).to_be_visible()
    wait_for_later_step(page, "Loss", 59)
