"""`schedcli cancel`: a waiting job never runs, whatever happens to the workers; running jobs only with
--terminate; finished and unknown jobs are refused; several ids, each reported."""

from __future__ import annotations

import json
import time


from schedcli.store import JobStore
from helpers import record_job


def test_several_ids_are_each_reported_and_the_first_failure_sets_the_exit_code(cli_runner, database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        scheduled = record_job(store, state="SCHEDULED", created=now, eta=now + 60)
        queued = record_job(store, state="QUEUED", created=now)
        retrying = record_job(store, state="QUEUED", created=now)
        store.mark_started(retrying, "w0@box", now)
        store.mark_retry(retrying, 1, now + 30, None)
        done = record_job(store, state="SUCCESS", created=now)
        cancelled = record_job(store, state="CANCELLED", created=now)
    result = cli_runner("cancel", scheduled, queued[:8], retrying, done, "feedface-0000", cancelled, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"id": scheduled, "state": "CANCELLED", "cancelled": True, "reason": None},
        {"id": queued, "state": "CANCELLED", "cancelled": True, "reason": None},
        {"id": retrying, "state": "CANCELLED", "cancelled": True, "reason": None},
        {"id": done, "state": "SUCCESS", "cancelled": False, "reason": "it has already ended (SUCCESS)"},
        {"id": "feedface-0000", "state": None, "cancelled": False, "reason": "unknown job feedface-0000"},
        {"id": cancelled, "state": "CANCELLED", "cancelled": False, "reason": "it was already cancelled"},
    ]
    with JobStore.open(database_url) as store:
        assert store.get(scheduled).state == store.get(queued).state == store.get(retrying).state == "CANCELLED"
        assert store.get(done).state == "SUCCESS"
    result = cli_runner("cancel", "feedface-0000", done)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (f"Not cancelled feedface-0000: unknown job feedface-0000\n"
                             f"Not cancelled {done}: it has already ended (SUCCESS)\n")


def test_cancelling_a_publish_job_puts_its_article_back_to_draft(cli_runner, database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        article = store.articles.add("Launch", None, now)
        job_id = record_job(store, state="SCHEDULED", created=now, eta=now + 3600,
                            task="schedcli.tasks.publish_article", args=[article])
        store.articles.set_publish_job(article, job_id)
        assert store.articles.get(article).state == "scheduled"
    result = cli_runner("cancel", job_id)
    assert result.exit_code == 0
    assert result.stdout == f"Cancelled {job_id}  schedcli.tasks.publish_article({article})\n"
    with JobStore.open(database_url) as store:
        assert (store.articles.get(article).state, store.articles.get(article).publish_at) == ("draft", None)


def test_cancel_needs_an_id(cli_runner, database_url):
    result = cli_runner("cancel")
    assert result.exit_code == 2
    assert "give the jobs to cancel as IDs, or select them with --state scheduled" in result.stderr


def test_state_selects_waiting_jobs_of_a_task_and_dry_run_only_counts_them(cli_runner, database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        newsletters = [record_job(store, state="SCHEDULED", created=now, eta=now + 60, task="proj.newsletter")
                       for _ in range(3)]
        report = record_job(store, state="SCHEDULED", created=now, eta=now + 60, task="proj.report")
        running = record_job(store, state="STARTED", created=now, task="proj.newsletter")
    result = cli_runner("cancel", "--state", "scheduled", "--task", "proj.newsletter", "--dry-run", "--json")
    assert (result.exit_code, json.loads(result.stdout)) == (
        0, {"cancelled": 3, "dry_run": True, "states": ["SCHEDULED"], "task": "proj.newsletter"})
    with JobStore.open(database_url) as store:
        assert {store.get(job_id).state for job_id in newsletters} == {"SCHEDULED"}

    result = cli_runner("cancel", "--state", "scheduled", "--task", "proj.newsletter")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "Cancelled 3 SCHEDULED job(s) of proj.newsletter\n")
    with JobStore.open(database_url) as store:
        assert {store.get(job_id).state for job_id in newsletters} == {"CANCELLED"}
        assert (store.get(report).state, store.get(running).state) == ("SCHEDULED", "STARTED")
    result = cli_runner("cancel", "--state", "scheduled", "--state", "queued", "--since", "1h")
    assert (result.exit_code, result.stderr) == (0, "Cancelled 1 SCHEDULED/QUEUED job(s)\n")


def test_a_selection_is_refused_when_it_is_not_a_waiting_state_or_mixes_ids(cli_runner, database_url):
    cases = [
        (("cancel", "--state", "started"), "STARTED jobs are not waiting; --state selects SCHEDULED, QUEUED, RETRY"),
        (("cancel", "--state", "scheduled", "--terminate"), "--terminate stops running jobs given as IDs"),
        (("cancel", "3f2c9a1e", "--state", "scheduled"), "either as IDs or with --state, not both"),
        (("cancel", "3f2c9a1e", "--task", "proj.x"), "--task goes with --state"),
        (("cancel", "3f2c9a1e", "--dry-run"), "--dry-run goes with --state"),
        (("cancel", "--state", "bogus"), "unknown state 'BOGUS'"),
    ]
    for args, message in cases:
        result = cli_runner(*args)
        assert result.exit_code == 2, args
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_terminating_reports_the_same_when_the_workers_report_of_it_comes_first(database_url, monkeypatch):
    """The worker records the revoke itself (task_revoked) and may do so before `cancel` does."""
    from schedcli.jobs.cancelling import Canceller
    from schedcli.worker import inspection

    with JobStore.open(database_url) as store:
        job_id = record_job(store, state="PROGRESS", created=time.time())

        class WorkerReportsFirst:
            class control:
                @staticmethod
                def revoke(revoked_id, terminate, signal):
                    store.mark_cancelled(revoked_id, time.time())

        monkeypatch.setattr(inspection, "ensure_broker_takes_messages", lambda celery_app: None)
        monkeypatch.setattr(Canceller, "_celery_app", lambda self, app_name: WorkerReportsFirst)
        outcome = Canceller(None, store, terminate=True).cancel(job_id)
    assert outcome.to_json() == {"id": job_id, "state": "CANCELLED", "cancelled": True,
                                 "reason": "terminated while PROGRESS"}
