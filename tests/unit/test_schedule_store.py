"""Schedules in the SQLite store, the top-up's plan, and the schedule commands' bad input (no services).

The unique (schedule, occurrence) is the exactly-once guarantee: these tests record the same
occurrence twice, under a stale revision, and after a pause, and see what the store lets through.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from schedcli.schedules.topup import plan
from schedcli.store import JobStore, NewJob, Schedule
from schedcli.store.schema import SCHEMA_VERSION

NOW = 1_800_000_000  # Fri 15 Jan 2027 08:00:00 UTC


@pytest.fixture
def store(database_url):
    with JobStore.open(database_url) as opened:
        yield opened


def a_schedule(name="pulse", every="every 2s", start=NOW, **fields) -> Schedule:
    values = dict(name=name, recurrence=every, timezone="UTC", task="schedcli.tasks.echo", args=["x"], kwargs={},
                  queue=None, expires_after=None, catch_up="last", overlap="allow", start_at=start, until_at=None)
    values.update(fields)
    return Schedule(**values)


def occurrence_job(schedule: Schedule, occurrence: int, revision: int | None = None) -> NewJob:
    return NewJob(id=str(uuid.uuid4()), task=schedule.task, args=["x"], kwargs={}, queue="schedcli",
                  app="schedcli.app", eta=float(occurrence), expires=None, key=None, schedule=schedule.name,
                  occurrence=occurrence, schedule_revision=schedule.revision if revision is None else revision)


def test_an_occurrence_is_recorded_once_whoever_records_it(store):
    schedule, _ = store.schedules.add(a_schedule(), replace=False, now=NOW)
    first, second, same_batch = (occurrence_job(schedule, NOW + 2) for _ in range(3))
    assert store.record_sending([first], NOW) == {}
    assert store.record_sending([second, same_batch], NOW) == {second.id: first.id, same_batch.id: first.id}
    assert [row[0] for row in store.query("SELECT id FROM jobs")] == [first.id]


def test_an_occurrence_computed_before_a_pause_or_a_replacement_is_refused(store):
    schedule, _ = store.schedules.add(a_schedule(), replace=False, now=NOW)
    stale = occurrence_job(schedule, NOW + 2)
    store.schedules.pause(schedule.name, NOW)
    assert store.record_sending([stale], NOW) == {stale.id: None}
    replaced, _ = store.schedules.add(a_schedule(every="every 5s"), replace=True, now=NOW)
    assert replaced.revision == schedule.revision + 2
    assert store.record_sending([occurrence_job(schedule, NOW + 4)], NOW) != {}
    assert list(store.query("SELECT COUNT(*) FROM jobs")) == [(0,)]


def test_pause_cancels_what_was_sent_ahead_and_frees_its_slots(store):
    schedule, _ = store.schedules.add(a_schedule(), replace=False, now=NOW)
    ahead = [occurrence_job(schedule, NOW + n) for n in (2, 4)]
    store.record_sending(ahead, NOW)
    store.mark_sent([job.id for job in ahead], NOW)
    paused, cancelled = store.schedules.pause(schedule.name, NOW + 1)
    assert (paused.paused, cancelled, paused.sent_until) == (True, 2, NOW + 1)
    assert {store.get(job.id).state for job in ahead} == {"CANCELLED"}
    assert store.mark_started(ahead[0].id, "w@box", NOW + 2) == "CANCELLED"  # the worker's gate skips it
    resumed = store.schedules.resume(schedule.name, NOW + 3)
    again = occurrence_job(resumed, NOW + 4)
    assert store.record_sending([again], NOW + 3) == {}  # the moment can be sent again after the resume


def test_a_taken_name_needs_replace_and_an_unknown_one_is_exit_3(store):
    from schedcli.exceptions import BadInput, UnknownSchedule

    store.schedules.add(a_schedule(), replace=False, now=NOW)
    with pytest.raises(BadInput, match="--replace"):
        store.schedules.add(a_schedule(), replace=False, now=NOW)
    for action in (store.schedules.get, lambda name: store.schedules.pause(name, NOW),
                   lambda name: store.schedules.remove(name, NOW)):
        with pytest.raises(UnknownSchedule) as caught:
            action("nope")
        assert caught.value.exit_code == 3


def test_overlap_skip_records_a_run_skipped_while_the_previous_one_runs(store):
    schedule, _ = store.schedules.add(a_schedule(overlap="skip"), replace=False, now=NOW)
    first, second = occurrence_job(schedule, NOW), occurrence_job(schedule, NOW + 2)
    store.record_sending([first, second], NOW - 10)
    store.mark_sent([first.id, second.id], NOW - 10)
    assert store.mark_started(first.id, "w@box", NOW) == "STARTED"
    assert store.mark_started(first.id, "w@box", NOW) == "STARTED"  # the prerun report changes nothing
    assert store.mark_started(second.id, "w@box", NOW + 2) == "SKIPPED"
    store.mark_succeeded(first.id, "ok", NOW + 3)
    third = occurrence_job(schedule, NOW + 4)
    store.record_sending([third], NOW)
    assert store.mark_started(third.id, "w@box", NOW + 4) == "STARTED"


def test_a_version_2_store_is_migrated_to_schedules(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path)
    connection.executescript("""
        CREATE TABLE schedcli_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO schedcli_meta VALUES ('schema_version', '2');
        CREATE TABLE jobs (id TEXT PRIMARY KEY, task TEXT NOT NULL, args TEXT NOT NULL, kwargs TEXT NOT NULL,
            job_key TEXT, queue TEXT NOT NULL, app TEXT NOT NULL, state TEXT NOT NULL, eta DOUBLE PRECISION,
            expires DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION, worker TEXT, progress TEXT, retries INTEGER NOT NULL DEFAULT 0,
            next_retry_at DOUBLE PRECISION, result TEXT, error_type TEXT, error_message TEXT, traceback TEXT,
            rescheduled_to TEXT, rescheduled_from TEXT);
        INSERT INTO jobs (id, task, args, kwargs, queue, app, state, created_at)
            VALUES ('old-job', 't', '[]', '{}', 'q', 'a', 'SUCCESS', 1.0);
        CREATE TABLE articles (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT,
            published_at DOUBLE PRECISION, publish_job_id TEXT, created_at DOUBLE PRECISION NOT NULL);
    """)
    connection.close()
    with JobStore.open(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert (store.get("old-job").schedule, store.get("old-job").occurrence) == (None, None)
        schedule, _ = store.schedules.add(a_schedule(), replace=False, now=NOW)
        job = occurrence_job(schedule, NOW)
        assert store.record_sending([job], NOW) == {}
        again = occurrence_job(schedule, NOW)
        assert store.record_sending([again], NOW) == {again.id: job.id}


# -- the top-up's plan: what is sent, what is caught up -------------------------------------------

def test_plan_sends_the_horizon_and_the_next_occurrence_beyond_it():
    requests, cursor, skipped = plan(a_schedule(sent_until=None), now=NOW, horizon=5)
    assert [request.occurrence for request in requests] == [NOW, NOW + 2, NOW + 4, NOW + 6]
    assert [request.eta for request in requests] == [NOW, NOW + 2, NOW + 4, NOW + 6]
    assert (cursor, skipped) == (NOW + 6, 0)


@pytest.mark.parametrize("policy, caught_up, skipped", [("none", [], 5), ("last", [NOW + 8], 4),
                                                        ("all", [NOW, NOW + 2, NOW + 4, NOW + 6, NOW + 8], 0)])
def test_catch_up_after_an_outage_longer_than_the_horizon(policy, caught_up, skipped):
    """Nobody topped up since NOW - 1: at NOW + 9 the occurrences NOW..NOW+8 were never sent."""
    requests, cursor, missed_skipped = plan(a_schedule(catch_up=policy, sent_until=NOW - 1), now=NOW + 9, horizon=3)
    now_runs = [request.occurrence for request in requests if request.eta is None]
    assert now_runs == caught_up
    assert [request.occurrence for request in requests if request.eta is not None] == [NOW + 10, NOW + 12, NOW + 14]
    assert (cursor, missed_skipped) == (NOW + 14, skipped)


def test_plan_stops_at_until_and_counts_expiry_from_each_occurrence():
    requests, cursor, _ = plan(a_schedule(until_at=NOW + 4, expires_after=30.0), now=NOW, horizon=60)
    assert [(request.occurrence, request.expires) for request in requests] == [
        (NOW, NOW + 30), (NOW + 2, NOW + 32), (NOW + 4, NOW + 34)]
    assert cursor == 2 ** 62


def test_plan_of_a_calendar_schedule_uses_its_zone():
    weekly = a_schedule(every="every monday 9am", timezone="Europe/Berlin", start=NOW)
    [request] = plan(weekly, now=NOW, horizon=600)[0]
    assert request.occurrence == NOW + 3 * 86400  # Mon 18 Jan 2027 09:00 CET


# -- the commands: bad input stores and sends nothing ---------------------------------------------

@pytest.mark.parametrize("args, code", [
    (["schedule", "add", "p", "--every", "blursday 9am", "schedcli.tasks.echo"], 2),
    (["schedule", "add", "p", "--every", "15m", "schedcli.tasks.nope"], 2),
    (["schedule", "add", "bad name", "--every", "15m", "schedcli.tasks.echo"], 2),
    (["schedule", "add", "p", "--every", "15m", "schedcli.tasks.echo", "--kwargs", "[1]"], 2),
    (["schedule", "add", "p", "--every", "15m", "schedcli.tasks.echo", "--catch-up", "some"], 2),
    (["schedule", "add", "p", "--every", "0s", "schedcli.tasks.echo"], 2),
    (["schedule", "add", "p", "--every", "15m", "schedcli.tasks.echo", "--until", "in 1s", "--start", "in 1h"], 2),
    (["schedule", "pause", "nope"], 3), (["schedule", "resume", "nope"], 3), (["schedule", "remove", "nope"], 3),
    (["schedule", "show", "nope"], 3), (["schedule", "run", "nope"], 3),
])
def test_bad_input_is_one_line_with_its_exit_code_and_nothing_is_stored(cli_runner, database_url, args, code):
    # The broker is not running here: each must fail before RabbitMQ is needed.
    result = cli_runner("--broker", "amqp://guest:guest@127.0.0.1:1//", *args)
    assert result.exit_code == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with JobStore.open(database_url) as store:
        assert store.schedules.all() == []
        assert list(store.query("SELECT COUNT(*) FROM jobs")) == [(0,)]


def test_a_duplicate_name_without_replace_is_exit_2_before_rabbitmq(cli_runner, store):
    store.schedules.add(a_schedule(), replace=False, now=NOW)
    result = cli_runner("--broker", "amqp://guest:guest@127.0.0.1:1//", "schedule", "add", "pulse", "--every",
                        "15m", "schedcli.tasks.echo")
    assert result.exit_code == 2
    assert "--replace" in result.stderr
    assert store.schedules.get("pulse").recurrence == "every 2s"


def test_a_broker_that_is_down_leaves_no_new_schedule_behind(cli_runner, database_url):
    result = cli_runner("--broker", "amqp://guest:guest@127.0.0.1:1//", "schedule", "add", "p", "--every", "15m",
                        "schedcli.tasks.echo")
    assert result.exit_code == 69
    with JobStore.open(database_url) as store:
        assert store.schedules.all() == []


# -- status, list and the report say which schedule a job ran for ---------------------------------

def test_status_list_and_the_report_show_the_schedule(cli_runner, store, tmp_path):
    from schedcli.report import build_report

    schedule, _ = store.schedules.add(a_schedule(), replace=False, now=NOW)
    jobs = [occurrence_job(schedule, NOW + n) for n in (0, 2)]
    store.record_sending(jobs, NOW - 1)
    store.mark_sent([job.id for job in jobs], NOW - 1)
    store.mark_started(jobs[0].id, "w@box", NOW)
    store.mark_succeeded(jobs[0].id, "ok", NOW + 0.5)

    status = cli_runner("status", jobs[0].id, "--json")
    assert (json.loads(status.stdout)["schedule"], json.loads(status.stdout)["occurrence"]) == (
        "pulse", "2027-01-15T08:00:00+00:00")
    shown = cli_runner("status", jobs[0].id)
    assert "schedule  pulse, occurrence Fri 15 Jan 08:00:00 UTC" in shown.stdout
    listed = cli_runner("list").stdout.splitlines()
    assert listed[0].split()[-1] == "schedule" and all(line.split()[-1] == "pulse" for line in listed[1:])

    build_report(store, job_id="r1", period_seconds=86400, formats={"csv"}, reports_dir=tmp_path, now=NOW + 60,
                 progress=lambda *_: None)
    csv_text = (tmp_path / "r1.csv").read_text()
    assert "runs_by_schedule,pulse,SUCCESS,1" in csv_text and "runs_by_schedule,pulse,SCHEDULED,1" in csv_text


def test_schedule_list_json_shows_next_and_last_run(cli_runner, store):
    schedule, _ = store.schedules.add(a_schedule(every="every monday 9am", start=NOW), replace=False, now=NOW)
    result = cli_runner("schedule", "list", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert (row["name"], row["recurrence"], row["timezone"], row["paused"], row["last_run"]) == (
        "pulse", "every monday 9am", "UTC", False, None)
    assert len(row["next"]) == 1


def test_a_key_prefix_gives_each_occurrence_its_own_key():
    [request] = plan(a_schedule(key_prefix="pulse@", sent_until=NOW - 1), now=NOW, horizon=1)[0][:1]
    assert request.key == "pulse@2027-01-15T08:00:00+00:00"


def test_a_worker_tops_up_only_its_own_apps_schedules(store):
    store.schedules.add(a_schedule(name="mine"), replace=False, now=NOW)
    store.schedules.add(a_schedule(name="theirs", app="hookproj:app"), replace=False, now=NOW)
    assert [schedule.name for schedule in store.schedules.due("schedcli.app", NOW + 600)] == ["mine"]


@pytest.mark.parametrize("every, down, policy, missed", [
    ("every 1s", 365 * 86400, "last", 365 * 86400 - 1),
    ("every 1s", 365 * 86400, "all", 365 * 86400 - 1),
    ("* * * * *", 30 * 86400, "last", 30 * 1440 - 1),
])
def test_a_long_outage_is_caught_up_at_once_without_walking_it(every, down, policy, missed, monkeypatch):
    """A year without a worker: one top-up decides the catch-up. An interval is counted, not walked; a cron line
    is walked at most MAX_STEPS occurrences."""
    from schedcli.schedules import topup

    walked = []

    def counted(walk):
        def occurrences(*args):
            for occurrence in walk(*args):
                walked.append(occurrence)
                yield occurrence
        return occurrences

    monkeypatch.setattr(topup, "occurrences_after", counted(topup.occurrences_after))
    monkeypatch.setattr(topup, "occurrences_before", counted(topup.occurrences_before))
    schedule = a_schedule(every=every, catch_up=policy, start=NOW - down - 60, sent_until=NOW - down)
    requests, cursor, skipped = plan(schedule, now=NOW, horizon=2)
    assert len(walked) < (300 if every == "every 1s" else topup.MAX_STEPS + 300)
    caught_up = [request.occurrence for request in requests if request.eta is None]
    latest = NOW - 1 if every == "every 1s" else NOW - 60
    assert caught_up[-1] == latest and len(caught_up) == (100 if policy == "all" else 1)
    assert skipped + len(caught_up) == missed
    assert all(request.occurrence >= NOW for request in requests if request.eta is not None)
    assert cursor > NOW + 2
