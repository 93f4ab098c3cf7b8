"""End to end: learning with few labels, from the Train page to the run page in a real browser.

* SimCLR on `shapes`: the linear probe curve (every `probe every` steps) next to the raw-pixel probe,
  and the held-out embedding.
* Semi-supervised on `digits`: accuracy on the unlabelled points against labels per class, for the
  semi-supervised method and the supervised baseline, and the map with the given labels marked.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, TRACES, choose, choose_algorithm, fill
from unsup_core.algorithms.semi_supervised import LABEL_BUDGETS

pytestmark = pytest.mark.e2e

PROBE_CHART = "Linear probe accuracy (held-out)"
EMBEDDING_CHART = "Held-out embedding at step"
ACCURACY_CHART = "Accuracy on the unlabelled points"


def train(page: Page, heading: str) -> None:
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def wait_for_traces(page: Page, title: str, condition: str, timeout: float = 60_000) -> dict:
    """The traces of a chart ({name: {x, y}}), read in one go once ``condition`` (JS, on them) holds."""
    handle = page.wait_for_function(
        f"() => {{ const t = ({TRACES})({title!r}); return ({condition})(t) ? t : null; }}", timeout=timeout)
    return handle.json_value()


def test_simclr_on_shapes_draws_the_probe_against_raw_pixels_and_the_held_out_embedding(page: Page, app_server: str):
    steps, probe_every = 60, 20
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    choose(page, "Dataset", re.compile(r"^shapes\b"))
    choose_algorithm(page, "simclr", "temperature")
    # A smaller data set and model keep the run to a few seconds on two cores (the raw-pixel probe
    # on the default 5,000 images alone takes about 30 s here).
    page.get_by_text("Dataset options").click()
    fill(page, "n samples", 1000)
    page.get_by_label("n samples", exact=True).press("Enter")
    wait_until_rendered(page)
    fill(page, "batch size", 64)
    fill(page, "feature dim", 32)
    fill(page, "probe every", probe_every)
    fill(page, "steps", steps)
    train(page, "simclr on shapes")

    # The probe curve gets points while it trains, with the raw-pixel baseline beside it.
    wait_for_traces(page, PROBE_CHART, "t => t.probe_accuracy && t.probe_accuracy.x.length >= 2"
                                       " && t.raw_probe_accuracy && t.raw_probe_accuracy.x.length >= 2")
    page.wait_for_function(f"() => ({CHART_BY_TITLE})({EMBEDDING_CHART!r}) !== null", timeout=30_000)
    expect(page.get_by_text("Status: done")).to_be_visible(timeout=60_000)

    # Once done (the page redraws then, so read each chart in one go when it shows the last step):
    # the probe was evaluated after step 1 and then every `probe every` steps, the baseline at the same steps.
    probe = wait_for_traces(page, PROBE_CHART, f"t => t.probe_accuracy && t.probe_accuracy.x.at(-1) === {steps}")
    assert set(probe) == {"probe_accuracy", "raw_probe_accuracy"}
    learned, raw = probe["probe_accuracy"], probe["raw_probe_accuracy"]
    assert learned["x"] == [1, *range(probe_every, steps + 1, probe_every)]
    assert raw["x"] == learned["x"]
    assert all(0 <= value <= 1 for value in learned["y"] + raw["y"])
    assert len(set(raw["y"])) == 1  # raw pixels do not train: one baseline value, drawn as a line

    # The held-out embedding at the last step: one trace per shape class, with points in each.
    embedding = wait_for_traces(page, f"{EMBEDDING_CHART} {steps} (", "t => Object.keys(t).length > 0")
    assert set(embedding) == {"square", "circle", "triangle"}
    assert all(len(trace["x"]) > 0 for trace in embedding.values())


def test_semi_supervised_on_digits_draws_accuracy_against_labels_and_the_labelled_map(page: Page, app_server: str):
    labels_per_class, steps = 5, 4
    page.goto(f"{app_server}/train")
    wait_until_rendered(page)
    choose(page, "Dataset", re.compile(r"^digits\b"))
    choose_algorithm(page, "semi_supervised", "labels per class")
    fill(page, "labels per class", labels_per_class)
    fill(page, "repeats", 1)  # one label draw per budget and the first few budgets keep the sweep short
    fill(page, "steps", steps)
    train(page, "semi_supervised on digits")

    wait_for_traces(page, ACCURACY_CHART, "t => t['semi-supervised'] && t['supervised (labelled points only)']"
                                          " && t['semi-supervised'].x.length >= 2")
    expect(page.get_by_text("Status: done")).to_be_visible(timeout=60_000)

    # Once done, both methods were scored on the same label budgets, one per step.
    curves = wait_for_traces(page, ACCURACY_CHART,
                             f"t => t['semi-supervised'] && t['semi-supervised'].x.length === {steps}")
    assert set(curves) == {"semi-supervised", "supervised (labelled points only)"}
    semi, supervised = curves["semi-supervised"], curves["supervised (labelled points only)"]
    assert semi["x"] == supervised["x"] == list(LABEL_BUDGETS[:steps])
    assert all(0 <= value <= 1 for value in semi["y"] + supervised["y"])

    # The map marks exactly the given labels: `labels per class` points of each of the 10 digits.
    points = wait_for_traces(page, f"Predictions with {labels_per_class} labels per class",
                             "t => t['given labels'] !== undefined")
    assert len(points["given labels"]["x"]) == labels_per_class * 10
    assert len([name for name in points if name.isdigit()]) >= 2  # predicted classes drawn as their own traces
