"""End to end: upload a messy CSV through the file chooser, choose columns, choose k, cluster, see the map
computed in the page, click a point to list its cluster's rows, download them and every row."""

import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import click_map_point, title_text
from unsup_core.analysis.export import download_label

pytestmark = pytest.mark.e2e


@pytest.fixture
def customers(tmp_path):
    """Three customer segments, written the way a German spreadsheet exports them (Latin-1, ';', '1,5')."""
    rng = np.random.default_rng(0)
    segment = np.repeat([0, 1, 2], 50)
    table = pd.DataFrame({
        "Kunde": np.arange(1, 151),
        "Alter": (np.array([25, 45, 65])[segment] + rng.normal(0, 3, 150)).round(1),
        "Einkommen": (np.array([30_000, 60_000, 40_000])[segment] + rng.normal(0, 3000, 150)).round(2),
        "Besuche": np.array([12, 5, 2])[segment] + rng.integers(0, 3, 150),
        "Stadt": rng.choice(["Köln", "München", "Berlin"], 150),
        "Segment": np.array(["jung", "mittel", "älter"])[segment],
    })
    table.loc[[3, 40], "Alter"] = np.nan
    path = tmp_path / "kunden.csv"
    table.to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    return path


def test_upload_prepare_choose_k_cluster_and_download(page: Page, app_server: str, customers, tmp_path):
    page.goto(f"{app_server}/your_data")
    wait_until_rendered(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(customers)
    wait_until_rendered(page)
    expect(page.get_by_text("What was read from kunden.csv")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("delimiter: semicolon")).to_be_visible()

    # The defaults leave out the customer number (an id) and the city (a category beside measurements).
    expect(page.get_by_text("150 rows x 3 features")).to_be_visible()

    page.get_by_role("button", name="Choose for me").click()
    expect(page.get_by_text("Recommended:", exact=True)).to_be_visible(timeout=90_000)
    expect(page.get_by_text("How memberships move as k grows")).to_be_visible()
    page.get_by_role("button", name="Run this candidate").click()
    wait_until_rendered(page)
    expect(page.get_by_role("spinbutton", name=re.compile("n (clusters|components)"))).to_have_value("3")

    page.get_by_role("button", name="Cluster", exact=True).click()
    expect(page.get_by_text("Understand the clusters (")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Clusters on the PCA map (150 rows)")).to_be_visible(timeout=60_000)
    # 150 rows are mapped in the page itself: no map run waits in the queue.
    expect(page.get_by_text(re.compile(r"Computed here in [\d.]+ s, without a run"))).to_be_visible()
    wait_until_rendered(page)

    # Clicking a point lists the original rows of its cluster, and they download as a CSV.
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text=title_text("Clusters on the PCA map"))
    click_map_point(page, chart, chart.locator(".scatterlayer .trace").first.locator(".points path").first,
                    "Einkommen")  # the hover box shows the point's original row
    listed = page.get_by_text(re.compile(r"^\d+ rows? of cluster \d$"))
    expect(listed).to_be_visible(timeout=30_000)
    size, cluster = map(int, re.fullmatch(r"(\d+) rows? of cluster (\d)", listed.inner_text()).groups())
    wait_until_rendered(page)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name=download_label(size)).click()
    rows = pd.read_csv(download.value.path())
    assert len(rows) == size and set(rows["cluster"]) == {cluster}
    assert list(rows.columns) == ["cluster", "Kunde", "Alter", "Einkommen", "Besuche", "Stadt", "Segment"]

    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download the labelled rows").click()
    # One name per clustering (file, algorithm, run id): two clusterings of a file never overwrite each other.
    assert re.fullmatch(r"kunden-\w+-\d{8}-\d{6}-[0-9a-f]{6}-clusters\.csv", download.value.suggested_filename)
    saved = tmp_path / "downloaded.csv"
    download.value.save_as(saved)
    labelled = pd.read_csv(saved)
    assert len(labelled) == 150
    assert list(labelled.columns) == ["Kunde", "Alter", "Einkommen", "Besuche", "Stadt", "Segment", "cluster",
                                      "pca_1", "pca_2"]
    assert labelled["cluster"].nunique() == 3 and labelled["Segment"].iloc[-1] == "älter"
    # The clusters are the segments (the label column was only used to score them).
    assert pd.crosstab(labelled["Segment"], labelled["cluster"]).max(axis=1).sum() >= 145
