"""What a newcomer meets first, in a real browser: every explanation renders, and nothing is fetched
from any host but the lab's own server (a class server may have no internet)."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered

pytestmark = pytest.mark.e2e


def _open_every_expander(page: Page) -> None:
    # One click event per expander from the page itself: Playwright's click waits for each to be scrolled
    # to and to stop moving (every opened expander shifts the ones below), about 1 s apiece for 30.
    count = page.evaluate("""() => {
        const summaries = document.querySelectorAll("[data-testid='stExpander'] summary");
        summaries.forEach(summary => summary.click());
        return summaries.length;
    }""")
    assert count > 0
    expect(page.locator("[data-testid='stExpander'] details[open]")).to_have_count(count)


def test_every_explanation_renders_and_nothing_leaves_the_server(page: Page, app_server: str):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(app_server)
    wait_until_rendered(page)
    expect(page.get_by_text("Learn how a model works")).to_be_visible()
    _open_every_expander(page)
    page.wait_for_function("() => document.querySelectorAll('.katex').length > 20")
    main = page.get_by_test_id("stMain")
    assert main.locator(".katex-error").count() == 0, main.locator(".katex-error").first.inner_text()
    assert "$$" not in main.inner_text()

    page.goto(f"{app_server}/som")
    wait_until_rendered(page)
    _open_every_expander(page)
    assert page.locator(".katex-error").count() == 0

    server = urlparse(app_server).netloc
    outside = sorted({url for url in requests if urlparse(url).scheme in ("http", "https", "ws", "wss")
                      and urlparse(url).netloc != server})
    assert outside == []
