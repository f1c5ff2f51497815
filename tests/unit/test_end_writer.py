"""The worker's main process writes job successes a batch at a time (schedcli/worker/hooks.py EndWriter), on a real
SQLite store and kombu's real event loop; a job's acknowledgement goes only once its end is written."""

from __future__ import annotations

import time
import uuid

import pytest
from kombu.asynchronous import Hub, set_event_loop

from schedcli.store import JobStore, NewJob, Succeeded, capped_result
from schedcli.worker import hooks

NOW = 1_800_000_000.0


class Request:
    """Stands in for the gated Request: what EndWriter calls once the end is written."""

    def __init__(self, store_url: str):
        self.store_url = store_url
        self.state_when_released = None

    def end_written(self) -> None:
        with JobStore.open(self.store_url) as store:
            self.state_when_released = sorted({job.state for job in store.list_jobs(limit=1000)})


@pytest.fixture
def store_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    hooks._forget_store()  # a store an earlier test of this process opened (same pid and thread) would be reused
    monkeypatch.setattr(hooks, "_database_url", url)
    yield url
    hooks._forget_store()


@pytest.fixture
def hub():
    loop = Hub()
    set_event_loop(loop)
    yield loop
    set_event_loop(None)
    loop.close()


def started_jobs(store_url: str, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with JobStore.open(store_url) as store:
        store.record_sending([NewJob(id=job_id, task="t", args=[], kwargs={}, queue="q", app="a", eta=None,
                                     expires=None, key=None) for job_id in ids], NOW)
        store.mark_sent(ids, NOW)
        for job_id in ids:
            store.mark_started(job_id, "w", NOW)
    return ids


def states(store_url: str, ids: list[str]) -> list[str]:
    with JobStore.open(store_url) as store:
        return [store.get(job_id).state for job_id in ids]


def end(job_id: str) -> Succeeded:
    return Succeeded(job_id, capped_result({"id": job_id}), NOW + 1, NOW + 2)


def test_ends_wait_for_a_batch_then_are_written_together_before_their_acknowledgements(store_url, hub):
    writer = hooks.EndWriter()
    ids = started_jobs(store_url, hooks.END_BATCH)
    requests = [Request(store_url) for _ in ids]
    for request, job_id in zip(requests[:-1], ids[:-1]):
        writer.add(request, end(job_id))
    assert set(states(store_url, ids)) == {"STARTED"}  # held: the batch is not full and END_DELAY has not passed
    assert all(request.state_when_released is None for request in requests)

    writer.add(requests[-1], end(ids[-1]))  # the batch is full: written at once

    assert set(states(store_url, ids)) == {"SUCCESS"}
    assert all(request.state_when_released == ["SUCCESS"] for request in requests)


def test_an_end_is_written_once_end_delay_passed_without_a_full_batch(store_url, hub):
    writer = hooks.EndWriter()
    [job_id] = started_jobs(store_url, 1)
    request = Request(store_url)
    writer.add(request, end(job_id))
    deadline = time.monotonic() + 10
    while request.state_when_released is None and time.monotonic() < deadline:
        hub.fire_timers()  # what the worker's loop does between polls
        time.sleep(0.01)
    assert request.state_when_released == ["SUCCESS"]


def test_when_the_worker_stops_every_end_is_written_as_it_comes(store_url, hub):
    writer = hooks.EndWriter()
    first, second = started_jobs(store_url, 2)
    writer.add(Request(store_url), end(first))
    writer.write_at_once()
    writer.add(Request(store_url), end(second))
    assert states(store_url, [first, second]) == ["SUCCESS", "SUCCESS"]


def test_a_store_that_cannot_be_written_is_logged_and_the_jobs_are_acknowledged_all_the_same(
        tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(hooks, "_database_url", f"sqlite:///{blocker}/jobs.db")
    released = []

    class Released:
        def end_written(self):
            released.append(True)

    hooks.EndWriter().add(Released(), end("some-job"))  # no event loop: written at once

    assert released == [True]
    assert "Could not record the success of 1 job(s) in the job store (some-job)" in caplog.text
