"""The exactly-once guarantee on PostgreSQL, where senders really do run at the same moment."""

from __future__ import annotations

import threading
import uuid

from schedcli.store import JobStore, NewJob, Schedule

NOW = 1_800_000_000


def occurrence_job(name: str, occurrence: int, revision: int) -> NewJob:
    return NewJob(id=str(uuid.uuid4()), task="schedcli.tasks.echo", args=[], kwargs={}, queue="schedcli",
                  app="schedcli.app", eta=float(occurrence), expires=None, key=None, schedule=name,
                  occurrence=occurrence, schedule_revision=revision)


def test_concurrent_senders_record_each_occurrence_once(postgres_store_url):
    with JobStore.open(postgres_store_url) as store:
        store.schedules.add(Schedule(name="pulse", recurrence="every 2s", timezone="UTC", task="schedcli.tasks.echo",
                                     args=[], kwargs={}, queue=None, expires_after=None, catch_up="last",
                                     overlap="allow", start_at=NOW, until_at=None), replace=False, now=NOW)
    occurrences = [NOW + 2 * n for n in range(200)]
    start = threading.Barrier(4)
    recorded: list[set[str]] = []

    def sender():
        with JobStore.open(postgres_store_url) as store:
            jobs = [occurrence_job("pulse", occurrence, 1) for occurrence in occurrences]
            start.wait()
            duplicates = store.record_sending(jobs, NOW)
            recorded.append({job.id for job in jobs if job.id not in duplicates})

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(len(ids) for ids in recorded) == len(occurrences)  # each sender publishes only what it recorded
    with JobStore.open(postgres_store_url) as store:
        rows = list(store.query("SELECT occurrence, COUNT(*) FROM jobs GROUP BY occurrence ORDER BY occurrence"))
        assert rows == [(occurrence, 1) for occurrence in occurrences]
        paused, cancelled = store.schedules.pause("pulse", NOW)
        assert cancelled == len(occurrences)
        stale = occurrence_job("pulse", NOW + 1000, 1)
        assert store.record_sending([stale], NOW) == {stale.id: None}


def test_overlap_skip_and_a_replacement_on_postgresql(postgres_store_url):
    with JobStore.open(postgres_store_url) as store:
        schedule, _ = store.schedules.add(Schedule(
            name="slow", recurrence="every 2s", timezone="UTC", task="schedcli.tasks.echo", args=[], kwargs={},
            queue=None, expires_after=None, catch_up="last", overlap="skip", start_at=NOW, until_at=None),
            replace=False, now=NOW)
        first, second = occurrence_job("slow", NOW, 1), occurrence_job("slow", NOW + 2, 1)
        store.record_sending([first, second], NOW - 1)
        store.mark_sent([first.id, second.id], NOW - 1)
        assert store.mark_started(first.id, "w@box", NOW) == "STARTED"
        assert store.mark_started(second.id, "w@box", NOW + 2) == "SKIPPED"
        third = occurrence_job("slow", NOW + 4, 1)
        store.record_sending([third], NOW)
        store.mark_sent([third.id], NOW)
        _, cancelled = store.schedules.add(Schedule(
            name="slow", recurrence="every 5s", timezone="UTC", task="schedcli.tasks.echo", args=[], kwargs={},
            queue=None, expires_after=None, catch_up="last", overlap="skip", start_at=NOW, until_at=None),
            replace=True, now=NOW + 1)
        assert cancelled == 1 and store.get(third.id).state == "CANCELLED"
        assert store.record_sending([occurrence_job("slow", NOW + 4, 2)], NOW + 1) == {}  # the slot is free again
