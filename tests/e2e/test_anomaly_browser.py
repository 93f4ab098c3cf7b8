"""End to end: find planted anomalies from the browser, move the threshold, download the scores."""

import re

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, choose, choose_algorithm, fill, wait_for_later_step

pytestmark = pytest.mark.e2e


def metric_value(page: Page, label: str):
    # exact: the live summary also shows the logged metrics (precision, recall) in lower case
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")


def test_autoencoder_finds_planted_digits_and_the_threshold_regrades_them(page: Page, app_server: str, tmp_path):
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    choose(page, "Dataset", re.compile(r"^digits_anomalies\b"))
    choose_algorithm(page, "autoencoder_outliers", "bottleneck")
    fill(page, "steps", 150)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)

    # Live: the loss and the grading curves grow; the most anomalous digits are drawn.
    wait_for_later_step(page, "Finding the planted anomalies", 25)
    for title in ("Distribution of outlier scores", "most anomalous rows", "Planted anomalies"):
        page.wait_for_function(f"() => ({CHART_BY_TITLE})({title!r}) !== null", timeout=30_000)
    expect(page.get_by_text("Status: done")).to_be_visible(timeout=60_000)

    # The threshold slider (drawn on page load, outside the live views) regrades the detection.
    page.reload()
    wait_until_rendered(page)
    expect(metric_value(page, "Recall")).to_have_text("1.00", timeout=20_000)  # share 5% > 3% planted
    precision_before = float(metric_value(page, "Precision").inner_text())
    assert precision_before < 0.7
    slider = page.get_by_role("slider", name="Threshold (flag rows scoring above it)")
    slider.focus()
    slider.press("End")  # the highest threshold: nothing is flagged
    wait_until_rendered(page)
    expect(metric_value(page, "Flagged rows")).to_have_text("0")
    expect(metric_value(page, "Recall")).to_have_text("0.00")

    # The download has every row with its score and the flag at the chosen threshold.
    with page.expect_download(timeout=60_000) as download:  # the CSV of 1,797 rows is built on click
        page.get_by_role("button", name="Download rows with scores (CSV)").click()
    path = tmp_path / "scores.csv"
    download.value.save_as(path)
    scores = pd.read_csv(path)
    assert len(scores) == 1797 and {"label", "outlier_score", "is_outlier"} <= set(scores.columns)
    assert scores["is_outlier"].sum() == 0
    top = scores.nlargest(54, "outlier_score")
    assert (top["label"] == "planted anomaly").mean() >= 0.8
