"""End to end: train a VAE from the browser and watch it live, reload, second tab, cancel."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered

pytestmark = pytest.mark.e2e

# Plotly keeps the decoded arrays in _fullData (data holds base64 "bdata" for numpy input), and
# Streamlit's theme wraps titles in <b>, so charts are found by a part of their title.
CHART_BY_TITLE = """(part) => {
    for (const el of document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")) {
        const title = el.layout && el.layout.title && el.layout.title.text;
        if (title && title.includes(part) && el._fullData && el._fullData.length) return el;
    }
    return null;
}"""
# The last training step drawn on a curve (curves are downsampled, so count steps, not points).
LAST_STEP = f"""(part) => {{
    const el = ({CHART_BY_TITLE})(part);
    if (!el || !el._fullData[0].x || !el._fullData[0].x.length) return 0;
    return el._fullData[0].x[el._fullData[0].x.length - 1];
}}"""
IMAGE = f"(part) => {{ const el = ({CHART_BY_TITLE})(part); return el ? el._fullData[0].source : null; }}"


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_rendered(page)


def start_vae(page: Page, base_url: str, steps: int) -> str:
    page.goto(base_url)
    wait_until_rendered(page)
    choose(page, "Algorithm", "vae")
    page.get_by_label("steps", exact=True).fill(str(steps))
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    return page.url


def wait_for_later_step(page: Page, title: str, than: int) -> int:
    page.wait_for_function(f"(n) => ({LAST_STEP})({title!r}) > n", arg=than, timeout=30_000)
    return page.evaluate(LAST_STEP, title)


def test_train_a_vae_live_reload_second_tab_and_cancel(page: Page, app_server: str):
    run_url = start_vae(page, app_server, steps=100_000)
    expect(page.get_by_role("heading", name="vae on digits")).to_be_visible()

    # The loss curve grows and the sample grid from fixed noise changes while it trains.
    first = wait_for_later_step(page, "Loss", 0)
    page.wait_for_function(f"() => ({IMAGE})('Samples') !== null", timeout=30_000)
    first_grid = page.evaluate(IMAGE, "Samples")
    wait_for_later_step(page, "Loss", first + 50)
    page.wait_for_function(f"(old) => ({IMAGE})('Samples') !== old", arg=first_grid, timeout=30_000)
    expect(page.get_by_role("progressbar")).to_be_visible()
    for title in ("Reconstructions", "Latent map"):
        page.wait_for_function(f"() => ({CHART_BY_TITLE})({title!r}) !== null", timeout=10_000)

    # A reload re-attaches to the same run, which is still training.
    before_reload = page.evaluate(LAST_STEP, "Loss")
    page.reload()
    wait_until_rendered(page)
    assert page.url == run_url
    wait_for_later_step(page, "Loss", before_reload)

    # A second tab sees the same run updating too.
    second_tab = page.context.new_page()
    second_tab.goto(run_url)
    wait_until_rendered(second_tab)
    seen = wait_for_later_step(second_tab, "Loss", 0)
    wait_for_later_step(second_tab, "Loss", seen)
    second_tab.close()

    # Start a second run and cancel it: it stops and says so; the first one keeps going.
    start_vae(page, app_server, steps=100_000)
    wait_for_later_step(page, "Loss", 0)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Status: cancelled")).to_be_visible(timeout=10_000)
    page.goto(run_url)
    wait_until_rendered(page)
    expect(page.get_by_text("Status: running")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Status: cancelled")).to_be_visible(timeout=10_000)
