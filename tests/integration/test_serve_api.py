"""`schedcli serve`'s API against a real server process, the real RabbitMQ and real workers."""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx2
import pytest

from helpers import queue_counts, run_schedcli, wait_for_state
from serve_process import ServerProcess

pytestmark = pytest.mark.broker


@pytest.fixture
def server(broker_url, database_url, tmp_path):
    started = []

    def start(*extra: str, token: str | None = None):
        process = ServerProcess(tmp_path / f"serve{len(started)}.log", *extra, token=token,
                                env={"SCHEDCLI_API_TOKEN": token} if token else None)
        started.append(process)
        return process.wait_ready()

    yield start
    for process in started:
        process.stop()


def events_until_end(client: httpx2.Client, job_id: str, timeout: float = 30) -> list[dict]:
    """The `job` events of the job's stream, read until its `end` event."""
    seen, event = [], None
    with client.stream("GET", f"/api/jobs/{job_id}/events", timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event == "job":
                seen.append(json.loads(line[len("data: "):]))
            elif line.startswith("data: ") and event == "end":
                return seen
    raise AssertionError(f"the stream ended without an end event; saw {seen}")


@pytest.mark.slow
def test_a_job_posted_in_2s_runs_and_its_event_stream_shows_success(server, start_worker):
    start_worker()
    api = server().client
    response = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "args": ["hi"], "kwargs": {"n": 1},
                                           "in": "2s"})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["state"] == "SCHEDULED" and job["source"] == "store"
    events = events_until_end(api, job["id"])
    states = [event["state"] for event in events]
    assert states[0] == "SCHEDULED"
    assert states[-1] == "SUCCESS"
    assert events[-1]["result"] == {"args": ["hi"], "kwargs": {"n": 1}}
    assert api.get(f"/api/jobs/{job['id'][:8]}").json()["state"] == "SUCCESS"  # a prefix reads it too


def test_a_bad_time_is_400_with_the_clis_message_and_nothing_is_sent(server, broker_url):
    api = server().client
    response = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "tomorrowish"})
    cli = run_schedcli("call", "schedcli.tasks.echo", "--in", "tomorrowish")
    assert response.status_code == 400
    assert response.json()["code"] == 2 == cli.returncode
    assert response.json()["error"] in cli.stderr
    assert api.get("/api/jobs").json() == []
    assert all(ready == 0 for ready, _ in queue_counts(broker_url).values())


def test_bad_requests_are_400_and_unknown_jobs_404(server):
    api = server().client
    assert api.post("/api/jobs", content=b"{not json").status_code == 400
    unknown_field = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "when": "1h"})
    assert unknown_field.status_code == 400 and "when" in unknown_field.json()["error"]
    both = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h", "at": "tomorrow 12:00"})
    assert both.json() == {"error": 'give either "in" or "at", not both', "code": 2}
    typo = api.post("/api/jobs", json={"task": "schedcli.tasks.ech"})
    assert typo.status_code == 400 and "did you mean schedcli.tasks.echo" in typo.json()["error"]
    missing = api.get("/api/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == 3
    assert api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "args": "x" * (3 << 20)}).status_code == 413


def test_a_held_key_returns_the_same_job(server):
    api = server().client
    body = {"task": "schedcli.tasks.echo", "args": [1], "in": "1h", "key": "report-42"}
    first = api.post("/api/jobs", json=body)
    again = api.post("/api/jobs", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(api.get("/api/jobs", params={"scheduled": "true"}).json()) == 1


def test_at_is_read_in_the_zone_given_as_the_cli_reads_it(server):
    api = server().client
    posted = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "at": "tomorrow 12:00",
                                         "tz": "Europe/Berlin"}).json()
    when = api.get("/api/when", params={"expr": "tomorrow 12:00", "tz": "Europe/Berlin"}).json()
    cli = json.loads(run_schedcli("--tz", "Europe/Berlin", "when", "tomorrow 12:00", "--json").stdout)
    assert when == cli
    assert datetime.fromisoformat(posted["eta"]) == datetime.fromisoformat(when["eta"])


@pytest.mark.slow
def test_cancel_and_reschedule_hold_across_a_worker_restart(server, start_worker, database_url):
    worker = start_worker()
    api = server().client
    cancelled = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "args": ["never"], "in": "2s"}).json()
    moved = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "args": ["later"], "in": "2s"}).json()
    outcome = api.post(f"/api/jobs/{cancelled['id']}/cancel")
    assert outcome.status_code == 200 and outcome.json()["cancelled"] is True
    again = api.post(f"/api/jobs/{cancelled['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == 1
    new = api.post(f"/api/jobs/{moved['id']}/reschedule", json={"in": "5s"})
    assert new.status_code == 200, new.text
    new = new.json()
    assert new["rescheduled_from"] == moved["id"] and new["state"] == "SCHEDULED"

    worker.stop()
    start_worker()
    wait_for_state(database_url, new["id"], "SUCCESS", timeout=40)
    for old in (cancelled, moved):
        job = api.get(f"/api/jobs/{old['id']}").json()
        assert job["state"] == "CANCELLED" and job["started_at"] is None
    assert api.get(f"/api/jobs/{moved['id']}").json()["rescheduled_to"] == new["id"]


def test_a_wrong_token_is_401_and_the_right_one_works(server):
    process = server("--host", "127.0.0.1", token="right-token")
    anonymous = httpx2.get(f"{process.base_url}/api/jobs")
    wrong = httpx2.get(f"{process.base_url}/api/jobs", headers={"Authorization": "Bearer wrong-token"})
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert wrong.json()["code"] == 77 and "token" in wrong.json()["error"]
    assert process.client.get("/api/jobs").status_code == 200
    posted = process.client.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"})
    assert posted.status_code == 201


def test_health_metrics_workers_and_reports(server, start_worker):
    start_worker()
    api = server().client
    health = api.get("/api/health")
    assert health.status_code == 200 and health.json()["ok"] is True
    assert "***" in health.text and "guest:guest" not in health.text
    assert api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"}).status_code == 201
    deadline = time.monotonic() + 20
    while not api.get("/api/workers").json() and time.monotonic() < deadline:
        time.sleep(0.2)
    [worker] = api.get("/api/workers").json()
    assert worker["concurrency"] == 2
    metrics = api.get("/metrics").text
    assert 'schedcli_jobs{state="SCHEDULED",task="schedcli.tasks.echo"} 1' in metrics
    assert "schedcli_sends_confirmed_total 1" in metrics
    assert "schedcli_rabbitmq_up 1" in metrics
    assert sum(int(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("schedcli_delay_level_messages{")) == 1
    report = api.post("/api/reports", json={"period": "24h", "format": "html"})
    assert report.status_code == 201 and report.json()["args"] == ["24h", "html"]
    assert api.post("/api/reports", json={"period": "soon"}).status_code == 400
    article = api.post("/api/articles", json={"title": "Launch <b>day</b>"}).json()
    published = api.post(f"/api/articles/{article['id']}/publish", json={"in": "1h"})
    assert published.status_code == 201 and published.json()["args"] == [article["id"]]
    assert api.post("/api/articles/9999/publish", json={}).status_code == 404


@pytest.mark.slow
def test_schedules_over_the_api_run_pause_resume_run_now_and_go(server, start_worker, broker_url, database_url):
    api = server().client
    bad = api.post("/api/schedules", json={"name": "pulse", "task": "schedcli.tasks.echo", "every": "blue moon"})
    assert bad.status_code == 400 and bad.json()["code"] == 2
    assert api.get("/api/schedules").json() == []
    assert all(ready == 0 for ready, _ in queue_counts(broker_url).values())  # nothing sent

    start_worker()
    added = api.post("/api/schedules", json={"name": "pulse", "task": "schedcli.tasks.echo", "args": ["beat"],
                                             "every": "2s", "until": "in 9s"})
    assert added.status_code == 201, added.text
    assert added.json()["recurrence"] == "every 2s" and added.json()["next"]
    assert api.post("/api/schedules", json={"name": "pulse", "task": "schedcli.tasks.echo",
                                            "every": "2s"}).status_code == 400  # taken, no "replace"
    deadline = time.monotonic() + 30
    while (api.get("/api/schedules/pulse").json()["last_run"] or {}).get("state") != "SUCCESS":
        assert time.monotonic() < deadline, api.get("/api/schedules/pulse").text
        time.sleep(0.2)

    paused = api.post("/api/schedules/pulse/pause")
    assert paused.status_code == 200 and paused.json()["paused"] is True
    assert api.get("/api/schedules/pulse").json()["sent_ahead"] == []
    run = api.post("/api/schedules/pulse/run")
    assert run.status_code == 201, run.text
    assert run.json()["schedule"] == "pulse" and run.json()["args"] == ["beat"]
    assert wait_for_state(database_url, run.json()["id"], "SUCCESS", timeout=20).schedule == "pulse"
    resumed = api.post("/api/schedules/pulse/resume")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False

    removed = api.delete("/api/schedules/pulse")
    assert removed.status_code == 200 and removed.json()["removed"] is True
    assert api.get("/api/schedules/pulse").status_code == 404


def sending_processes(server_pid: int) -> list[int]:
    """The live children of the server process (its sending process), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def test_a_killed_sending_process_fails_what_it_held_and_the_next_request_starts_another(server):
    process = server()
    api = process.client
    assert api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"}).status_code == 201
    [sender] = sending_processes(process.process.pid)

    # Stopped, it holds the next request; killed, it never answers it: that request is 503, not left waiting.
    os.kill(sender, signal.SIGSTOP)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(api.post, "/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"})
        time.sleep(0.5)
        assert not held.done()
        os.kill(sender, signal.SIGKILL)
        answer = held.result(timeout=10)
    assert answer.status_code == 503 and answer.json()["code"] == 69
    assert "sending process ended" in answer.json()["error"]

    posted = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "args": ["after"], "in": "1h"})
    assert posted.status_code == 201, posted.text
    [again] = sending_processes(process.process.pid)
    assert again != sender
    assert api.get(f"/api/jobs/{posted.json()['id']}").json()["state"] == "SCHEDULED"
    process.stop()
    assert wait_until_ended(again), "the sending process outlived the server"


def wait_until_ended(pid: int, timeout: float = 10) -> bool:
    """Whether process `pid` ended (gone, or a zombie waiting for its parent) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def test_the_sending_process_ends_when_the_server_is_killed(server):
    process = server()
    [sender] = sending_processes(process.process.pid)
    process.process.kill()
    assert wait_until_ended(sender), "the sending process outlived a killed server"


def test_sigterm_ends_open_event_streams_and_the_server_exits(server):
    """A dashboard left open on a job that is far from done must not keep the server from stopping."""
    process = server()
    api = process.client
    job = api.post("/api/jobs", json={"task": "schedcli.tasks.echo", "in": "1h"}).json()
    with api.stream("GET", f"/api/jobs/{job['id']}/events", timeout=10) as response:
        lines = response.iter_lines()
        assert next(lines) == "event: job"
        process.process.send_signal(signal.SIGTERM)
        rest = list(lines)  # until the server closes the stream
    assert "event: end" not in rest  # the job did not end: the stream did, and EventSource reconnects
    assert process.process.wait(10) == -signal.SIGTERM  # uvicorn ends by the signal it was stopped with


def test_a_port_in_use_is_a_one_line_error(server):
    taken = server().port
    result = run_schedcli("serve", "--port", str(taken))
    assert result.returncode == 71
    assert result.stderr == (f"Error: cannot listen on 127.0.0.1:{taken}: Address already in use; give a free "
                             "--port, or stop what holds that one\n")
