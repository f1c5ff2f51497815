"""`schedcli prune`: finished jobs that ended before a moment are deleted in batches; nothing else ever is."""

from __future__ import annotations

import json
import time

import pytest

from helpers import record_job
from schedcli.store import JobStore

DAY = 86400.0


@pytest.fixture
def jobs(database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        return {
            "old success": record_job(store, state="SUCCESS", created=now - 10 * DAY),
            "old failure": record_job(store, state="FAILURE", created=now - 10 * DAY),
            "old cancelled": record_job(store, state="CANCELLED", created=now - 10 * DAY),
            "recent success": record_job(store, state="SUCCESS", created=now - 60),
            "old and still waiting": record_job(store, state="SCHEDULED", created=now - 10 * DAY, eta=now + DAY),
            "old and running": record_job(store, state="STARTED", created=now - 10 * DAY),
        }


def remaining(database_url) -> set[str]:
    with JobStore.open(database_url) as store:
        return {job.id for job in store.list_jobs(limit=100)}


def test_prune_deletes_only_jobs_that_ended_before_the_moment(cli_runner, database_url, jobs):
    result = cli_runner("prune", "--finished-before", "1 day", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["deleted"] == 3
    assert remaining(database_url) == {jobs["recent success"], jobs["old and still waiting"], jobs["old and running"]}


def test_prune_of_one_state_and_a_dry_run(cli_runner, database_url, jobs):
    dry = cli_runner("prune", "--finished-before", "1d", "--dry-run")
    assert (dry.exit_code, dry.stdout) == (0, "")
    assert dry.stderr.startswith("Would delete 3 job(s) that ended before ")
    assert len(remaining(database_url)) == 6
    only = cli_runner("prune", "--finished-before", "1d", "--state", "success")
    assert only.stderr.startswith("Deleted 1 job(s)")
    assert jobs["old success"] not in remaining(database_url) and jobs["old failure"] in remaining(database_url)


def test_the_store_prunes_a_batch_per_transaction(database_url, jobs):
    with JobStore.open(database_url) as store:
        assert list(store.prune(time.time() - DAY, ["SUCCESS", "FAILURE", "CANCELLED"], batch=2)) == [2, 1]


@pytest.mark.parametrize("args, says", [
    (("prune",), "Missing option '--finished-before'"),
    (("prune", "--finished-before", "soon"), "Invalid value for '--finished-before'"),
    (("prune", "--finished-before", "1d", "--state", "scheduled"), "SCHEDULED is not a final state"),
])
def test_bad_prunes_are_one_line_and_delete_nothing(cli_runner, database_url, jobs, args, says):
    result = cli_runner(*args)
    assert result.exit_code == 2
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert len(remaining(database_url)) == 6
