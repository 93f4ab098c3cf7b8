"""End to end: train a SOM on digits from the SOM page and read its maps in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, IMAGE

pytestmark = pytest.mark.e2e

# Filled hexagons of the U-matrix: its traces drawn with fill "toself".
HEXAGON_TRACES = f"""(part) => {{
    const el = ({CHART_BY_TITLE})(part);
    return el ? el._fullData.filter(t => t.fill === "toself").length : 0;
}}"""


def test_train_a_som_on_digits_and_see_its_u_matrix_and_prototypes(page: Page, app_server: str):
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    page.get_by_role("link", name="SOM").click()
    expect(page.get_by_role("heading", name="Self-organizing map")).to_be_visible()
    wait_until_rendered(page)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/som\?run=.+"), timeout=30_000)
    wait_until_rendered(page)

    for title in ("U-matrix", "Prototypes", "Hit map", "Majority label per unit", "Quantization error"):
        page.wait_for_function(f"() => ({CHART_BY_TITLE})({title!r}) !== null", timeout=60_000)
    # The default map is hexagonal: the U-matrix is drawn as filled hexagons, not a heatmap.
    assert page.evaluate(HEXAGON_TRACES, "U-matrix") > 1
    # The prototype grid is one picture of every unit's weights.
    assert page.evaluate(IMAGE, "Prototypes").startswith("data:image/png")

    # SOM as clustering: the map coloured by cluster, and the CSV export.
    expect(page.get_by_text("Status: done")).to_be_visible(timeout=60_000)
    page.wait_for_function(f"() => ({CHART_BY_TITLE})('clusters of the prototypes') !== null", timeout=30_000)
    wait_until_rendered(page)  # the run's end reruns the whole page: a click during that rerun is lost
    with page.expect_download(timeout=60_000) as download:  # the CSV is built on click
        page.get_by_role("button", name="Download CSV").first.click()
    header = open(download.value.path()).readline().strip()
    assert header == "sample,neuron,row,col,cluster,label,label_name"
