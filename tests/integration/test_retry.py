"""`schedcli retry`: a job that ended without success is sent again as a new job, linked both ways, and runs."""

from __future__ import annotations

import json
import time

import pytest

from helpers import record_job, run_schedcli, wait_for_state
from schedcli.store import JobStore


@pytest.mark.broker
def test_a_failed_job_is_retried_as_a_new_linked_job_that_runs(start_worker, database_url):
    with JobStore.open(database_url) as store:
        failed = record_job(store, state="FAILURE", created=time.time() - 60, args=[7], key="nightly")
    start_worker()
    result = run_schedcli("retry", failed, "--json")
    assert result.returncode == 0, result.stderr
    [outcome] = json.loads(result.stdout)
    assert (outcome["id"], outcome["retried"], outcome["reason"]) == (failed, True, None)
    new = wait_for_state(database_url, outcome["retried_as"], "SUCCESS")
    assert (new.task, new.args, new.key, new.retry_of, new.result) == (
        "schedcli.tasks.echo", [7], "nightly", failed, {"args": [7], "kwargs": {}})
    old = json.loads(run_schedcli("status", failed, "--json").stdout)
    assert old["retried_as"] == new.id
    assert f"\nretried as  {new.id}\n" in run_schedcli("status", failed).stdout

    again = run_schedcli("retry", failed)
    assert again.returncode == 1
    assert again.stderr == f"Not retried {failed}: it was retried already as {new.id}; retry that one\n"


@pytest.mark.broker
def test_retry_by_state_sends_later_and_leaves_other_jobs_alone(broker_url, database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        recent = [record_job(store, state="FAILURE", created=now - 60, args=[n]) for n in range(3)]
        record_job(store, state="FAILURE", created=now - 3 * 86400)  # outside --since
        record_job(store, state="SUCCESS", created=now - 60)
    result = run_schedcli("retry", "--state", "failure", "--since", "1 day", "--in", "1h", "-q")
    assert result.returncode == 0, result.stderr
    new_ids = result.stdout.split()
    assert len(new_ids) == 3
    with JobStore.open(database_url) as store:
        new_jobs = [store.get(job_id) for job_id in new_ids]
    assert sorted(job.retry_of for job in new_jobs) == sorted(recent)
    assert {job.state for job in new_jobs} == {"SCHEDULED"}
    assert all(now + 3500 < job.eta < time.time() + 3700 for job in new_jobs)


@pytest.mark.parametrize("args, code, says", [
    (("retry",), 2, "give the jobs to retry as IDs, or select them with --state failure"),
    (("retry", "--state", "success"), 2, "SUCCESS jobs cannot be retried"),
    (("retry", "--since", "1h", "abcdefgh-1"), 2, "--since and --task select jobs together with --state"),
    (("retry", "cccccccc-0000-4000-8000-000000000009"), 3, "unknown job cccccccc-0000-4000-8000-000000000009"),
])
def test_bad_retries_are_one_line_and_send_nothing(cli_runner, database_url, args, code, says):
    result = cli_runner(*args)
    assert result.exit_code == code
    assert says in result.stderr and result.stderr.count("\n") == 1
    assert cli_runner("list", "--json").stdout == "[]\n"


def test_a_job_that_has_not_ended_is_not_retried(cli_runner, database_url):
    with JobStore.open(database_url) as store:
        waiting = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 60)
    result = cli_runner("retry", waiting)
    assert result.exit_code == 1
    assert result.stderr == (f"Not retried {waiting}: it is SCHEDULED; only a job that ended without success "
                             "(failure, expired, cancelled, skipped) can be retried\n")
