"""A job's end when its worker dies or stops right after the job: recorded, or the job runs again.

The worker's main process writes successes a batch at a time and acknowledges a job's message only once its end
is in the store (schedcli/worker/hooks.py). Real RabbitMQ, real `schedcli worker start` processes, killed with
SIGKILL to the whole process group.
"""

from __future__ import annotations

import signal
import sqlite3
import time

import pytest
from helpers import HOOKPROJ, queue_counts, send_hookproj, wait_for_state

from schedcli.store import JobStore

pytestmark = pytest.mark.broker


def runs(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def wait_for_runs(path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while runs(path) < count:
        assert time.monotonic() < deadline, f"{path} shows {runs(path)} run(s), not {count}"
        time.sleep(0.02)


def test_a_job_whose_end_is_not_written_when_its_worker_is_killed_runs_again(start_worker, database_url, broker_url,
                                                                             hookproj_sender, tmp_path):
    first = start_worker("--concurrency", "1", app_args=HOOKPROJ)
    ran, release = tmp_path / "runs", tmp_path / "release"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.counted", [str(ran), str(release)])
    wait_for_runs(ran, 1)
    assert wait_for_state(database_url, job_id, "STARTED").finished_at is None

    # Hold the store's write lock, so the main process cannot write the job's end; then let the job end.
    lock = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        release.touch()
        first.wait_for_log(f"Task hookproj.counted[{job_id}] succeeded")
        # An acknowledgement would leave within milliseconds of the result reaching the main process.
        time.sleep(0.5)
        assert queue_counts(broker_url)["hookproj"] == (0, 1)  # held, not acknowledged
        first.kill()
    finally:
        lock.rollback()
        lock.close()
    with JobStore.open(database_url) as store:
        assert store.get(job_id).state == "STARTED"  # its end was never written...

    second = start_worker("--concurrency", "1", app_args=HOOKPROJ)
    done = wait_for_state(database_url, job_id, "SUCCESS")  # ...so RabbitMQ gave it to the next worker, which ran it

    assert (done.result, runs(ran)) == (2, 2)
    assert done.worker.startswith("w1-")
    assert f"Task hookproj.counted[{job_id}] received" in second.log


def test_a_job_whose_end_is_written_is_not_run_again_after_its_worker_is_killed(start_worker, database_url,
                                                                                broker_url, hookproj_sender, tmp_path):
    first = start_worker("--concurrency", "1", app_args=HOOKPROJ)
    ran = tmp_path / "runs"
    job_id = send_hookproj(database_url, hookproj_sender, "hookproj.counted", [str(ran)])
    ended = wait_for_state(database_url, job_id, "SUCCESS", timeout=30)
    first.kill()

    second = start_worker("--concurrency", "1", app_args=HOOKPROJ)
    # A copy RabbitMQ gives again (the acknowledgement may not have left) comes before a job sent afterwards.
    later = send_hookproj(database_url, hookproj_sender, "hookproj.counted", [str(tmp_path / "later")])
    wait_for_state(database_url, later, "SUCCESS")

    assert runs(ran) == 1
    again = wait_for_state(database_url, job_id, "SUCCESS")
    assert (again.result, again.finished_at, again.worker) == (1, ended.finished_at, ended.worker)
    assert queue_counts(broker_url)["hookproj"] == (0, 0)
    assert f"hookproj.counted[{job_id}] succeeded" not in second.log


def test_jobs_that_end_during_a_warm_shutdown_have_their_ends_written_and_acknowledged(
        start_worker, database_url, broker_url, hookproj_sender, tmp_path):
    worker = start_worker("--concurrency", "2", app_args=HOOKPROJ)
    release = tmp_path / "release"
    ids = [send_hookproj(database_url, hookproj_sender, "hookproj.counted", [str(tmp_path / f"runs-{n}"), str(release)])
           for n in range(2)]
    for n in range(2):
        wait_for_runs(tmp_path / f"runs-{n}", 1)
    worker.process.send_signal(signal.SIGTERM)  # a warm shutdown waits for the running jobs
    worker.wait_for_log("worker: Warm shutdown")
    release.touch()
    assert worker.process.wait(30) == 0

    with JobStore.open(database_url) as store:
        jobs = [store.get(job_id) for job_id in ids]
    assert [(job.state, job.result) for job in jobs] == [("SUCCESS", 1)] * 2
    assert all(job.created_at <= job.started_at <= job.finished_at for job in jobs)
    assert queue_counts(broker_url)["hookproj"] == (0, 0)  # acknowledged before the worker closed its connection
