"""`/api/schedules` without services: reading, pausing, bad input and a broker that is down (Starlette's TestClient).

RabbitMQ's URL names a port where nothing listens, so anything that would send fails with 503 and
these tests see that nothing was stored. Sending for real is in tests/integration/test_serve_api.py.
"""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from helpers import free_port
from schedcli.settings import resolve_settings
from schedcli.store import JobStore, Schedule
from schedcli.web.app import create_app


@pytest.fixture
def settings(database_url, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", f"amqp://guest:guest@127.0.0.1:{free_port()}//")
    return resolve_settings()


@pytest.fixture
def web(settings):
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8765") as client:
        yield client


def stored_schedule(settings, name="weekly-report", every="every monday 9am", **fields) -> Schedule:
    values = dict(name=name, recurrence=every, timezone="Europe/Berlin", task="schedcli.tasks.echo", args=["x"],
                  kwargs={"n": 1}, queue=None, expires_after=None, catch_up="last", overlap="allow",
                  start_at=int(time.time()), until_at=None)
    values.update(fields)
    with JobStore.open(settings.database_url) as store:
        schedule, _ = store.schedules.add(Schedule(**values), replace=False, now=time.time())
    return schedule


def stored_names(settings) -> list[str]:
    with JobStore.open(settings.database_url) as store:
        return [schedule.name for schedule in store.schedules.all()]


def test_the_list_and_one_schedule_are_the_clis_json(settings, web, cli_runner):
    stored_schedule(settings)
    listed = web.get("/api/schedules")
    assert listed.status_code == 200
    assert listed.json() == json.loads(cli_runner("schedule", "list", "--json").stdout)
    [row] = listed.json()
    assert row["name"] == "weekly-report" and row["paused"] is False and len(row["next"]) == 1
    shown = web.get("/api/schedules/weekly-report")
    assert shown.json() == json.loads(cli_runner("schedule", "show", "weekly-report", "--json").stdout)
    assert len(shown.json()["next"]) == 5 and shown.json()["sent_ahead"] == []
    assert len(web.get("/api/schedules/weekly-report", params={"count": 2}).json()["next"]) == 2


def test_pause_answers_the_paused_schedule_and_remove_deletes_it(settings, web):
    stored_schedule(settings)
    paused = web.post("/api/schedules/weekly-report/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True and paused.json()["next"] == [] and paused.json()["cancelled"] == 0
    assert web.get("/api/schedules").json()[0]["paused"] is True
    removed = web.delete("/api/schedules/weekly-report")
    assert removed.json() == {"name": "weekly-report", "removed": True, "cancelled": 0}
    assert stored_names(settings) == []


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/schedules/nope"), ("DELETE", "/api/schedules/nope"), ("POST", "/api/schedules/nope/pause"),
    ("POST", "/api/schedules/nope/resume"), ("POST", "/api/schedules/nope/run")])
def test_an_unknown_schedule_is_404_with_the_clis_message(web, method, path):
    response = web.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"error": "unknown schedule 'nope'; `schedcli schedule list` shows them", "code": 3}


@pytest.mark.parametrize("body, message", [
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "every blue moon"}, "every blue moon"),
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "99 * * * *"}, "99"),
    ({"name": "r", "task": "schedcli.tasks.ech", "every": "15m"}, "did you mean schedcli.tasks.echo"),
    ({"name": "bad name!", "task": "schedcli.tasks.echo", "every": "15m"}, "bad schedule name"),
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "15m", "catch_up": "some"}, "--catch-up"),
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "15m", "args": "x"}, "args must be a JSON array"),
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "15m", "start": "whenever"}, "whenever"),
    ({"name": "r", "task": "schedcli.tasks.echo"}, '"every" is required'),
    ({"name": "r", "task": "schedcli.tasks.echo", "every": "15m", "often": True}, "unknown field(s) often"),
])
def test_bad_input_is_400_and_nothing_is_stored(settings, web, body, message):
    response = web.post("/api/schedules", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 2 and message in response.json()["error"]
    assert stored_names(settings) == []


def test_a_bad_expression_is_the_message_schedule_add_prints(web, cli_runner):
    response = web.post("/api/schedules", json={"name": "r", "task": "schedcli.tasks.echo", "every": "blue moon"})
    result = cli_runner("schedule", "add", "r", "schedcli.tasks.echo", "--every", "blue moon")
    assert result.exit_code == 2 == response.json()["code"]
    assert response.json()["error"] in result.stderr


def test_a_new_schedule_is_not_kept_when_rabbitmq_is_down(settings, web):
    response = web.post("/api/schedules", json={"name": "r", "task": "schedcli.tasks.echo", "every": "15m"})
    assert response.status_code == 503 and response.json()["code"] == 69
    assert stored_names(settings) == []
    stored_schedule(settings)
    run = web.post("/api/schedules/weekly-report/run")
    assert run.status_code == 503 and run.json()["code"] == 69
    with JobStore.open(settings.database_url) as store:
        assert store.list_jobs() == []


def test_schedule_changes_from_a_browser_need_the_csrf_token(settings, web):
    stored_schedule(settings)
    forged = web.post("/api/schedules/weekly-report/pause", headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and forged.json()["code"] == 77
    forged_delete = web.delete("/api/schedules/weekly-report", headers={"Sec-Fetch-Site": "cross-site"})
    assert forged_delete.status_code == 403
    assert stored_names(settings) == ["weekly-report"]
    allowed = web.post("/api/schedules/weekly-report/pause", headers={
        "Origin": "http://127.0.0.1:8765", "X-CSRF-Token": web.app.state.context.access.csrf})
    assert allowed.status_code == 200 and allowed.json()["paused"] is True


def test_with_a_token_the_schedules_need_the_bearer(settings):
    stored_schedule(settings)
    with TestClient(create_app(settings, token="right"), base_url="http://127.0.0.1:8765") as web:
        assert web.get("/api/schedules").status_code == 401
        assert web.post("/api/schedules/weekly-report/pause").status_code == 401
        assert web.get("/api/schedules", headers={"Authorization": "Bearer right"}).status_code == 200


HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> \x1b[2J'


def test_the_schedules_page_shows_next_runs_and_buttons_and_data_as_text(settings, web):
    stored_schedule(settings, args=[HOSTILE])
    stored_schedule(settings, name="nightly", every="every day at 3:00", paused=True)
    page = web.get("/schedules")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<a href="/schedules">Schedules</a>' in page.text  # in the nav
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "\x1b" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    weekly = page.text.split('data-schedule="weekly-report"')[1].split("</tr>")[0]
    assert weekly.count('class="countdown"') == 3  # its next three runs, with countdowns
    assert 'data-schedule-action="pause"' in weekly and 'data-schedule-action="run"' in weekly
    nightly = page.text.split('data-schedule="nightly"')[1].split("</tr>")[0]
    assert "PAUSED" in nightly and 'data-schedule-action="resume"' in nightly and "countdown" not in nightly
    assert f'<meta name="csrf-token" content="{web.app.state.context.access.csrf}">' in page.text
    assert 'href="/schedules"' in web.get("/").text
