"""End to end: a lesson's link with a hidden control fills Train, leaves the control out, and Train starts
exactly the lesson's run."""

import re
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from unsup_core.algorithms import get_algorithm
from unsup_core.algorithms.catalogue import menu_label
from unsup_core.datasets import get_entry
from unsup_core.form_links import encode
from unsup_core.lessons import get_lesson
from unsup_core.runs.store import RunStore

pytestmark = pytest.mark.e2e


def test_a_lesson_link_hides_its_control_and_trains_with_its_values(page: Page, start_app):
    server = start_app()
    lesson_link = get_lesson("choose-k").link("choose k").form_link()
    assert lesson_link.hidden == ("data.n_blobs",) and lesson_link.dataset_options["n_blobs"] == 5
    page.goto(f"{server.url}/train?{urlencode(encode(lesson_link))}")
    wait_until_rendered(page)

    # The first script run of a fresh server imports torch: allow it time.
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(re.compile("^blobs "), timeout=30_000)
    wait_until_rendered(page)
    expect(page.get_by_role("combobox", name="Algorithm")).to_have_value(menu_label(get_algorithm("choose_k")))
    expect(page.get_by_label("k max", exact=True)).to_have_value("10")
    page.get_by_text("Dataset options").click()
    expect(page.get_by_label("n samples", exact=True)).to_be_visible()
    expect(page.get_by_label("n blobs", exact=True)).to_have_count(0)  # the lesson hides the answer
    expect(page.get_by_text("This link hides or fixes some controls")).to_be_visible()
    assert "hide=data.n_blobs" in page.url  # the address still is the lesson's link

    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    (run,) = RunStore(server.home).list_runs()
    expected = lesson_link.spec()  # the form spells out every dataset option, the link only those it sets
    assert replace(run.spec, dataset_options={}) == replace(expected, dataset_options={})
    assert run.spec.dataset_options == {**get_entry("blobs").defaults, **expected.dataset_options}
    assert run.spec.dataset_options["n_blobs"] == 5 and run.spec.steps == get_algorithm("choose_k").default_steps
