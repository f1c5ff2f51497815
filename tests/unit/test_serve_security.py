"""`schedcli serve` without services: who may use it, how errors read, and that job data shows as text.

The app runs in-process (Starlette's TestClient); nothing here reaches RabbitMQ, whose URL names a
port where nothing listens, holding a password that must never be shown.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from helpers import free_port, record_job, run_schedcli
from schedcli.settings import resolve_settings
from schedcli.store import JobStore
from schedcli.web.app import create_app

PASSWORD = "s3cret-Passw0rd"
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> \x1b[2J'


@pytest.fixture
def settings(database_url, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", f"amqp://guest:{PASSWORD}@127.0.0.1:{free_port()}//")
    return resolve_settings()


def client(settings, **options) -> TestClient:
    return TestClient(create_app(settings, **options), base_url="http://127.0.0.1:8765")


def test_a_non_local_bind_without_a_token_refuses_to_start(database_url):
    result = run_schedcli("serve", "--host", "0.0.0.0", "--port", free_port(), timeout=20)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_imports_no_web_framework():
    result = run_schedcli("serve", "--help")
    assert result.returncode == 0 and "SCHEDCLI_API_TOKEN" in result.stdout
    import subprocess
    import sys

    code = ("import sys\nfrom schedcli.cli import cli\ntry:\n    cli.main(['--help'], prog_name='schedcli')\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'fastapi', 'uvicorn', 'starlette', 'jinja2', 'pydantic'}))\n")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip().splitlines()[-1] == "[]"


def test_with_a_token_the_api_wants_the_bearer_and_pages_want_the_login(settings):
    with client(settings, token="right") as web:
        assert web.get("/api/jobs").status_code == 401
        wrong = web.get("/api/jobs", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.json()["code"] == 77
        assert web.get("/api/jobs", headers={"Authorization": "Bearer right"}).status_code == 200
        assert web.get("/metrics").status_code == 401
        page = web.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert web.post("/login", data={"token": "wrong", "next": "/"}, follow_redirects=False).status_code == 401
        login = web.post("/login", data={"token": "right", "next": "//evil.example/"}, follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"  # never an open redirect
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "right" not in cookie.split(";")[0]  # the cookie holds an HMAC, not the token
        assert web.get("/").status_code == 200
        # The cookie alone does not let another page change anything: the CSRF token is needed too.
        refused = web.post("/api/jobs/x/cancel", json={})
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]


def test_browser_posts_need_the_csrf_token_and_cross_site_hosts_are_refused(settings):
    with client(settings) as web:
        forged = web.post("/api/jobs", json={"task": "schedcli.tasks.echo"}, headers={"Origin": "http://evil.example"})
        assert forged.status_code == 403
        csrf = web.app.state.context.access.csrf
        allowed = web.post("/api/jobs/00000000-0000-0000-0000-000000000000/cancel", json={},
                           headers={"Origin": "http://127.0.0.1:8765", "X-CSRF-Token": csrf})
        assert allowed.status_code == 404  # past the guard: the job does not exist
        rebound = web.get("/api/jobs", headers={"Host": "evil.example"})
        assert rebound.status_code == 421


def test_a_broker_that_is_down_is_503_and_its_password_never_shows(settings):
    with client(settings) as web:
        sent = web.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"})
        health = web.get("/api/health")
        page = web.get("/")
        metrics = web.get("/metrics")
    assert sent.status_code == 503 and sent.json()["code"] == 69
    assert "amqp://guest:***@" in sent.json()["error"]
    assert health.status_code == 503 and health.json()["ok"] is False
    assert "schedcli_rabbitmq_up 0" in metrics.text
    for response in (sent, health, page, metrics):
        assert PASSWORD not in response.text
    with JobStore.open(settings.database_url) as store:
        assert store.list_jobs() == []  # nothing recorded when RabbitMQ cannot be reached


def test_job_data_is_shown_as_text_on_the_pages(settings):
    with JobStore.open(settings.database_url) as store:
        job_id = record_job(store, state="FAILURE", created=time.time() - 60, args=[HOSTILE])
        waiting = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 3600, args=[HOSTILE])
    with client(settings) as web:
        pages = [web.get("/"), web.get(f"/jobs/{job_id}"), web.get(f"/jobs/{waiting}")]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "\x1b" not in page.text  # the escape is shown (as \u001b inside JSON), never sent
        assert "script-src 'self'" in page.headers["content-security-policy"]
    for page in pages[1:]:  # the job pages show the arguments whole (the list shortens them)
        assert "\\u001b[2J" in page.text


def test_a_streamed_body_past_the_limit_and_an_unexpected_failure_get_the_apps_answers(settings, monkeypatch):
    """POST /api/jobs is answered past FastAPI's routing (DirectRoutes): its errors must read as every route's."""
    def chunks():
        for _ in range(4):
            yield b"x" * 1024

    with client(settings, max_body_bytes=2048) as web:
        streamed = web.post("/api/jobs", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["code"] == 2
        assert "larger than the limit of 2,048 bytes" in streamed.json()["error"]

        from schedcli.web import api

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(api, "job_request", broken)
        failed = web.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"})
    assert failed.status_code == 500 and failed.json() == {
        "error": "unexpected RuntimeError (the server's log has the traceback)", "code": 70}
