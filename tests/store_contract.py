"""What every job store must do, on SQLite and on PostgreSQL: schema, dispatch records, lookups, worker reports,
articles.

Not a test module itself: tests/unit/test_store.py runs these tests on SQLite, tests/integration/test_store.py
on PostgreSQL, each with its own `store_url` fixture.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from schedcli.exceptions import BadInput, DatabaseError, UnknownJob
from schedcli.store.schema import SCHEMA_VERSION
from schedcli.store import RESULT_LIMIT, TRUNCATED, JobStore, NewJob, Succeeded, capped_result, iso

NOW = 1_800_000_000.0


@pytest.fixture
def store(store_url):
    with JobStore.open(store_url) as opened:
        yield opened


def new_job(job_id=None, task="schedcli.tasks.echo", eta=None, key=None, args=None) -> NewJob:
    return NewJob(id=job_id or str(uuid.uuid4()), task=task, args=args if args is not None else [1, "two"],
                  kwargs={"k": True}, queue="schedcli", app="schedcli.app", eta=eta, expires=None, key=key)


def send(store, *jobs: NewJob, now: float = NOW) -> dict[str, str]:
    """Record and confirm, as dispatch does."""
    duplicates = store.record_sending(list(jobs), now)
    store.mark_sent([job.id for job in jobs if job.id not in duplicates], now)
    return duplicates


# -- schema -------------------------------------------------------------------------------------

def test_schema_is_created_on_first_open_with_its_version(store_url):
    with JobStore.open(store_url) as store:
        assert list(store.query("SELECT value FROM schedcli_meta WHERE name = 'schema_version'")) == [(str(SCHEMA_VERSION),)]
    with JobStore.open(store_url) as store:  # opening again finds it
        assert list(store.query("SELECT COUNT(*) FROM jobs")) == [(0,)]


def test_the_workers_store_does_not_wait_for_the_disk_and_the_senders_does(store_url):
    sqlite = store_url.startswith("sqlite")
    setting = "PRAGMA synchronous" if sqlite else "SELECT current_setting('synchronous_commit')"
    waiting, not_waiting = (2, 1) if sqlite else ("on", "off")  # 2: FULL, 1: NORMAL
    with JobStore.open(store_url) as store:
        assert list(store.query(setting)) == [(waiting,)]
    with JobStore.open(store_url, wait_for_disk=False) as store:
        assert list(store.query(setting)) == [(not_waiting,)]
        store.ensure_job(str(uuid.uuid4()), "t", [], {}, "q", "app", None, now=NOW)  # and it writes
        assert list(store.query("SELECT COUNT(*) FROM jobs")) == [(1,)]


def test_a_newer_schema_version_is_a_clear_database_error(store_url):
    with JobStore.open(store_url) as store:
        with store._db.transaction() as tx:
            tx.execute("UPDATE schedcli_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(DatabaseError, match=rf"schema version 99, newer than this schedcli knows \({SCHEMA_VERSION}\)") as info:
        JobStore.open(store_url)
    assert info.value.exit_code == 74


# -- dispatch -----------------------------------------------------------------------------------

def test_sent_jobs_are_scheduled_when_due_later_and_queued_when_due_now(store):
    later, now_job = new_job(eta=NOW + 60), new_job()
    assert store.record_sending([later, now_job], NOW) == {}
    assert store.get(later.id).state == store.get(now_job.id).state == "SENDING"
    store.mark_sent([later.id, now_job.id], NOW + 1)
    assert store.get(later.id).state == "SCHEDULED"
    assert store.get(now_job.id).state == "QUEUED"
    job = store.get(later.id)
    assert (job.task, job.args, job.kwargs, job.queue, job.eta, job.created_at) == (
        "schedcli.tasks.echo", [1, "two"], {"k": True}, "schedcli", NOW + 60, NOW)


def test_args_encoded_by_the_size_check_are_recorded_as_the_store_would_encode_them(store):
    from dataclasses import replace

    from schedcli.jobs.requests import check_payload

    args, kwargs = [1, "é", None, [2.5, True], {"n": 2**40}], {"text": "привет", "nested": {"list": []}}
    encoded_here = new_job(args=args)
    encoded_before = replace(new_job(args=args), kwargs=kwargs, payload_json=check_payload(args, kwargs))
    send(store, replace(encoded_here, kwargs=kwargs), encoded_before)
    rows = {row[0]: row[1:] for row in store.query("SELECT id, args, kwargs FROM jobs")}
    assert rows[encoded_before.id] == rows[encoded_here.id]
    assert store.get(encoded_before.id).args == args and store.get(encoded_before.id).kwargs == kwargs


def test_mark_sent_leaves_a_job_the_worker_already_started(store):
    job = new_job(eta=NOW + 60)
    store.record_sending([job], NOW)
    assert store.mark_started(job.id, "w1@host", NOW + 0.5) == "STARTED"
    store.mark_sent([job.id], NOW + 1)
    assert store.get(job.id).state == "STARTED"


def test_mark_sent_marks_whole_batches_and_parts_of_them_and_nothing_else(store):
    # On SQLite a whole batch is marked by its rows' range: the range must hold nobody else's job.
    first, second, other = [new_job(eta=NOW + 60) for _ in range(3)], [new_job() for _ in range(3)], new_job()
    store.record_sending(first, NOW, sender="me 1", lease_until=NOW + 30)
    store.record_sending([other], NOW, sender="someone else", lease_until=NOW + 30)
    store.record_sending(second, NOW + 0.5, sender="me 1", lease_until=NOW + 30)
    store.mark_sent([job.id for job in first] + [second[0].id], NOW + 1)
    assert [store.get(job.id).state for job in first + second + [other]] == [
        "SCHEDULED", "SCHEDULED", "SCHEDULED", "QUEUED", "SENDING", "SENDING", "SENDING"]
    assert store.get(first[0].id).sender is None and store.get(second[1].id).sender == "me 1"
    store.mark_sent([job.id for job in second[1:]], NOW + 1)
    assert [store.get(job.id).state for job in second + [other]] == ["QUEUED", "QUEUED", "QUEUED", "SENDING"]


def test_mark_sent_leaves_a_job_that_took_the_place_of_one_forgotten_meanwhile(store):
    # SQLite gives the highest rowid again once its row is deleted: the batch's range then holds another's job.
    mine = [new_job(), new_job()]
    store.record_sending(mine, NOW, sender="me 1", lease_until=NOW + 30)
    store.discard_unsent([mine[1].id])
    newcomer = new_job()
    store.record_sending([newcomer], NOW + 0.5, sender="me 1", lease_until=NOW + 30)
    store.mark_sent([job.id for job in mine], NOW + 1)
    assert store.get(mine[0].id).state == "QUEUED" and store.get(newcomer.id).state == "SENDING"


def test_discard_unsent_forgets_only_jobs_still_sending(store):
    unconfirmed, confirmed = new_job(), new_job()
    store.record_sending([unconfirmed, confirmed], NOW)
    store.mark_sent([confirmed.id], NOW)
    store.discard_unsent([unconfirmed.id, confirmed.id])
    with pytest.raises(UnknownJob):
        store.get(unconfirmed.id)
    assert store.get(confirmed.id).state == "QUEUED"


def active_holder(store, key: str) -> str | None:
    rows = list(store.query("SELECT id FROM jobs WHERE job_key = ? AND state IN ('SENDING', 'SCHEDULED', 'QUEUED', "
                            "'STARTED', 'PROGRESS', 'RETRY')", (key,)))
    return rows[0][0] if rows else None


def test_a_key_held_by_an_active_job_maps_the_new_job_to_the_holder(store):
    first = new_job(key="report-monday", eta=NOW + 60)
    assert send(store, first) == {}
    again = new_job(key="report-monday")
    assert send(store, again) == {again.id: first.id}
    with pytest.raises(UnknownJob):
        store.get(again.id)
    assert active_holder(store, "report-monday") == first.id


def test_a_key_is_free_again_once_its_job_ended(store):
    first = new_job(key="k")
    send(store, first)
    store.mark_succeeded(first.id, None, NOW + 1)
    assert active_holder(store, "k") is None
    second = new_job(key="k")
    assert send(store, second) == {}
    assert active_holder(store, "k") == second.id


def test_the_same_key_twice_in_one_batch_keeps_the_first(store):
    a, b, c = new_job(key="x"), new_job(key="x"), new_job(key="y")
    assert store.record_sending([a, b, c], NOW) == {b.id: a.id}


RACER = """
import json, sys, time, uuid
from pathlib import Path
from schedcli.store import JobStore, NewJob
url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
with JobStore.open(url) as store:
    while not go.exists():
        time.sleep(0.005)
    inserted = {}
    for i in range(250):
        job = NewJob(id=str(uuid.uuid4()), task="t", args=[name], kwargs={}, queue="q", app="a", eta=None,
                     expires=None, key=f"key-{i}")
        duplicates = store.record_sending([job], time.time())
        inserted[job.key] = duplicates.get(job.id, job.id)
        if job.id not in duplicates:
            store.mark_sent([job.id], time.time())
print(json.dumps(inserted))
"""


def test_concurrent_senders_with_the_same_keys_get_exactly_one_job_per_key(store_url, tmp_path):
    JobStore.open(store_url).close()
    go = tmp_path / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, store_url, f"p{n}", str(go)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    go.touch()
    outputs = [racer.communicate(timeout=120) for racer in racers]
    for racer, (out, err) in zip(racers, outputs):
        assert racer.returncode == 0, err
        assert "locked" not in err
    answers = [json.loads(out) for out, _ in outputs]
    with JobStore.open(store_url) as store:
        rows = list(store.query("SELECT job_key, id FROM jobs"))
    assert len(rows) == 250
    holder = dict(rows)
    for answer in answers:  # every sender was told the one job that holds each key
        assert answer == holder


# -- reading ------------------------------------------------------------------------------------

def test_get_finds_a_job_by_full_id_or_unique_prefix_of_eight(store):
    job = new_job(job_id="3f2c9a1e-aaaa-4bbb-8ccc-000000000001")
    other = new_job(job_id="3f2c9a1f-aaaa-4bbb-8ccc-000000000002")
    send(store, job, other)
    assert store.get(job.id).id == job.id
    assert store.get("3f2c9a1e").id == job.id
    assert store.get("3f2c9a1e-aa").id == job.id


def test_an_ambiguous_prefix_lists_the_matches(store):
    a = new_job(job_id="abcdef01-0000-0000-0000-000000000001")
    b = new_job(job_id="abcdef01-0000-0000-0000-000000000002")
    send(store, a, b)
    with pytest.raises(BadInput, match="ambiguous") as info:
        store.get("abcdef01")
    assert a.id in str(info.value) and b.id in str(info.value)
    assert info.value.exit_code == 2


def test_an_unknown_id_is_unknown_job_and_a_short_prefix_is_bad_input(store):
    send(store, new_job(job_id="abcdef01-0000-0000-0000-000000000001"))
    with pytest.raises(UnknownJob, match="^unknown job 99999999$") as info:
        store.get("99999999")
    assert info.value.exit_code == 3
    with pytest.raises(BadInput, match="at least 8"):
        store.get("abcdef0")


def test_an_id_with_like_wildcards_is_matched_literally(store):
    send(store, new_job(job_id="job_100%-first"), new_job(job_id="jobX100X-second"))
    assert store.get("job_100%").id == "job_100%-first"


def test_list_scheduled_shows_waiting_jobs_soonest_first(store):
    late, soon = new_job(eta=NOW + 3600), new_job(eta=NOW + 60)
    queued, running, done = new_job(), new_job(), new_job()
    retrying = new_job()
    send(store, late, soon, queued, running, done, retrying)
    store.mark_started(running.id, "w", NOW)
    store.mark_succeeded(done.id, 1, NOW)
    store.mark_started(retrying.id, "w", NOW)
    store.mark_retry(retrying.id, 1, NOW + 120, {"type": "OSError", "message": "x", "traceback": None})
    jobs = store.list_jobs(scheduled_only=True, limit=50)
    assert [j.id for j in jobs] == [queued.id, soon.id, retrying.id, late.id]
    assert [j.id for j in store.list_jobs(scheduled_only=True, limit=2)] == [queued.id, soon.id]
    assert [j.id for j in store.list_jobs(scheduled_only=True, states=["RETRY"])] == [retrying.id]


def test_list_shows_newest_first_with_filters(store):
    old = new_job(task="a")
    mid = new_job(task="b")
    new = new_job(task="a")
    send(store, old, now=NOW)
    send(store, mid, now=NOW + 10)
    send(store, new, now=NOW + 20)
    store.mark_failed(new.id, "ValueError", "bad", "Traceback...", NOW + 21)
    assert [j.id for j in store.list_jobs()] == [new.id, mid.id, old.id]
    assert [j.id for j in store.list_jobs(task="a")] == [new.id, old.id]
    assert [j.id for j in store.list_jobs(states=["QUEUED"])] == [mid.id, old.id]
    assert [j.id for j in store.list_jobs(since=NOW + 5)] == [new.id, mid.id]
    assert [j.id for j in store.list_jobs(limit=1)] == [new.id]


def test_to_json_has_every_field_with_iso_timestamps(store):
    job = new_job(eta=NOW + 60, key="k")
    send(store, job)
    store.mark_started(job.id, "w1@host", NOW + 61)
    store.mark_progress(job.id, 2, 4, "half")
    store.mark_succeeded(job.id, {"ok": True}, NOW + 63.5)
    data = store.get(job.id).to_json()
    assert data == {
        "id": job.id, "task": "schedcli.tasks.echo", "args": [1, "two"], "kwargs": {"k": True}, "key": "k",
        "queue": "schedcli", "app": "schedcli.app", "state": "SUCCESS", "eta": "2027-01-15T08:01:00+00:00",
        "expires": None, "created_at": "2027-01-15T08:00:00+00:00", "started_at": "2027-01-15T08:01:01+00:00",
        "finished_at": "2027-01-15T08:01:03.500000+00:00", "worker": "w1@host", "runtime": 2.5,
        "progress": {"current": 2, "total": 4, "step": "half"}, "retries": 0, "next_retry_at": None,
        "result": {"ok": True}, "error": None, "rescheduled_to": None, "rescheduled_from": None, "schedule": None,
        "occurrence": None, "retry_of": None, "retried_as": None,
    }


def test_query_streams_rows_of_a_read_only_query(store):
    send(store, *[new_job(task=f"t{i % 3}") for i in range(5000)])
    rows = store.query("SELECT task, COUNT(*) FROM jobs WHERE created_at >= ? GROUP BY task ORDER BY task", (NOW,))
    assert list(rows) == [("t0", 1667), ("t1", 1667), ("t2", 1666)]
    assert sum(1 for _ in store.query("SELECT id FROM jobs")) == 5000


# -- the worker's reports and steering ----------------------------------------------------------

def test_a_job_goes_through_started_progress_retry_and_fails_with_its_error(store):
    job = new_job()
    send(store, job)
    assert store.mark_started(job.id, "w1@host", NOW + 1) == "STARTED"
    assert store.mark_progress(job.id, 1, 3, "loading")
    assert store.get(job.id).state == "PROGRESS"
    assert store.mark_retry(job.id, 1, NOW + 10, {"type": "OSError", "message": "flaky", "traceback": "tb"})
    job_now = store.get(job.id)
    assert (job_now.state, job_now.retries, job_now.next_retry_at) == ("RETRY", 1, NOW + 10)
    assert store.mark_started(job.id, "w2@host", NOW + 10) == "STARTED"
    assert store.mark_failed(job.id, "ValueError", "no good", "Traceback (most recent call last):\n...", NOW + 11)
    failed = store.get(job.id)
    assert failed.state == "FAILURE" and failed.worker == "w2@host"
    assert failed.error == {"type": "ValueError", "message": "no good",
                            "traceback": "Traceback (most recent call last):\n..."}


def test_successes_written_together_each_take_unless_their_job_already_ended(store):
    running, progressing, cancelled = new_job(), new_job(), new_job()
    send(store, running, progressing, cancelled)
    store.mark_started(running.id, "w", NOW + 1)
    store.mark_started(progressing.id, "w", NOW + 1)
    store.mark_progress(progressing.id, 1, 2)
    store.cancel(cancelled.id, NOW + 1)

    written = store.mark_succeeded_many([
        Succeeded(running.id, capped_result({"n": 1}), NOW + 1.5, NOW + 2),
        Succeeded(progressing.id, capped_result([2]), None, NOW + 3),
        Succeeded(cancelled.id, capped_result(3), NOW + 1.5, NOW + 2),
        Succeeded("no-such-job", capped_result(4), None, NOW + 2),
    ])

    assert written == 2
    first, second, third = (store.get(job.id) for job in (running, progressing, cancelled))
    # The start the pool process saw replaces the gate's; without one the gate's stays.
    assert (first.state, first.result, first.started_at, first.finished_at) == ("SUCCESS", {"n": 1}, NOW + 1.5,
                                                                                 NOW + 2)
    assert (second.state, second.result, second.started_at, second.progress) == (
        "SUCCESS", [2], NOW + 1, {"current": 1, "total": 2, "step": None})
    assert (third.state, third.result, third.started_at) == ("CANCELLED", None, None)
    assert store.mark_succeeded_many([]) == 0


def test_a_failure_records_when_the_job_really_started_when_given(store):
    job, other = new_job(), new_job()
    send(store, job, other)
    store.mark_started(job.id, "w", NOW + 1)
    store.mark_started(other.id, "w", NOW + 1)
    assert store.mark_failed(job.id, "ValueError", "bad", None, NOW + 3, started_at=NOW + 2)
    assert store.mark_failed(other.id, "ValueError", "bad", None, NOW + 3)
    assert (store.get(job.id).started_at, store.get(other.id).started_at) == (NOW + 2, NOW + 1)


def test_late_reports_never_move_a_job_backwards(store):
    done, cancelled = new_job(), new_job()
    send(store, done, cancelled)
    store.mark_succeeded(done.id, "result", NOW + 2)
    assert store.mark_started(done.id, "w", NOW + 3) == "SUCCESS"
    assert not store.mark_progress(done.id, 1, 2)
    assert not store.mark_retry(done.id, 1, NOW + 9, None)
    assert not store.mark_failed(done.id, "E", "late", None, NOW + 4)
    assert not store.mark_expired(done.id, NOW + 4)
    assert store.get(done.id).state == "SUCCESS" and store.get(done.id).result == "result"

    assert store.cancel(cancelled.id, NOW + 1).state == "CANCELLED"
    assert store.mark_started(cancelled.id, "w", NOW + 2) == "CANCELLED"
    assert not store.mark_succeeded(cancelled.id, 1, NOW + 3)
    assert store.get(cancelled.id).state == "CANCELLED"
    assert store.mark_started("no-such-job", "w", NOW) is None


def test_cancel_stops_only_jobs_waiting_to_run(store):
    scheduled, running = new_job(eta=NOW + 60), new_job()
    send(store, scheduled, running)
    store.mark_started(running.id, "w", NOW)
    job = store.cancel(scheduled.id, NOW + 1)
    assert (job.state, job.finished_at) == ("CANCELLED", NOW + 1)
    assert store.cancel(running.id, NOW + 1).state == "STARTED"  # returned unchanged, for the caller to report
    with pytest.raises(UnknownJob):
        store.cancel("no-such-job", NOW)


def test_a_rescheduled_job_hands_its_key_to_its_replacement_and_is_cancelled(store):
    old, new = new_job(eta=NOW + 60, key="moving"), new_job(eta=NOW + 600)
    send(store, old, new)
    assert store.replace_waiting(old.id, new.id, NOW + 1)
    assert (store.get(old.id).state, store.get(old.id).rescheduled_to) == ("CANCELLED", new.id)
    assert (store.get(new.id).state, store.get(new.id).rescheduled_from, store.get(new.id).key) == (
        "SCHEDULED", old.id, "moving")
    assert not store.replace_waiting(old.id, new.id, NOW + 2)  # no longer waiting: nothing changes


def test_a_result_over_64_kib_is_cut_with_a_marker(store):
    small, big = new_job(), new_job()
    send(store, small, big)
    store.mark_succeeded(small.id, ["é" * 100], NOW)
    store.mark_succeeded(big.id, {"rows": ['"quoted"\n' * 20] * 1000}, NOW)
    assert store.get(small.id).result == ["é" * 100]
    result = store.get(big.id).result
    assert result[TRUNCATED] is True and result["size"] > RESULT_LIMIT
    assert result["head"].startswith('{"rows": ["\\"quoted\\"\\n')
    stored = next(iter(store.query("SELECT result FROM jobs WHERE id = ?", (big.id,))))[0]
    assert len(stored.encode("utf-8")) <= RESULT_LIMIT


def test_a_result_that_is_not_json_is_kept_as_text(store):
    job = new_job()
    send(store, job)
    store.mark_succeeded(job.id, {"when": Path("/x")}, NOW)
    assert store.get(job.id).result == {"when": "/x"}


def test_ensure_job_records_a_job_sent_by_plain_celery_once(store):
    store.ensure_job("celery-sent", "userproj.add", [2, 3], {}, "userproj", "userproj:app", None, now=NOW)
    store.ensure_job("celery-sent", "userproj.add", [9, 9], {}, "userproj", "userproj:app", None, now=NOW + 5)
    job = store.get("celery-sent")
    assert (job.state, job.args, job.created_at) == ("QUEUED", [2, 3], NOW)


# -- articles -----------------------------------------------------------------------------------

def test_articles_are_added_as_drafts_and_listed_in_order(store):
    first = store.articles.add("Launch", "body text", NOW)
    second = store.articles.add("Follow-up", None, NOW + 1)
    assert second == first + 1
    assert store.articles.get(first).to_json() == {
        "id": first, "title": "Launch", "body": "body text", "state": "draft", "publish_at": None,
        "published_at": None, "publish_job_id": None, "created_at": iso(NOW)}
    assert [a.title for a in store.articles.list()] == ["Launch", "Follow-up"]
    with pytest.raises(UnknownJob, match="^unknown article 999$"):
        store.articles.get(999)


def test_an_articles_state_follows_its_publish_job(store):
    article = store.articles.add("Launch", None, NOW)
    job = new_job(eta=NOW + 60, task="schedcli.tasks.publish_article", args=[article])
    send(store, job)
    store.articles.set_publish_job(article, job.id)
    assert (store.articles.get(article).state, store.articles.get(article).publish_at) == ("scheduled", NOW + 60)
    moved = new_job(eta=NOW + 600, task="schedcli.tasks.publish_article", args=[article])
    send(store, moved)
    store.replace_waiting(job.id, moved.id, NOW + 1)  # rescheduled: the article follows the new job
    assert (store.articles.get(article).state, store.articles.get(article).publish_at) == ("scheduled", NOW + 600)
    store.cancel(moved.id, NOW + 2)
    assert (store.articles.get(article).state, store.articles.get(article).publish_at) == ("draft", None)


def test_an_article_is_published_exactly_once(store):
    article = store.articles.add("Launch", None, NOW)
    job = new_job(eta=NOW + 60, task="schedcli.tasks.publish_article", args=[article])
    send(store, job)
    store.articles.set_publish_job(article, job.id)
    assert store.articles.publish(article, job.id, NOW + 61) == (True, NOW + 61)
    assert store.articles.publish(article, "another-job", NOW + 99) == (False, NOW + 61)
    store.articles.set_publish_job(article, "job-2")
    published = store.articles.get(article)
    assert (published.state, published.publish_job_id, published.publish_at) == ("published", job.id, NOW + 60)
    with pytest.raises(UnknownJob, match="unknown article 404"):
        store.articles.publish(404, None, NOW)
    with pytest.raises(UnknownJob, match="unknown article 404"):
        store.articles.set_publish_job(404, "job-3")


PUBLISHER = """
import sys, time
from pathlib import Path
from schedcli.store import JobStore
url, article, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
with JobStore.open(url) as store:
    while not go.exists():
        time.sleep(0.005)
    print(store.articles.publish(article, None, time.time())[0])
"""


def test_concurrent_publishers_publish_an_article_once(store_url, tmp_path):
    with JobStore.open(store_url) as store:
        article = store.articles.add("Launch", None, NOW)
    go = tmp_path / "go"
    publishers = [subprocess.Popen([sys.executable, "-c", PUBLISHER, store_url, str(article), str(go)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    go.touch()
    results = [publisher.communicate(timeout=60) for publisher in publishers]
    assert all(publisher.returncode == 0 for publisher in publishers), results
    assert sorted(out.strip() for out, _ in results) == ["False", "False", "False", "True"]


def test_an_outcome_holding_half_a_surrogate_pair_is_stored_with_it_made_visible(store):
    done, failed = new_job(), new_job()
    send(store, done, failed)
    assert store.mark_succeeded(done.id, {"text": "half \ud800 pair"}, NOW + 1)
    assert store.mark_failed(failed.id, "ValueError", "lone \udc80", "Traceback ...\nValueError: lone \udc80\n",
                             NOW + 1)
    assert store.get(done.id).result == {"text": "half \\ud800 pair"}
    error = store.get(failed.id).error
    assert (error["message"], error["traceback"]) == ("lone \\udc80", "Traceback ...\nValueError: lone \\udc80\n")


def test_a_retry_reported_after_the_retry_already_ran_keeps_the_count_and_the_end(store):
    job = new_job()
    send(store, job)
    store.mark_started(job.id, "w1", NOW + 1)
    store.mark_succeeded(job.id, "second time lucky", NOW + 2)  # the retry, run by another process, came first
    assert not store.mark_retry(job.id, 1, NOW + 1, {"type": "OSError", "message": "not yet"})
    done = store.get(job.id)
    assert (done.state, done.retries, done.result) == ("SUCCESS", 1, "second time lucky")


def test_a_second_copy_of_a_running_job_does_not_start_it_again_but_a_redelivery_does(store):
    from schedcli.store.jobs import ALREADY_RUNNING

    job = new_job()
    send(store, job)
    assert store.mark_started(job.id, "w1", NOW + 1, may_restart=False) == "STARTED"
    assert store.mark_started(job.id, "w2", NOW + 2, may_restart=False) == ALREADY_RUNNING
    assert store.get(job.id).worker == "w1"
    assert store.mark_started(job.id, "w2", NOW + 3, may_restart=True) == "STARTED"  # w1 died with it
    assert store.get(job.id).worker == "w2"


def test_cancel_matching_cancels_the_selected_waiting_jobs_a_batch_at_a_time_and_nothing_else(store):
    later = NOW + 3600
    chosen = [new_job(task="proj.newsletter", eta=later) for _ in range(7)]
    other_task = new_job(task="proj.report", eta=later)
    queued = new_job(task="proj.newsletter")
    older = new_job(task="proj.newsletter", eta=later)
    send(store, older, now=NOW - 7200)
    send(store, *chosen, other_task, queued)
    running = new_job(task="proj.newsletter")
    send(store, running)
    store.mark_started(running.id, "w0@box", NOW)

    assert store.count_waiting(["SCHEDULED"], task="proj.newsletter", since=NOW - 60) == 7
    batches = list(store.cancel_matching(["SCHEDULED"], NOW + 1, task="proj.newsletter", since=NOW - 60, batch=3))
    assert batches == [3, 3, 1]
    assert {store.get(job.id).state for job in chosen} == {"CANCELLED"}
    assert {store.get(job.id).finished_at for job in chosen} == {NOW + 1}
    assert [store.get(job.id).state for job in (other_task, queued, older, running)] == [
        "SCHEDULED", "QUEUED", "SCHEDULED", "STARTED"]
    assert store.count_waiting(["SCHEDULED", "QUEUED"], task="proj.newsletter") == 2
    assert sum(store.cancel_matching(["SCHEDULED", "QUEUED"], NOW + 2, task="proj.newsletter")) == 2
    assert store.get(running.id).state == "STARTED"
