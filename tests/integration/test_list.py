"""`schedcli list`: waiting jobs soonest due first, then the others newest first; filters; JSON; bad input."""

from __future__ import annotations

import json
import time

import pytest

from schedcli.store import JobStore

from helpers import record_job




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


def listed(cli_runner, *options) -> list[str]:
    result = cli_runner("list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [job["id"] for job in json.loads(result.stdout)]


@pytest.mark.broker
def test_jobs_sent_and_run_through_a_worker_are_listed_in_order(cli_runner, start_worker):
    start_worker()
    ids = {}
    for name, delay in (("in_2h", "2h"), ("in_1h", "1h")):
        result = cli_runner("call", "schedcli.tasks.echo", name, "--in", delay, "-q")
        ids[name] = result.stdout.strip()
    for name in ("first", "second"):
        result = cli_runner("call", "schedcli.tasks.echo", name, "--wait", "-q")
        assert result.exit_code == 0, result.stderr
        ids[name] = result.stdout.strip()
    assert listed(cli_runner) == [ids[name] for name in ("in_1h", "in_2h", "second", "first")]
    assert listed(cli_runner, "--scheduled") == [ids["in_1h"], ids["in_2h"]]
    assert listed(cli_runner, "--state", "success") == [ids["second"], ids["first"]]
