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
    assert "Missing argument 'ID...'" in result.stderr
