"""What a real `schedcli worker start` records in the job store, and its cancel gate, over the real RabbitMQ."""

from __future__ import annotations

import time

import pytest
from helpers import HOOKPROJ, send_hookproj, send_recorded, wait_for_state

from schedcli.store import JobStore

pytestmark = pytest.mark.broker


@pytest.fixture
def bundled_sender(broker_url):
    from schedcli.app import create_app
    from schedcli.settings import resolve_settings

    app = create_app(resolve_settings())
    yield app
    app.close()


def send_bundled(database_url, sender, task, args, **options) -> str:
    return send_recorded(database_url, sender, task, args, "schedcli", "schedcli.app", **options)


def test_a_job_is_recorded_as_started_then_succeeded_with_its_result(start_worker, database_url, bundled_sender):
    worker = start_worker()
    job_id = send_bundled(database_url, bundled_sender, "schedcli.tasks.echo", [1, "two"])
    job = wait_for_state(database_url, job_id, "SUCCESS")
    assert job.result == {"args": [1, "two"], "kwargs": {}}
    assert job.worker.startswith("w0-")
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.runtime is not None and job.error is None
    worker.wait_for_log(f"schedcli.tasks.echo[{job_id}] succeeded")


def test_publishing_an_article_twice_publishes_it_once(start_worker, database_url, bundled_sender):
    start_worker()
    with JobStore.open(database_url) as store:
        article = store.articles.add("Launch day", "body", time.time())
    first = send_bundled(database_url, bundled_sender, "schedcli.tasks.publish_article", [article])
    first_job = wait_for_state(database_url, first, "SUCCESS")
    second = send_bundled(database_url, bundled_sender, "schedcli.tasks.publish_article", [article])
    second_job = wait_for_state(database_url, second, "SUCCESS")
    with JobStore.open(database_url) as store:
        published = store.articles.get(article)
    assert published.state == "published"
    assert first_job.result == {"article_id": article, "published": True,
                                "published_at": first_job.result["published_at"]}
    assert second_job.result == {"article_id": article, "published": False,
                                 "already_published_at": first_job.result["published_at"]}
    assert first_job.started_at <= published.published_at <= first_job.finished_at


def test_publishing_a_missing_article_fails_with_the_error_and_its_traceback(start_worker, database_url,
                                                                             bundled_sender):
    start_worker()
    job_id = send_bundled(database_url, bundled_sender, "schedcli.tasks.publish_article", [4040])
    job = wait_for_state(database_url, job_id, "FAILURE")
    assert job.error["type"] == "schedcli.exceptions.UnknownJob"
    assert job.error["message"] == "unknown article 4040"
    assert job.error["traceback"].startswith("Traceback (most recent call last):")
    assert "UnknownJob: unknown article 4040" in job.error["traceback"]
    assert job.retries == 0  # not a transient database error: no retry


def test_a_failing_job_of_a_user_app_is_recorded_with_its_traceback(start_worker, database_url, hookproj_sender):
    start_worker(app_args=HOOKPROJ)
    message = "no [red]x[/red] \x1b[2J"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.boom", [message])
    job = wait_for_state(database_url, job_id, "FAILURE")
    assert job.error["type"] == "ValueError"
    assert job.error["message"] == message
    assert "raise ValueError(message)" in job.error["traceback"]
    assert job.finished_at is not None


def test_a_retried_job_is_recorded_as_retry_then_success(start_worker, database_url, hookproj_sender, tmp_path):
    start_worker(app_args=HOOKPROJ)
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.flaky", [str(tmp_path / "marker")])
    retrying = wait_for_state(database_url, job_id, "RETRY")
    assert retrying.retries == 1
    assert retrying.error["type"] == "OSError" and retrying.error["message"] == "not yet"
    assert retrying.next_retry_at == pytest.approx(retrying.started_at + 1, abs=0.5)
    done = wait_for_state(database_url, job_id, "SUCCESS")
    assert (done.result, done.retries, done.error) == ("second time lucky", 1, None)


def test_progress_reported_by_a_job_is_recorded(start_worker, database_url, hookproj_sender, tmp_path):
    start_worker(app_args=HOOKPROJ)
    release = tmp_path / "release"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.steps", [str(release)])
    running = wait_for_state(database_url, job_id, "PROGRESS")
    assert running.progress == {"current": 1, "total": 2, "step": "waiting for release"}
    release.touch()
    done = wait_for_state(database_url, job_id, "SUCCESS")
    assert done.progress == {"current": 2, "total": 2, "step": "done"}
    assert done.result == "released"


def test_a_job_sent_by_plain_celery_is_recorded_when_a_worker_runs_it(start_worker, database_url, hookproj_sender):
    start_worker(app_args=HOOKPROJ)
    job_id = hookproj_sender.send_task("hookproj.add", args=[2, 3], queue="hookproj").id
    job = wait_for_state(database_url, job_id, "SUCCESS")
    assert (job.task, job.args, job.queue, job.app, job.result) == ("hookproj.add", [2, 3], "hookproj",
                                                                     "hookproj:app", 5)


def test_a_cancelled_job_the_worker_already_holds_never_runs(start_worker, database_url, hookproj_sender, tmp_path):
    worker = start_worker(app_args=HOOKPROJ)
    cancelled_marker, later_marker = tmp_path / "cancelled", tmp_path / "later"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.touch", [str(cancelled_marker)], countdown=2)
    worker.wait_for_log(f"hookproj.touch[{job_id}] received")  # the worker holds it until its ETA
    with JobStore.open(database_url) as store:
        assert store.cancel(job_id, time.time()).state == "CANCELLED"
    worker.wait_for_log(f"Skipping job hookproj.touch[{job_id}]: it was cancelled in the job store")
    # A job sent afterwards runs: the worker is fine, and the cancelled one stayed undone.
    later = send_hookproj(database_url, hookproj_sender, "hookproj.touch", [str(later_marker)])
    wait_for_state(database_url, later, "SUCCESS")
    assert later_marker.exists() and not cancelled_marker.exists()
    job = wait_for_state(database_url, job_id, "CANCELLED")
    assert job.started_at is None and job.worker is None


def test_a_job_cancelled_before_rabbitmq_delivers_it_is_skipped(start_worker, database_url, bundled_sender):
    worker = start_worker()
    job_id = send_bundled(database_url, bundled_sender, "schedcli.tasks.echo", ["never"], countdown=2)
    with JobStore.open(database_url) as store:
        assert store.cancel(job_id, time.time()).state == "CANCELLED"
    worker.wait_for_log(f"Skipping job schedcli.tasks.echo[{job_id}]: it was cancelled in the job store")
    assert f"schedcli.tasks.echo[{job_id}] succeeded" not in worker.log
    assert wait_for_state(database_url, job_id, "CANCELLED").started_at is None


def test_a_job_past_its_expiry_is_recorded_as_expired(start_worker, database_url, hookproj_sender, tmp_path):
    start_worker(app_args=HOOKPROJ)
    marker = tmp_path / "expired"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.touch", [str(marker)], countdown=1.5, expires=1)
    job = wait_for_state(database_url, job_id, "EXPIRED")
    assert job.started_at is None and not marker.exists()


def test_workers_report_into_a_postgresql_store(start_worker, postgres_store_url, bundled_sender):  # noqa: F811
    start_worker(env={"SCHEDCLI_DATABASE_URL": postgres_store_url})
    with JobStore.open(postgres_store_url) as store:
        article = store.articles.add("On PostgreSQL", None, time.time())
    jobs = [send_bundled(postgres_store_url, bundled_sender, "schedcli.tasks.publish_article", [article])
            for _ in range(3)]
    results = [wait_for_state(postgres_store_url, job_id, "SUCCESS").result["published"] for job_id in jobs]
    assert sorted(results) == [False, False, True]


def test_worker_start_with_an_unusable_store_stops_at_once_with_exit_74(tmp_path):
    from helpers import run_schedcli

    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_schedcli("--database", f"sqlite:///{blocker}/jobs.db", "worker", "start", timeout=30)
    assert result.returncode == 74
    assert result.stderr.strip().startswith(f"Error: job store sqlite:///{blocker}/jobs.db: cannot open")


def test_a_job_sent_by_plain_celery_with_a_countdown_is_recorded_with_its_real_queue(start_worker, database_url,
                                                                                     bundled_sender):
    start_worker()
    # Celery's native delayed delivery routes it through the delay levels with a routing key of 28 bits then the
    # queue's: the store must record the queue, not that key.
    job_id = bundled_sender.send_task("schedcli.tasks.echo", args=[7], countdown=2).id
    job = wait_for_state(database_url, job_id, "SUCCESS")
    assert (job.queue, job.result) == ("schedcli", {"args": [7], "kwargs": {}})


@pytest.mark.parametrize("fail, state", [(False, "SUCCESS"), (True, "FAILURE")])
def test_a_job_whose_outcome_holds_text_no_database_stores_still_ends(start_worker, database_url, hookproj_sender,
                                                                      fail, state):
    start_worker(app_args=HOOKPROJ)
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.unstorable", [fail])
    job = wait_for_state(database_url, job_id, state)
    shown = job.error["message"] if fail else job.result
    assert shown == "half a pair: \\ud800"  # kept, with the half pair made visible
