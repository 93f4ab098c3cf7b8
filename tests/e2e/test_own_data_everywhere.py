"""End to end: a file you bring is a dataset like any other. Upload an image zip on Your data, train a VAE on
it from Train and see its samples change; upload a table and train a SOM on it from the SOM page; both runs
reopen after a reload."""

import re

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, IMAGE, choose, choose_algorithm, click_map_point, fill, title_text
from tests.own_files import labelled_table, shapes_zip
from unsup_core.analysis.export import download_label

pytestmark = pytest.mark.e2e

GRID = "Samples from fixed noise"
GRID_IMAGE = f"() => ({IMAGE})({GRID!r})"


def _upload(page: Page, app_server: str, path) -> None:
    page.goto(f"{app_server}/your_data")
    wait_until_rendered(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    wait_until_rendered(page)
    expect(page.get_by_text(f"What was read from {path.name}")).to_be_visible(timeout=20_000)


def _choose_file(page: Page, name: str, kind: str) -> None:
    """The files come after the built-ins, past what the dropdown draws at once: type to find them."""
    page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.keyboard.type(name)
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)}\s+\(your file: {kind}")).click()
    wait_until_rendered(page)


def test_train_a_vae_on_an_uploaded_zip_and_a_som_on_an_uploaded_table(page: Page, app_server: str, tmp_path):
    images, table = tmp_path / "shapes.zip", tmp_path / "flowers.csv"
    images.write_bytes(shapes_zip(60, 20))
    table.write_bytes(labelled_table())

    _upload(page, app_server, images)
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    _choose_file(page, "shapes.zip", "image zip")
    expect(page.get_by_text("60 rows x 400 features")).to_be_visible(timeout=20_000)  # automatic: 20 x 20 grey
    choose(page, "Image size", "16 x 16")
    expect(page.get_by_text("60 rows x 256 features")).to_be_visible()
    choose_algorithm(page, "vae", "latent dim")
    fill(page, "steps", 100000)
    fill(page, "eval every", 0)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    expect(page.get_by_role("heading", name="vae on shapes.zip")).to_be_visible()
    page.wait_for_function(f"() => ({GRID_IMAGE})() !== null", timeout=30_000)
    first_grid = page.evaluate(GRID_IMAGE)
    page.wait_for_function(f"(old) => ({GRID_IMAGE})() !== old", arg=first_grid, timeout=30_000)
    page.get_by_role("button", name="Cancel").click()  # leave the cores to the SOM
    vae_url = page.url

    _upload(page, app_server, table)
    page.goto(f"{app_server}/som")
    wait_until_rendered(page)
    _choose_file(page, "flowers.csv", "table")
    expect(page.get_by_text("90 rows x 3 features")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/som\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    page.wait_for_function(f"() => ({CHART_BY_TITLE})('U-matrix') !== null", timeout=30_000)
    expect(page.get_by_text(re.compile(r"som on flowers\.csv, created"))).to_be_visible()

    page.reload()  # the live map reruns while it trains: look for the run, not for an idle script
    expect(page.get_by_text(re.compile(r"som on flowers\.csv, created"))).to_be_visible(timeout=20_000)
    page.wait_for_function(f"() => ({CHART_BY_TITLE})('Majority label per unit') !== null", timeout=30_000)
    # Clicking a unit of the clustered map lists the file's rows it holds, which download as a CSV.
    clusters = page.locator("[data-testid='stPlotlyChart']").filter(has_text=title_text("clusters of the prototypes"))
    click_map_point(page, clusters, clusters.locator(".scatterlayer .points path").first, "samples")
    listed = page.get_by_text(re.compile(r"^\d+ samples? on unit \d+$"))
    expect(listed).to_be_visible(timeout=30_000)
    count = int(listed.inner_text().split()[0])
    wait_until_rendered(page)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name=download_label(count)).click()
    rows = pd.read_csv(download.value.path())
    assert list(rows.columns) == ["cluster", "unit", "sepal_length", "sepal_width", "petal_length", "species"]
    assert len(rows) == count and rows["unit"].nunique() <= 1
    page.goto(vae_url)
    expect(page.get_by_role("heading", name="vae on shapes.zip")).to_be_visible(timeout=20_000)
    page.wait_for_function(f"() => ({GRID_IMAGE})() !== null", timeout=30_000)
