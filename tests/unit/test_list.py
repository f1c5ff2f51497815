"""`schedcli list`: waiting jobs soonest due first, then the others newest first; filters; JSON; bad input."""

from __future__ import annotations

import json
import time

import pytest
from helpers import listed, record_job

from schedcli.store import JobStore


@pytest.fixture
def jobs(database_url):
    """Five jobs in several states, by name."""
    now = time.time()
    with JobStore.open(database_url) as store:
        return {
            "later": record_job(store, state="SCHEDULED", created=now - 50, eta=now + 3 * 3600),
            "sooner": record_job(store, state="SCHEDULED", created=now - 40, eta=now + 3600),
            "queued": record_job(store, state="QUEUED", created=now - 30, task="schedcli.tasks.publish_article",
                                 args=[7]),
            "done": record_job(store, state="SUCCESS", created=now - 20),
            "failed": record_job(store, state="FAILURE", created=now - 10),
        }


def test_waiting_jobs_come_first_soonest_due_then_the_others_newest_first(cli_runner, jobs):
    assert listed(cli_runner) == [jobs[name] for name in ("queued", "sooner", "later", "failed", "done")]


def test_scheduled_lists_only_jobs_waiting_to_run_like_atq(cli_runner, jobs):
    assert listed(cli_runner, "--scheduled") == [jobs["queued"], jobs["sooner"], jobs["later"]]
    result = cli_runner("list", "--scheduled")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "task", "args", "state", "when", "(UTC)", "runtime"]
    assert [line.split()[0] for line in lines[1:]] == [jobs[name][:8] for name in ("queued", "sooner", "later")]
    assert "schedcli.tasks.publish_article  7" in lines[1]


def test_filters_by_state_task_and_age_and_stops_at_the_limit(cli_runner, jobs, database_url):
    assert listed(cli_runner, "--state", "failure") == [jobs["failed"]]
    assert listed(cli_runner, "--state", "SUCCESS", "--state", "failure") == [jobs["failed"], jobs["done"]]
    assert listed(cli_runner, "--state", "scheduled", "--state", "success") == [
        jobs["sooner"], jobs["later"], jobs["done"]]
    assert listed(cli_runner, "--task", "schedcli.tasks.publish_article") == [jobs["queued"]]
    assert listed(cli_runner, "--limit", "2") == [jobs["queued"], jobs["sooner"]]
    assert listed(cli_runner, "--limit", "4") == [jobs["queued"], jobs["sooner"], jobs["later"], jobs["failed"]]
    with JobStore.open(database_url) as store:
        old = record_job(store, state="SUCCESS", created=time.time() - 7200)
    assert old in listed(cli_runner)
    assert old not in listed(cli_runner, "--since", "1h")
    assert len(listed(cli_runner, "--since", "1h")) == 5


def test_json_prints_each_job_as_status_json_does(cli_runner, jobs, database_url):
    result = cli_runner("list", "--json", "--state", "failure")
    with JobStore.open(database_url) as store:
        assert json.loads(result.stdout) == [store.get(jobs["failed"]).to_json()]


@pytest.mark.parametrize("options, message", [
    (("--state", "pending"), "unknown state 'PENDING'; valid states: SENDING, SCHEDULED, QUEUED, STARTED, "
                             "PROGRESS, RETRY, SUCCESS, FAILURE, CANCELLED, EXPIRED"),
    (("--scheduled", "--state", "success"), "with --scheduled, --state can only be SCHEDULED, QUEUED, RETRY"),
    (("--since", "yesterday"), "bad period 'yesterday'"),
    (("--limit", "0"), "0 is not in the range x>=1"),
])
def test_bad_options_exit_2_and_say_why(cli_runner, database_url, options, message):
    result = cli_runner("list", *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_an_empty_store_lists_nothing(cli_runner, database_url):
    result = cli_runner("list")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No jobs.\n")
    assert cli_runner("list", "--json").stdout == "[]\n"
