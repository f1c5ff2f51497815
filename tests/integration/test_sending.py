"""`publish`, `report run` and `call` end to end: real RabbitMQ, a real worker, the job store (issue 4)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import open_store, queue_counts, run_schedcli, wait_for_states

from schedcli.amqp.publisher import Publisher
from schedcli.exceptions import DatabaseError
from schedcli.jobs import sending
from schedcli.jobs.requests import JobRequest
from schedcli.jobs.sending import Dispatcher
from schedcli.settings import resolve_settings
from schedcli.store import JobStore

ECHO = "schedcli.tasks.echo"

pytestmark = pytest.mark.broker


def schedcli_ok(*args, input=None) -> str:
    result = run_schedcli(*args, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout


def job(job_id: str) -> dict:
    return json.loads(schedcli_ok("status", job_id, "--json"))


def test_publish_in_3s_is_scheduled_at_once_happens_after_3s_and_only_once(broker_url, database_url, start_worker):
    start_worker()
    article = schedcli_ok("article", "add", "Launch notes").strip()
    job_id = schedcli_ok("publish", article, "--in", "3s", "-q").strip()
    scheduled = job(job_id)
    assert scheduled["state"] == "SCHEDULED"
    assert json.loads(schedcli_ok("article", "list", "--json"))[0]["state"] == "scheduled"

    done = wait_for_states([job_id], {"SUCCESS"}, timeout=30)[job_id]
    assert done.started_at >= done.eta
    [published] = json.loads(schedcli_ok("article", "list", "--json"))
    assert published["state"] == "published"

    again = run_schedcli("publish", article, "--wait", "--json")
    assert again.returncode == 0, again.stderr
    record = json.loads(again.stdout.splitlines()[0])
    assert wait_for_states([record["id"]], {"SUCCESS"}, timeout=30)[record["id"]].result["published"] is False
    assert json.loads(schedcli_ok("article", "list", "--json"))[0]["published_at"] == published["published_at"]


def test_publish_of_a_missing_article_is_exit_3_and_sends_nothing(broker_url, database_url):
    result = run_schedcli("publish", "999", "--in", "1h")
    assert result.returncode == 3
    assert result.stderr.strip() == "Error: unknown article 999"
    assert json.loads(schedcli_ok("list", "--json")) == []


def test_report_run_wait_follows_the_job_to_its_files(broker_url, database_url, start_worker, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(tmp_path / "reports"))
    start_worker()
    result = run_schedcli("report", "run", "--period", "24h", "--wait")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout[result.stdout.index("{\n"):])
    assert sorted(Path(path).suffix for path in outcome["paths"]) == [".csv", ".html"]
    assert all(Path(path).parent == tmp_path / "reports" for path in outcome["paths"])
    [report_job] = json.loads(schedcli_ok("list", "--task", "schedcli.tasks.generate_report", "--json"))
    assert report_job["state"] == "SUCCESS"
    assert report_job["progress"]["current"] == report_job["progress"]["total"]


def test_call_drives_a_task_of_a_user_app_and_wait_shows_its_result(broker_url, database_url, start_worker):
    start_worker(app_args=("--app", "hookproj:app"))
    result = run_schedcli("--app", "hookproj:app", "call", "hookproj.add", "2", "3", "--wait")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("5")

    failed = run_schedcli("--app", "hookproj:app", "call", "hookproj.boom", '"no luck"', "--wait", "-q")
    assert failed.returncode == 1
    assert "FAILURE" in failed.stderr and "no luck" in failed.stderr and "Traceback" in failed.stderr


def test_call_of_a_task_the_user_app_does_not_have_names_the_closest(broker_url, database_url):
    result = run_schedcli("--app", "hookproj:app", "call", "hookproj.ad", "1")
    assert result.returncode == 2
    assert "unknown task 'hookproj.ad'; did you mean hookproj.add" in result.stderr


def test_a_key_sends_once_while_its_job_waits(broker_url, database_url):
    first = schedcli_ok("call", "schedcli.tasks.echo", "1", "--in", "1h", "--key", "nightly", "-q").strip()
    again = run_schedcli("call", "schedcli.tasks.echo", "2", "--in", "2h", "--key", "nightly")
    assert again.returncode == 0
    assert "Already exists (same key)" in again.stdout and first in again.stdout
    assert [record["id"] for record in json.loads(schedcli_ok("list", "--json"))] == [first]


def test_from_file_sends_the_good_lines_in_order_and_reports_the_bad_one(broker_url, database_url):
    lines = '{"args": [1], "in": "1h"}\n{"args": oops}\n{"args": [3], "at": "tomorrow 12:00"}\n{"in": "yesterday"}\n'
    result = run_schedcli("call", "schedcli.tasks.echo", "--from-file", "-", "-q", input=lines)
    assert result.returncode == 1
    ids = result.stdout.split()
    assert len(ids) == 2
    assert [line.split(":")[0] for line in result.stderr.strip().splitlines()] == ["line 2", "line 4"]
    with open_store() as jobs:
        assert [jobs.get(job_id).args for job_id in ids] == [[1], [3]]
        assert {jobs.get(job_id).state for job_id in ids} == {"SCHEDULED"}


def test_a_job_sent_while_no_worker_runs_is_delivered_once_one_starts(broker_url, database_url, start_worker):
    job_id = schedcli_ok("call", "schedcli.tasks.echo", "early", "-q").strip()
    assert job(job_id)["state"] == "QUEUED"
    time.sleep(0.5)
    start_worker()
    assert wait_for_states([job_id], {"SUCCESS"}, timeout=30)[job_id].result == {"args": ["early"], "kwargs": {}}


def failing_on_call(original, number: int, failure):
    """`original` (a method), except that its call number `number` runs `failure(self, *args)` instead."""
    calls = []

    def replacement(self, *args):
        calls.append(args)
        if len(calls) == number:
            return failure(self, *args)
        return original(self, *args)

    return replacement


def send_echo_jobs(count: int, batch: int, monkeypatch, eta: float | None = None, keyed: bool = False):
    """Send `count` echo jobs (args [n], key kN when `keyed`) through the dispatcher, `batch` jobs a batch."""
    monkeypatch.setattr(sending, "BATCH", batch)
    requests = [JobRequest(ECHO, [n], eta=eta, key=f"k{n}" if keyed else None) for n in range(count)]
    return Dispatcher(resolve_settings()).send(requests)


def test_a_store_failing_mid_send_stops_it_with_every_sent_job_recorded(broker_url, database_url, monkeypatch):
    def disk_error(self, jobs, now, *_):
        raise DatabaseError("job store: cannot write: disk I/O error")

    monkeypatch.setattr(JobStore, "record_sending", failing_on_call(JobStore.record_sending, 3, disk_error))
    with pytest.raises(DatabaseError):
        send_echo_jobs(45, 10, monkeypatch, eta=time.time() + 3600)
    with open_store() as jobs:
        recorded = jobs.list_jobs(limit=100)
    assert sorted(job.args[0] for job in recorded) == list(range(20))  # the two batches before the failure
    assert {job.state for job in recorded} == {"SCHEDULED"}
    deadline = time.monotonic() + 60  # RabbitMQ's queue counts lag by seconds, more under a full suite
    while (counts := queue_counts(broker_url).get("celery_delayed_11")) != (20, 0) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert counts == (20, 0)  # and nothing beyond them was published


def test_a_store_failing_after_rabbitmq_confirmed_says_how_many_jobs_will_run(broker_url, database_url,
                                                                              monkeypatch):
    def locked(self, ids, now):
        raise DatabaseError("job store: cannot write: database is locked")

    monkeypatch.setattr(JobStore, "mark_sent", locked)
    with pytest.raises(DatabaseError) as caught:
        send_echo_jobs(3, sending.BATCH, monkeypatch)
    assert str(caught.value) == ("job store: cannot write: database is locked; RabbitMQ had confirmed 3 job(s) "
                                 "the store could not mark as sent: they will run, and show as SENDING until a "
                                 "worker starts them")
    with open_store() as jobs:
        assert [job.state for job in jobs.list_jobs(limit=10)] == ["SENDING"] * 3


def test_a_send_interrupted_mid_batch_leaves_no_job_sending(broker_url, database_url, monkeypatch):
    publish = Publisher.publish

    def ctrl_c(self, messages, now):
        publish(self, messages[:4], now)  # some of it went out before Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(Publisher, "publish", failing_on_call(publish, 2, ctrl_c))
    with pytest.raises(KeyboardInterrupt):
        send_echo_jobs(35, 10, monkeypatch, keyed=True)
    with open_store() as jobs:
        states = {job.args[0]: job.state for job in jobs.list_jobs(limit=100)}
    # The first batch was sent; the second may have reached RabbitMQ in part, so workers skip it; the
    # third, recorded ahead, is forgotten: sending the same keys again sends all but the first ten.
    assert states == {**{n: "QUEUED" for n in range(10)}, **{n: "CANCELLED" for n in range(10, 20)}}
