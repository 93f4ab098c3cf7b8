"""End to end, as a lesson is taught: open a lesson's link (a control hidden), train, pause, step by 10,
change the learning rate, play; the change is on the curve; the one timeline follows the run and moving
it moves every view."""

import re
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, scrub_timeline_to_start, wait_for_later_step
from unsup_core.form_links import encode
from unsup_core.lessons import get_lesson

pytestmark = pytest.mark.e2e

# Where a chart's labelled change lines sit: [[x, label], ...].
CHANGE_MARKERS = f"""(part) => {{
    const el = ({CHART_BY_TITLE})(part);
    if (!el) return [];
    return (el.layout.annotations || []).filter(a => a.xref === "x").map(a => [a.x, a.text]);
}}"""
# The step in the title of every snapshot view ("... at step N").
VIEW_STEPS = """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"))
    .map(el => el.layout && el.layout.title && el.layout.title.text
               && el.layout.title.text.replace(/<br>/g, " ").match(/at step (\\d+)/))
    .filter(match => match).map(match => parseInt(match[1]))"""


def held_step(page: Page) -> int:
    status = page.get_by_text(re.compile(r"paused at step [\d,]+"))
    expect(status).to_be_visible(timeout=30_000)
    return int(re.search(r"paused at step ([\d,]+)", status.inner_text()).group(1).replace(",", ""))


def test_a_lesson_link_then_pause_step_change_the_learning_rate_play_and_scrub(page: Page, app_server: str):
    lesson = get_lesson("vae-beta").link("β = 4").form_link()
    link = replace(lesson, steps=100_000, hidden=("beta",))  # long enough to pause it while it trains
    page.goto(f"{app_server}/train?{urlencode(encode(link))}")
    wait_until_rendered(page)
    expect(page.get_by_label("latent dim", exact=True)).to_have_value("8", timeout=30_000)
    expect(page.get_by_role("spinbutton", name="beta", exact=True)).to_have_count(0)  # the lesson hides it
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    wait_for_later_step(page, "Loss", 0)

    page.get_by_role("button", name="Pause training").click()
    wait_until_rendered(page)
    held = held_step(page)
    expect(page.get_by_role("button", name="Continue training")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).not_to_contain_text("ETA")  # a paused run promises no finish time

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
    expect(page.get_by_test_id("stProgress")).to_contain_text("ETA")

    # The timeline follows the run: every snapshot view shows the same, newest step ...
    page.wait_for_function(f"(n) => {{ const s = ({VIEW_STEPS})(); return s.length > 1 && s[0] > n "
                           "&& s.every(x => x === s[0]); }", arg=held + 10, timeout=60_000)
    # ... and moving it to the start moves every view there together.
    scrub_timeline_to_start(page, f"() => ({VIEW_STEPS})().every(x => x === 1)")
    steps = page.evaluate(VIEW_STEPS)
    assert len(steps) > 1 and set(steps) == {1}

    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Status: cancelled").first).to_be_visible(timeout=30_000)
