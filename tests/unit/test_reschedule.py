"""`schedcli reschedule`: a new job at the new time replaces the old one, which never runs; the two
are linked; the key, queue and expiry window move along; nothing changes when it cannot be done."""

from __future__ import annotations

import time

import pytest

from helpers import free_port
from schedcli.store import JobStore
from helpers import record_job


def test_only_a_job_waiting_to_run_can_be_rescheduled(cli_runner, database_url):
    with JobStore.open(database_url) as store:
        done = record_job(store, state="SUCCESS", created=time.time())
    result = cli_runner("reschedule", done, "--in", "1h")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"Error: job {done} is SUCCESS; only a job waiting to run (scheduled, queued or "
                             "retrying) can be rescheduled\n")
    result = cli_runner("reschedule", "feedface-0000", "--in", "1h")
    assert (result.exit_code, result.stderr) == (3, "Error: unknown job feedface-0000\n")


@pytest.mark.parametrize("options, message", [
    ((), "give the new time with --in or --at"),
    (("--in", "1h", "--at", "tomorrow 9:00"), "use either --in or --at, not both"),
    (("--in", "tomorrow 9:00"), "--in"),
])
def test_the_new_time_is_required_and_checked(cli_runner, database_url, options, message):
    with JobStore.open(database_url) as store:
        job_id = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 60)
    result = cli_runner("reschedule", job_id, *options)
    assert result.exit_code == 2
    assert message in result.stderr
    with JobStore.open(database_url) as store:
        assert store.get(job_id).state == "SCHEDULED"


def test_when_rabbitmq_is_down_the_old_job_is_untouched(cli_runner, database_url, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", f"amqp://guest:guest@127.0.0.1:{free_port()}//")
    with JobStore.open(database_url) as store:
        job_id = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 60, key="k")
    result = cli_runner("reschedule", job_id, "--in", "1h")
    assert result.exit_code == 69
    assert "RabbitMQ" in result.stderr
    with JobStore.open(database_url) as store:
        job = store.get(job_id)
        assert (job.state, job.rescheduled_to, job.key) == ("SCHEDULED", None, "k")
        assert [listed.id for listed in store.list_jobs()] == [job_id]
