"""`schedcli status`: one job as the real worker recorded it, over the real RabbitMQ; ids and prefixes;
jobs run by a plain `celery worker`, read from their app's result backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from schedcli.cli.rendering import local_time
from schedcli.store import JobStore
from helpers import wait_for_state

HOOKPROJ = ("--app", "hookproj:app")
HOSTILE = "no [red]x[/red] \x1b[2J"


def send(cli_runner, *args, app=HOOKPROJ) -> str:
    result = cli_runner(*app, "call", *args, "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def status_lines(cli_runner, job_id, expected_exit: int) -> list[str]:
    result = cli_runner("status", job_id)
    assert result.exit_code == expected_exit, result.output
    return result.stdout.splitlines()


def status_fields(cli_runner, job_id, expected_exit: int) -> dict[str, str]:
    """The `label  value` lines of the plain view, by label."""
    lines = status_lines(cli_runner, job_id, expected_exit)
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in lines if re.match(r"[a-z ]+\s{2,}\S", line))


@pytest.mark.broker
def test_a_succeeded_job_shows_its_result_and_exits_0(cli_runner, start_worker, database_url):
    start_worker(app_args=HOOKPROJ)
    job_id = send(cli_runner, "hookproj.add", "2", "3")
    job = wait_for_state(database_url, job_id, "SUCCESS")
    lines = status_lines(cli_runner, job_id, 0)
    assert lines[:3] == [f"id        {job_id}", "state     SUCCESS", "call      hookproj.add(2, 3)"]
    assert f"worker    {job.worker}" in lines
    assert lines[-2:] == ["result:", "5"]
    result = cli_runner("status", job_id, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {**job.to_json(), "source": "store"}


@pytest.mark.broker
def test_a_failed_job_shows_its_error_and_traceback_literally_and_exits_1(cli_runner, start_worker,
                                                                         database_url):
    start_worker(app_args=HOOKPROJ)
    job_id = send(cli_runner, "hookproj.boom", HOSTILE)
    wait_for_state(database_url, job_id, "FAILURE")
    result = cli_runner("status", job_id)
    assert result.exit_code == 1
    out = result.stdout
    assert "\x1b" not in out
    assert 'call      hookproj.boom("no [red]x[/red] \\u001b[2J")\n' in out
    assert "error     ValueError: no [red]x[/red] \\x1b[2J\n" in out
    traceback = out.split("traceback:\n", 1)[1]
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert "    raise ValueError(message)\n" in traceback
    assert traceback.endswith("ValueError: no [red]x[/red] \\x1b[2J\n")


@pytest.mark.broker
def test_a_retrying_job_shows_its_next_try_and_last_error(cli_runner, start_worker, database_url, tmp_path):
    worker = start_worker(app_args=HOOKPROJ)
    job_id = send(cli_runner, "hookproj.flaky", str(tmp_path / "marker"))
    wait_for_state(database_url, job_id, "RETRY")
    worker.kill()  # the retry waits in RabbitMQ, so the job stays in RETRY while we look
    fields = status_fields(cli_runner, job_id, 0)
    assert fields["state"] == "RETRY"
    assert fields["retries"].startswith("1, next try ")
    assert fields["error"] == "OSError: not yet"
    start_worker(app_args=HOOKPROJ)
    wait_for_state(database_url, job_id, "SUCCESS")
    assert status_fields(cli_runner, job_id, 0)["retries"] == "1"
    assert status_lines(cli_runner, job_id, 0)[-2:] == ["result:", '"second time lucky"']


@pytest.mark.broker
def test_a_running_job_shows_its_progress_and_watch_follows_it_to_the_end(start_worker, database_url, tmp_path,
                                                                          cli_runner):
    start_worker(app_args=HOOKPROJ)
    release = tmp_path / "release"
    job_id = send(cli_runner, "hookproj.steps", str(release))
    wait_for_state(database_url, job_id, "PROGRESS")
    fields = status_fields(cli_runner, job_id, 0)
    assert fields["state"] == "PROGRESS"
    assert fields["progress"] == "1/2 (50%) waiting for release"
    assert fields["runtime"].endswith(" so far")
    watcher = subprocess.Popen([sys.executable, "-m", "schedcli", "status", job_id[:8], "--watch"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the watcher is following a running job
        assert watcher.poll() is None
        release.touch()
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert "state     SUCCESS\n" in out
    assert out.endswith('result:\n"released"\n')
    assert out.count("state ") == 1  # only the final view when stdout is not a terminal


@pytest.mark.broker
def test_an_expired_job_shows_it_and_exits_1(cli_runner, start_worker, database_url, tmp_path):
    marker = tmp_path / "expired"
    job_id = send(cli_runner, "hookproj.touch", str(marker), "--expires", "1s")
    with JobStore.open(database_url) as store:
        expires = store.get(job_id).expires
    time.sleep(max(0.0, expires - time.time()) + 0.2)  # no worker runs until the job has expired
    start_worker(app_args=HOOKPROJ)
    job = wait_for_state(database_url, job_id, "EXPIRED")
    fields = status_fields(cli_runner, job_id, 1)
    assert fields["state"] == "EXPIRED"
    assert (fields["expires"], fields["expired"]) == (local_time(expires, "UTC"), local_time(job.finished_at, "UTC"))
    assert "started" not in fields
    assert not marker.exists()


@pytest.mark.broker
def test_watch_exits_with_the_code_of_how_the_job_ended(cli_runner, start_worker):
    start_worker(app_args=HOOKPROJ)
    job_id = send(cli_runner, "hookproj.boom", "late", "--in", "1s")
    result = cli_runner("status", job_id, "--watch", "--json")
    assert result.exit_code == 1
    job = json.loads(result.stdout)
    assert (job["state"], job["error"]["message"], job["source"]) == ("FAILURE", "late", "store")


RESULTPROJ = '''
import os

from celery import Celery

app = Celery("resultproj", broker=os.environ.get("SCHEDCLI_BROKER_URL"), backend=os.environ["RESULTPROJ_BACKEND"])
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                task_default_queue="resultproj")


@app.task(name="resultproj.add")
def add(x, y):
    return x + y


@app.task(name="resultproj.boom")
def boom(message):
    raise ValueError(message)
'''


@pytest.fixture
def plain_celery_worker(broker_url, database_url, tmp_path):
    """Start `celery -A MODULE worker`: a worker schedcli did not start, so it reports nothing to the store."""
    processes = []

    def start(module: str) -> None:
        log = open(tmp_path / f"celery-{len(processes)}.log", "w")
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", module, "worker", "--pool", "solo", "--loglevel", "info",
             "--hostname", f"plain-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    yield start
    for process in processes:
        process.terminate()
        process.wait(30)


def wait_for_status(cli_runner, job_id: str, source: str, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = json.loads(cli_runner("status", job_id, "--json").stdout)
        if (view["source"], view["state"]) == (source, state):
            return view
        if time.monotonic() > deadline:
            raise AssertionError(f"status of {job_id} is {view['state']} from {view['source']}, not {state}")
        time.sleep(0.2)


@pytest.mark.broker
def test_a_job_run_by_a_plain_celery_worker_is_read_from_its_result_backend(
        cli_runner, plain_celery_worker, tmp_path, monkeypatch):
    apps, results = tmp_path / "apps", tmp_path / "results"
    apps.mkdir()
    results.mkdir()
    (apps / "resultproj.py").write_text(RESULTPROJ)
    monkeypatch.setenv("PYTHONPATH", f"{apps}:{os.environ['PYTHONPATH']}")
    monkeypatch.syspath_prepend(str(apps))
    monkeypatch.delitem(sys.modules, "resultproj", raising=False)
    monkeypatch.setenv("RESULTPROJ_BACKEND", f"file://{results}")
    app = ("--app", "resultproj:app")
    added = send(cli_runner, "resultproj.add", "2", "3", app=app)
    failed = send(cli_runner, "resultproj.boom", HOSTILE, app=app)
    plain_celery_worker("resultproj")

    view = wait_for_status(cli_runner, added, "celery-result-backend", "SUCCESS")
    assert view["result"] == 5 and view["finished_at"] is not None
    with JobStore.open(os.environ["SCHEDCLI_DATABASE_URL"]) as store:
        assert store.get(added).state == "QUEUED"  # the store itself never heard of the run
    lines = status_lines(cli_runner, added, 0)
    assert "source    state from resultproj:app's Celery result backend" in lines
    assert lines[-2:] == ["result:", "5"]

    view = wait_for_status(cli_runner, failed, "celery-result-backend", "FAILURE")
    assert view["error"]["type"] == "ValueError" and view["error"]["message"] == HOSTILE
    result = cli_runner("status", failed)
    assert result.exit_code == 1
    assert "error     ValueError: no [red]x[/red] \\x1b[2J\n" in result.stdout
    assert "traceback:\nTraceback (most recent call last):\n" in result.stdout


@pytest.mark.broker
def test_a_job_run_by_a_plain_celery_worker_without_result_backend_is_unknown(cli_runner, plain_celery_worker,
                                                                             tmp_path):
    marker = tmp_path / "ran"
    job_id = send(cli_runner, "hookproj.touch", str(marker))
    plain_celery_worker("hookproj")
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the plain worker did not run the job"
        time.sleep(0.1)
    view = json.loads(cli_runner("status", job_id, "--json").stdout)
    assert (view["state"], view["source"]) == ("QUEUED", "unknown")
    lines = status_lines(cli_runner, job_id, 0)
    assert ("source  state unknown to schedcli: hookproj:app's workers do not report to schedcli and it has no "
            "result backend; start them with `schedcli --app hookproj:app worker start`") in lines
