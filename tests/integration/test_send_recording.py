"""Jobs sent by plain Celery appear in the store when sent: listed, cancellable and reschedulable at once.

Real RabbitMQ, no worker: nothing but the sending process can have recorded them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import run_schedcli

pytestmark = pytest.mark.broker

CELERY = str(Path(sys.executable).with_name("celery"))


def send_from_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process, as a user's program that sends with Celery would."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def delay_topology(broker_url):
    """Celery's delay levels, as the first worker would declare them: plain Celery needs them to send later."""
    from schedcli.amqp.publisher import Publisher
    from schedcli.amqp.routes import bundled_route
    from schedcli.settings import resolve_settings

    with Publisher(resolve_settings()) as publisher:
        publisher.ensure_topology(bundled_route())


def scheduled() -> list[dict]:
    result = run_schedcli("list", "--scheduled", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_celery_call_with_a_countdown_is_listed_at_once_with_its_queue_and_can_be_cancelled(delay_topology,
                                                                                             database_url):
    before = time.time()
    sent = subprocess.run([CELERY, "-A", "schedcli.app", "call", "schedcli.tasks.echo", "--args", "[5]",
                           "--countdown", "3600"], capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.strip()
    [job] = scheduled()
    assert (job["id"], job["task"], job["args"], job["queue"], job["app"], job["state"]) == (
        job_id, "schedcli.tasks.echo", [5], "schedcli", "schedcli.app", "SCHEDULED")
    assert before + 3590 < _epoch(job["eta"]) < time.time() + 3610
    assert before - 1 <= _epoch(job["created_at"]) <= time.time()
    cancelled = run_schedcli("cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert scheduled() == []


def test_a_user_apps_apply_async_is_recorded_when_sent_and_can_be_rescheduled(delay_topology, database_url):
    sent = send_from_python("import installedproj; print(installedproj.add.apply_async((2, 3), countdown=600).id)")
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.strip()
    [job] = scheduled()
    assert (job["id"], job["task"], job["args"], job["queue"], job["app"]) == (
        job_id, "installedproj.add", [2, 3], "installedproj", "installedproj")
    moved = run_schedcli("reschedule", job_id, "--in", "2h", "--json")
    assert moved.returncode == 0, moved.stderr
    [new] = scheduled()
    assert new["id"] == json.loads(moved.stdout)["id"] and new["rescheduled_from"] == job_id


def test_a_store_that_cannot_be_written_never_stops_the_users_send(broker_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    sent = send_from_python("import installedproj; print(installedproj.add.delay(1, 1).id)",
                            env={"SCHEDCLI_DATABASE_URL": f"sqlite:///{blocker}/jobs.db"})
    assert sent.returncode == 0, sent.stderr
    assert len(sent.stdout.strip()) == 36  # the job id: the send went through
    assert "schedcli: could not record job" in sent.stderr and "a schedcli worker records it" in sent.stderr


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
