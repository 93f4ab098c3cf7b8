"""End to end: pause a training VAE, step it by 10, change its learning rate, play; the change is on the curve."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, wait_for_later_step
from tests.e2e.test_train_live import start_vae

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # about 20-30 s on two shared cores

# Where a chart's labelled change lines sit: [[x, label], ...].
CHANGE_MARKERS = f"""(part) => {{
    const el = ({CHART_BY_TITLE})(part);
    if (!el) return [];
    return (el.layout.annotations || []).filter(a => a.xref === "x").map(a => [a.x, a.text]);
}}"""


def held_step(page: Page) -> int:
    status = page.get_by_text(re.compile(r"paused at step [\d,]+"))
    expect(status).to_be_visible(timeout=30_000)
    return int(re.search(r"paused at step ([\d,]+)", status.inner_text()).group(1).replace(",", ""))


def test_pause_step_change_the_learning_rate_and_play(page: Page, app_server: str):
    start_vae(page, app_server, steps=100_000)
    wait_for_later_step(page, "Loss", 0)

    page.get_by_role("button", name="Pause training").click()
    wait_until_rendered(page)
    held = held_step(page)
    expect(page.get_by_role("button", name="Continue training")).to_be_visible()

    page.get_by_label("steps to take", exact=True).fill("10")
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text(f"paused at step {held + 10:,}")).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Learning rate").click()
    page.get_by_label("learning rate (lr)", exact=True).fill("0.0003")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function(f"(step) => ({CHANGE_MARKERS})('Loss').some(m => m[0] === step && m[1] === 'lr 0.0003')",
                           arg=held + 10, timeout=30_000)

    page.keyboard.press("Escape")  # close the popover
    page.get_by_role("button", name="Continue training").click()
    wait_for_later_step(page, "Loss", held + 10)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Status: cancelled")).to_be_visible(timeout=10_000)
