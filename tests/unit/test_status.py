"""`schedcli status`: one job as the real worker recorded it, over the real RabbitMQ; ids and prefixes;
jobs run by a plain `celery worker`, read from their app's result backend."""

from __future__ import annotations

import json
import time
import uuid


from helpers import run_schedcli
from schedcli.store import JobStore
from helpers import record_job


def test_an_id_never_sent_is_an_unknown_job_exit_3(cli_runner, database_url):
    for args in (("status", str(uuid.uuid4())), ("status", "0123456789", "--json"), ("status", "deadbeef", "--watch")):
        result = cli_runner(*args)
        assert result.exit_code == 3
        assert result.stdout == ""
        assert result.stderr == f"Error: unknown job {args[1]}\n"


def test_a_unique_prefix_finds_the_job_and_an_ambiguous_one_lists_the_matches(cli_runner, database_url):
    first, second = "abcdef01-aaaa-4000-8000-000000000001", "abcdef01-bbbb-4000-8000-000000000002"
    with JobStore.open(database_url) as store:
        for job_id in (first, second):
            record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 60, job_id=job_id)
    result = cli_runner("status", "abcdef01-b")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"id     {second}\nstate  SCHEDULED\n")
    result = cli_runner("status", "abcdef01")
    assert result.exit_code == 2
    assert result.stderr == f"Error: job id prefix 'abcdef01' is ambiguous; it matches {first}, {second}\n"
    result = cli_runner("status", "abcdef")
    assert result.exit_code == 2
    assert "at least 8 of its first characters" in result.stderr


def test_a_scheduled_job_of_a_user_app_not_yet_due_is_read_from_the_store(cli_runner, database_url):
    with JobStore.open(database_url) as store:
        job_id = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 3600,
                            app="nosuchmodule:app", task="nosuchmodule.work")
    result = run_schedcli("status", job_id, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "store"
