"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Playwright is launched with `executable_path` to the system's browser: nothing here downloads one
(never `playwright install`). `.ci/run` installs chromium with apt-get when it is missing.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from helpers import run_schedcli, wait_for_state
from schedcli.store import JobStore
from serve_process import ServerProcess

pytestmark = pytest.mark.broker

HOSTILE = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">"


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright  # in the test extra; a missing one fails, never skips

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed; `apt-get install -y chromium` (bash .ci/run does it)",
                    pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page
        browser.close()


@pytest.fixture
def server(broker_url, database_url, tmp_path):
    process = ServerProcess(tmp_path / "serve.log").wait_ready()
    yield process
    process.stop()


def test_the_dashboard_lists_a_cli_job_shows_hostile_arguments_as_text_and_cancels(
        server, browser_page, database_url, tmp_path):
    sent = run_schedcli("call", "schedcli.tasks.echo", HOSTILE, "--in", "1h", "-q")
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.strip()
    page = browser_page

    page.goto(server.base_url + "/")
    row = page.locator(f'#scheduled tr[data-job-id="{job_id}"]')
    row.wait_for()
    countdown = row.locator(".countdown").inner_text()
    assert countdown.startswith("in 59m") or countdown == "in 1h 00m", countdown  # 3,600 s less the send, rounded
    assert "<script>window.pwned = 1</script>" in row.locator("td.args").inner_text()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    row.locator("td.id a").click()
    page.wait_for_url(f"**/jobs/{job_id}")
    assert json.dumps(HOSTILE) in page.locator("#job-args").inner_text()  # the JSON of the arguments, as text
    assert page.evaluate("window.pwned") is None and page.dialogs == []
    page.fill("#reschedule-when", "tomorrow 12:00")
    page.locator("#when-preview").filter(has_text="12:00:00").wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.locator("#job-state", has_text="CANCELLED").wait_for()
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)

    assert wait_for_state(database_url, job_id, "CANCELLED", timeout=5).state == "CANCELLED"
    page.goto(server.base_url + "/")
    assert page.locator(f'#scheduled tr[data-job-id="{job_id}"]').count() == 0
    assert page.evaluate("window.pwned") is None and page.dialogs == []
    assert (tmp_path / "dashboard.png").stat().st_size > 0


def test_the_schedules_page_shows_next_runs_and_pauses_resumes_and_runs_one(
        server, browser_page, database_url, tmp_path):
    added = run_schedcli("schedule", "add", "hourly-echo", "schedcli.tasks.echo", HOSTILE, "--every", "1h")
    assert added.returncode == 0, added.stderr
    page = browser_page

    page.goto(server.base_url + "/")
    page.get_by_role("link", name="Schedules").first.click()
    page.wait_for_url("**/schedules")
    row = page.locator('tr[data-schedule="hourly-echo"]')
    row.wait_for()
    assert row.locator(".countdown").count() == 3
    assert re.fullmatch(r"in (59m \d\ds|1h 00m)", row.locator(".countdown").first.inner_text())  # the next run
    assert "<script>window.pwned = 1</script>" in row.inner_text()
    page.screenshot(path=str(tmp_path / "schedules.png"), full_page=True)

    row.get_by_role("button", name="Pause").click()
    page.locator('tr[data-schedule="hourly-echo"]', has_text="PAUSED").wait_for()
    with JobStore.open(database_url) as store:
        assert store.schedules.get("hourly-echo").paused is True
    page.locator('tr[data-schedule="hourly-echo"]').get_by_role("button", name="Resume").click()
    page.locator('tr[data-schedule="hourly-echo"]').get_by_role("button", name="Pause").wait_for()
    with JobStore.open(database_url) as store:
        assert store.schedules.get("hourly-echo").paused is False

    page.locator('tr[data-schedule="hourly-echo"]').get_by_role("button", name="Run now").click()
    page.wait_for_url("**/jobs/*")
    job_id = page.url.rsplit("/", 1)[1]
    with JobStore.open(database_url) as store:
        assert store.get(job_id).schedule == "hourly-echo"
    assert page.evaluate("window.pwned") is None and page.dialogs == []
    assert (tmp_path / "schedules.png").stat().st_size > 0


def test_the_api_docs_render_with_every_request_to_another_host_refused(server, browser_page, tmp_path):
    page = browser_page
    elsewhere, errors = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    def only_this_server(route):
        if route.request.url.startswith(server.base_url):
            return route.continue_()
        elsewhere.append(route.request.url)
        return route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.base_url + "/")
    page.get_by_role("link", name="API").click()
    page.wait_for_url("**/docs")
    page.locator(".swagger-ui .opblock-summary-path", has_text="/api/schedules/{name}/pause").wait_for()
    assert page.locator(".swagger-ui .opblock").count() >= 20
    assert "schedcli" in page.locator(".swagger-ui .info .title").inner_text()
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
    assert elsewhere == [] and errors == []
