"""End to end: a DCGAN trains from the browser; its fixed-noise grid changes; the one timeline scrubs back."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import (CHART_BY_TITLE, IMAGE, choose_algorithm, fill, scrub_timeline_to_start,
                               wait_for_later_step)

pytestmark = pytest.mark.e2e

GRID = "Samples from fixed noise at step"
GRID_IMAGE = f"() => ({IMAGE})({GRID!r})"
# The step of the snapshot every view shows, read from the grid's title.
SHOWN_STEP = f"""() => {{
    const el = ({CHART_BY_TITLE})({GRID!r});
    return el ? parseInt(el.layout.title.text.replace(/<br>/g, " ").match(/at step (\\d+)/)[1]) : 0;
}}"""


def test_a_dcgan_run_shows_its_samples_changing_and_scrubs_back_in_time(page: Page, app_server: str):
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    choose_algorithm(page, "dcgan", "base channels")
    fill(page, "steps", 100000)
    fill(page, "eval every", 0)  # no sample-quality classifier training beside the run on 2 cores
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    expect(page.get_by_role("heading", name="dcgan on digits")).to_be_visible()

    # Both loss curves grow, and the grid drawn from the same noise vectors changes as G learns.
    wait_for_later_step(page, "Losses: discriminator and generator", 0)
    page.wait_for_function(f"() => ({GRID_IMAGE})() !== null", timeout=30_000)
    first_grid = page.evaluate(GRID_IMAGE)
    page.wait_for_function(f"(old) => ({GRID_IMAGE})() !== old", arg=first_grid, timeout=30_000)

    # The one timeline follows the newest snapshot while the run trains ...
    followed = page.evaluate(SHOWN_STEP)
    # Snapshots are spaced to take at most 2% of the run's time, so under load the next may take a while.
    page.wait_for_function(f"(n) => ({SHOWN_STEP})() > n", arg=followed, timeout=60_000)
    latest_grid = page.evaluate(GRID_IMAGE)

    # ... and scrubbing to the start shows the first snapshot's grid, then stays there.
    scrub_timeline_to_start(page, f"() => ({SHOWN_STEP})() === 1")
    assert page.evaluate(SHOWN_STEP) == 1
    assert page.evaluate(GRID_IMAGE) != latest_grid  # step 1's samples are not the latest ones
    page.wait_for_timeout(3000)  # refreshes of the live view must not jump back to the latest
    assert page.evaluate(SHOWN_STEP) == 1

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Status: cancelled").first).to_be_visible(timeout=30_000)
