"""End to end: train a VAE from the browser and watch it live, reload, second tab, cancel."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import wait_until_rendered
from tests.e2e.helpers import CHART_BY_TITLE, IMAGE, LAST_STEP, choose_algorithm, fill, wait_for_later_step

pytestmark = pytest.mark.e2e


def start_vae(page: Page, base_url: str, steps: int) -> str:
    page.goto(f"{base_url}/train")
    wait_until_rendered(page)
    choose_algorithm(page, "vae", "latent dim")
    fill(page, "steps", steps)
    # No sample-quality scoring: its classifier would train beside the run and slow this 2-core test.
    fill(page, "eval every", 0)
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/run\?run=.+"), timeout=30_000)
    wait_until_rendered(page)
    return page.url


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


def test_train_live_with_runs_on_ray_and_the_store_in_postgresql(page: Page, start_app, postgres_url, ray_address):
    from tests.conftest import stop_active_runs
    from unsup_core.runs.store import RunStore

    server = start_app(env={"UNSUP_LAB_EXECUTOR": "ray", "UNSUP_LAB_RAY_ADDRESS": ray_address,
                            "UNSUP_LAB_DATABASE_URL": postgres_url})
    store = RunStore(server.home)
    try:
        start_vae(page, server.url, steps=100_000)
        # The loss curve grows while the run trains in a Ray job, exactly as a local run's does.
        first = wait_for_later_step(page, "Loss", 0)
        wait_for_later_step(page, "Loss", first)
        [run] = store.list_runs()
        assert store.backend_name == "postgresql" and run.ray_job is not None and run.status == "running"
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_text("Status: cancelled")).to_be_visible(timeout=10_000)
    finally:
        stop_active_runs(store)
