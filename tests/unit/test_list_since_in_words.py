"""Issue 12: `schedcli list --since "90 minutes"` is read as `--in "90 minutes"` is, not refused."""

from __future__ import annotations

import json
import time
import uuid

from schedcli.store import JobStore, NewJob


def sent_job(store: JobStore, created: float) -> str:
    job_id = str(uuid.uuid4())
    store.record_sending([NewJob(id=job_id, task="schedcli.tasks.echo", args=[], kwargs={}, queue="schedcli",
                                 app="schedcli.app", eta=None, expires=None, key=None)], created)
    store.mark_sent([job_id], created)
    return job_id


def test_since_in_words_keeps_only_the_jobs_sent_in_that_span(cli_runner, database_url):
    now = time.time()
    with JobStore.open(database_url) as store:
        recent, old = sent_job(store, now - 3600), sent_job(store, now - 3 * 3600)
    for span in ("90 minutes", "1h30m", "1 hour 30 minutes", "90 минут"):
        result = cli_runner("list", "--since", span, "--json")
        assert result.exit_code == 0, result.stderr
        assert [job["id"] for job in json.loads(result.stdout)] == [recent], span
    everything = cli_runner("list", "--since", "2 days", "--json")
    assert {job["id"] for job in json.loads(everything.stdout)} == {recent, old}


def test_since_in_calendar_months_is_refused_with_what_to_write(cli_runner, database_url):
    result = cli_runner("list", "--since", "1 month")
    assert result.exit_code == 2 and result.stdout == ""
    assert "bad period '1 month': months and years have no fixed length; give days or weeks" in result.stderr
