"""A class server in a real browser: two students and a teacher, each in their own browser context.

Student B must not list, open (by URL or ``?cluster=``), export, cancel or delete student A's runs or
files; a forged cookie, or A's id without the server's signature, is a new user; the teacher sees
everything after the password, and wrong passwords are slowed down.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import wait_until_rendered

pytestmark = pytest.mark.e2e
COOKIE = "unsup_lab_user"


@pytest.fixture
def class_server(start_app, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('teacher_password = "correct horse"\n')
    # Locked out after two wrong passwords here, so the test never races the growing delays.
    return start_app(env={"UNSUP_LAB_SHARED": "1", "UNSUP_LAB_LOGIN_MAX_FAILURES": "2"}, secrets=secrets).url


def _open(page: Page, url: str) -> Page:
    page.goto(url)
    wait_until_rendered(page)
    return page


def _identity_cookie(page: Page) -> dict:
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE}=')", timeout=10_000)
    return next(cookie for cookie in page.context.cookies() if cookie["name"] == COOKIE)


def _runs_listed(page: Page, server: str) -> int:
    """How many runs the Runs page lists to this user (the store holds only the test's runs)."""
    _open(page, f"{server}/runs")
    text = page.get_by_test_id("stMain").inner_text()
    if "No runs yet" in text:
        return 0
    return int(re.search(r"(\d+) of (\d+) runs", text).group(2))


def test_students_are_isolated_and_the_teacher_sees_all(browser: Browser, class_server: str, tmp_path):
    table = tmp_path / "grades.csv"
    table.write_text("hours,score\n" + "".join(f"{h % 10},{(h % 10) * 7 + h % 3}\n" for h in range(60)))
    alice = browser.new_context().new_page()
    _open(alice, f"{class_server}/your_data")
    alice.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(table)
    expect(alice.get_by_text("What was read from grades.csv")).to_be_visible(timeout=20_000)
    alice.get_by_role("button", name="Cluster", exact=True).click()
    expect(alice.get_by_text("Understand the clusters (kmeans")).to_be_visible(timeout=60_000)
    run_id = re.search(r"cluster=([\w-]+)", alice.url).group(1)
    started = _runs_listed(alice, class_server)  # the clustering and its map: runs of whoever started them
    assert started >= 1
    alice_cookie = _identity_cookie(alice)

    bob = browser.new_context().new_page()
    assert _runs_listed(bob, class_server) == 0
    _open(bob, f"{class_server}/your_data?cluster={run_id}")
    expect(bob.get_by_text("Cannot open that clustering")).to_be_visible()
    expect(bob.get_by_text("What was read from grades.csv")).to_have_count(0)
    expect(bob.get_by_text("reopen a file uploaded before")).to_have_count(0)
    _open(bob, f"{class_server}/run?run={run_id}")
    expect(bob.get_by_text("belongs to another session")).to_be_visible()
    for action in ("Export zip", "Cancel", "Resume"):
        expect(bob.get_by_role("button", name=action)).to_have_count(0)

    # A's id without the server's signature, or with a forged one, is nobody: a new anonymous user.
    user, signature = alice_cookie["value"].split(".", 1)
    for forged in (user, f"{user}.{signature[::-1]}", "cli", "dashboard"):
        intruder = browser.new_context()
        intruder.add_cookies([{**alice_cookie, "value": forged}])
        page = intruder.new_page()
        assert _runs_listed(page, class_server) == 0, forged
        assert _identity_cookie(page)["value"] != alice_cookie["value"]
        intruder.close()

    teacher = browser.new_context().new_page()
    _open(teacher, f"{class_server}/runs")
    teacher.get_by_role("button", name="Teacher").click()
    password = teacher.get_by_label("Teacher password")
    password.fill("wrong guess")
    password.press("Enter")
    expect(teacher.get_by_text("Wrong password.")).to_be_visible()
    password.fill("correct horse")
    password.press("Enter")
    wait_until_rendered(teacher)
    expect(teacher.get_by_text("Teacher controls on")).to_be_visible()
    assert _runs_listed(teacher, class_server) == started

    # Guessing: past the allowed wrong passwords, even the right one is not tried.
    guesser = browser.new_context().new_page()
    _open(guesser, f"{class_server}/runs")
    guesser.get_by_role("button", name="Teacher").click()
    box = guesser.get_by_label("Teacher password")
    for guess in ("guess 1", "guess 2", "correct horse"):
        box.fill(guess)
        box.press("Enter")
        wait_until_rendered(guesser)
    expect(guesser.get_by_text(re.compile(r"Too many wrong passwords: try again in \d{3} s"))).to_be_visible()
    expect(guesser.get_by_text("Teacher controls on")).to_have_count(0)
