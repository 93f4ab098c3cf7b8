"""Page helpers shared by the browser tests: find plotly charts by title, read their traces, pick options."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import wait_until_rendered
from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.catalogue import menu_label

# Plotly keeps the decoded arrays in _fullData (data holds base64 "bdata" for numpy input), and
# Streamlit's theme wraps titles in <b>, so charts are found by a part of their title.
CHART_BY_TITLE = """(part) => {
    for (const el of document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")) {
        const title = el.layout && el.layout.title && el.layout.title.text;  // wrapped with <br> (viz/style.py)
        if (title && title.replace(/<br>/g, " ").includes(part) && el._fullData && el._fullData.length) return el;
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
# Every trace of a chart as {name: {x, y}} (empty when the chart is not drawn yet).
TRACES = f"""(part) => {{
    const el = ({CHART_BY_TITLE})(part);
    const traces = {{}};
    if (el) for (const t of el._fullData) traces[t.name] = {{x: Array.from(t.x || []), y: Array.from(t.y || [])}};
    return traces;
}}"""


def title_text(words: str) -> re.Pattern:
    """Matches a chart title in the page's text: a wrapped title's lines are drawn without a space between."""
    return re.compile(r"\s*".join(re.escape(word) for word in words.split()))


def choose(page: Page, label: str, option: str | re.Pattern) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_until_rendered(page)


def choose_algorithm(page: Page, name: str, form_field: str) -> None:
    """Pick an algorithm (shown by its family and readable name) and wait for its own form: a value
    typed into the previous algorithm's form before the rerun has drawn the new one would be lost."""
    choose(page, "Algorithm", menu_label(get_algorithm(name)))
    expect(page.get_by_label(form_field, exact=True)).to_be_visible(timeout=30_000)
    wait_until_rendered(page)


def fill(page: Page, label: str, value: int | float) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    expect(box).to_have_value(str(value))


def wait_for_later_step(page: Page, title: str, than: int) -> int:
    page.wait_for_function(f"(n) => ({LAST_STEP})({title!r}) > n", arg=than, timeout=30_000)
    return page.evaluate(LAST_STEP, title)


def scrub_timeline_to_start(page: Page, arrived: str) -> None:
    """Move the run's timeline to its first snapshot until the JS condition ``arrived`` holds.

    While the run trains each new snapshot adds an option, which redraws the slider; a key press that
    lands during a redraw is lost, so press again as a user would.
    """
    deadline = time.monotonic() + 45  # on 2 busy cores a redraw can take seconds, several in a row
    while True:
        slider = page.get_by_role("slider", name="Snapshot at step")
        slider.focus()
        page.keyboard.press("Home")
        try:
            page.wait_for_function(arrived, timeout=4_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def click_map_point(page: Page, chart, point, hover_shows: str) -> None:
    """Click a plotly marker as a user does: plotly's drag layer takes the mouse, so hover the point
    until its hover box shows ``hover_shows``, then press and release there."""
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(chart.locator(".hoverlayer .hovertext")).to_contain_text(hover_shows)
    page.mouse.down()
    page.mouse.up()
