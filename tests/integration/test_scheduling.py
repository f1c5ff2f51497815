"""Scheduling that holds: jobs wait in RabbitMQ (not in workers), run once, never early, across restarts.

Real RabbitMQ, real `schedcli worker start` subprocesses; each test in a virtual host of its own.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from helpers import open_store, queue_counts, rabbitmqctl, run_schedcli, wait_for_states

pytestmark = pytest.mark.broker


def send_jobs(count: int, *, delay: str, task: str = "schedcli.tasks.echo") -> list[str]:
    lines = "".join(json.dumps({"args": [n], "in": delay}) + "\n" for n in range(count))
    result = run_schedcli("call", task, "--from-file", "-", "-q", input=lines)
    assert result.returncode == 0, result.stderr
    ids = result.stdout.split()
    assert len(ids) == count
    return ids


def runs_per_job(*workers) -> dict[str, int]:
    """How many times each job id succeeded, read from the workers' logs."""
    counts: dict[str, int] = {}
    for worker in workers:
        for job_id in re.findall(r"Task schedcli\.tasks\.echo\[([0-9a-f-]+)\] succeeded", worker.log):
            counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def assert_never_early(jobs: dict) -> None:
    early = [(job.id, job.started_at - job.eta) for job in jobs.values() if job.eta and job.started_at < job.eta]
    assert early == [], f"jobs started before their time: {early[:5]}"


def test_scheduled_jobs_wait_in_rabbitmq_not_in_the_worker(broker_url, start_worker):
    worker = start_worker()
    ids = send_jobs(10_000, delay="1h")
    with open_store() as jobs:
        assert {job.state for job in jobs.list_jobs(limit=20_000)} == {"SCHEDULED"}
    deadline = time.monotonic() + 30
    while True:
        counts = queue_counts(broker_url)
        if counts.get("celery_delayed_11", (0, 0))[0] == len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert counts["celery_delayed_11"] == (10_000, 0), counts
    assert counts["schedcli"] == (0, 0), counts
    assert worker.process.poll() is None


def test_job_sent_while_no_worker_runs_is_delivered_once_one_starts(broker_url, start_worker):
    ids = send_jobs(5, delay="1s")
    time.sleep(0)  # nothing consumes yet: they wait in RabbitMQ
    worker = start_worker()
    jobs = wait_for_states(ids, {"SUCCESS"}, timeout=30)
    assert_never_early(jobs)
    assert runs_per_job(worker) == {job_id: 1 for job_id in ids}


@pytest.mark.parametrize("option", [("--in", "0.5s"), ("--in", "1.3s"), ("--at", "fractional")])
def test_sub_second_and_fractional_delays_run_on_time_never_early(broker_url, start_worker, option):
    from datetime import datetime, timedelta, timezone

    start_worker()
    flag, value = option
    if value == "fractional":
        value = (datetime.now(timezone.utc) + timedelta(seconds=1.7)).isoformat()
    result = run_schedcli("call", "schedcli.tasks.echo", "x", flag, value, "-q")
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    job = wait_for_states([job_id], {"SUCCESS"}, timeout=20)[job_id]
    assert job.started_at >= job.eta
    assert job.started_at - job.eta < 1.0


@pytest.mark.parametrize("retry_countdown", [0, 2])
def test_a_delayed_job_of_a_user_app_that_retries_runs_again(broker_url, start_worker, tmp_path, retry_countdown):
    # Celery publishes a retry to the exchange and routing key the job came from (delivery_info), so
    # the delay levels must hand the job over with the very keys Celery's own publishing gives it.
    # (Publishing into a level's queue with the delay key in a BCC header doubled the bulk rate, but
    # the job then came from the level's name, and a retry without countdown was dropped.)
    start_worker(app_args=("--app", "quorumproj:app"))
    result = run_schedcli("--app", "quorumproj:app", "call", "quorumproj.flaky", str(tmp_path / "marker"),
                          str(retry_countdown), "--in", "3s", "-q")
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    job = wait_for_states([job_id], {"SUCCESS", "FAILURE"}, timeout=30)[job_id]
    assert (job.state, job.retries, job.result) == ("SUCCESS", 1, "second time lucky")
    assert job.started_at >= job.eta


@pytest.mark.slow
def test_worker_killed_while_jobs_are_scheduled_runs_each_exactly_once_after_restart(broker_url, start_worker):
    first = start_worker()
    ids = send_jobs(100, delay="4s")
    first.kill()
    time.sleep(5)  # the jobs come due while no worker runs
    second = start_worker()
    jobs = wait_for_states(ids, {"SUCCESS"}, timeout=60)
    assert_never_early(jobs)
    assert runs_per_job(first, second) == {job_id: 1 for job_id in ids}


@pytest.mark.slow
@pytest.mark.broker_wide
def test_rabbitmq_restart_while_jobs_are_scheduled_loses_none_runs_none_twice_or_early(broker_url, start_worker):
    worker = start_worker()
    ids = send_jobs(100, delay="8s")
    rabbitmqctl("stop_app")
    try:
        time.sleep(2)
    finally:
        rabbitmqctl("start_app")
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], timeout=120, check=False)
    jobs = wait_for_states(ids, {"SUCCESS"}, timeout=120)
    assert_never_early(jobs)
    assert runs_per_job(worker) == {job_id: 1 for job_id in ids}
    assert worker.process.poll() is None


def _set_rabbit_env(name: str, value: int | None) -> None:
    if value is None:
        rabbitmqctl("eval", f"application:unset_env(rabbit, {name}).")
    else:
        rabbitmqctl("eval", f"application:set_env(rabbit, {name}, {value}).")


def _rabbit_env(name: str) -> int | None:
    match = re.search(r"\{ok,\s*(\d+)\}", rabbitmqctl("eval", f"application:get_env(rabbit, {name}).").stdout)
    return int(match.group(1)) if match else None


@pytest.fixture
def short_consumer_timeout(rabbitmq):
    """RabbitMQ's consumer_timeout lowered to 5 s, and checked every second instead of every minute.

    Channels read both when they open, so this must come before the worker starts.
    """
    before = {name: _rabbit_env(name) for name in ("consumer_timeout", "channel_tick_interval")}
    _set_rabbit_env("consumer_timeout", 5000)
    _set_rabbit_env("channel_tick_interval", 1000)
    yield
    for name, value in before.items():
        _set_rabbit_env(name, value)


@pytest.mark.slow
@pytest.mark.broker_wide
def test_job_due_past_consumer_timeout_runs_once_on_time_and_no_worker_dies(short_consumer_timeout, broker_url,
                                                                            start_worker):
    worker = start_worker()
    [job_id] = send_jobs(1, delay="16s")
    time.sleep(9)  # past the 5 s consumer_timeout, and past several of the broker's checks
    counts = queue_counts(broker_url)
    assert counts["schedcli"][1] == 0, f"the worker holds the job unacknowledged: {counts}"
    job = wait_for_states([job_id], {"SUCCESS"}, timeout=30)[job_id]
    assert 0 <= job.started_at - job.eta < 5
    assert worker.process.poll() is None, worker.log
    assert runs_per_job(worker) == {job_id: 1}
    assert "PRECONDITION_FAILED" not in worker.log
