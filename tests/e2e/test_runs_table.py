"""End to end: after deleting runs on the Runs page, no other run is left ticked for the next action."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from unsup_core.runs.spec import make_spec
from unsup_core.runs.store import RunStore
from unsup_core.settings import QueueLimits

pytestmark = pytest.mark.e2e
ROW_HEIGHT, HEADER_HEIGHT = 35, 35  # Streamlit's data grid


def _tick_row(page: Page, row: int) -> None:
    """Click the selection box of ``row`` (0 = first data row) in the grid's marker column."""
    grid = page.get_by_test_id("stDataFrameResizable").bounding_box()
    page.mouse.click(grid["x"] + 15, grid["y"] + HEADER_HEIGHT + row * ROW_HEIGHT + ROW_HEIGHT / 2)


def test_after_a_delete_no_run_stays_ticked(page: Page, start_app, tmp_path):
    home = tmp_path / "lab"
    store = RunStore(home)
    for _ in range(3):
        run_id = store.create_run(make_spec("kmeans", "blobs", steps=5))
        store.claim_slot(run_id, 1, QueueLimits(cpu=8, cuda=1))
        store.finish(run_id, "done")
    server = start_app(home)
    page.goto(f"{server.url}/runs")
    wait_until_rendered(page)
    expect(page.get_by_text("3 of 3 runs")).to_be_visible(timeout=30_000)

    _tick_row(page, 0)  # the newest run; after the delete, row 0 holds a run nobody ticked
    wait_until_rendered(page)
    page.get_by_role("button", name="Delete 1").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("2 of 2 runs")).to_be_visible(timeout=20_000)
    wait_until_rendered(page)
    expect(page.get_by_text("Select one run to open or export it")).to_be_visible()
    expect(page.get_by_role("button", name="Delete 1")).to_have_count(0)
    assert len(store.list_runs()) == 2
