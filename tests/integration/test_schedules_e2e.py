"""Recurring schedules end to end: real RabbitMQ, real `schedcli worker start` processes, the SQLite store.

Workers here top up every second with a 4 s horizon (the defaults are 30 s and 600 s), so that an
outage longer than the horizon fits in a test. What a test waits for it polls with a deadline; the
only plain waits are the outages and pauses themselves, which are spans of time by definition.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from helpers import HOOKPROJ, open_store
from schedcli.store import FINAL_STATES, Job, JobStore
from schedcli.store.schema import SELECT_JOB

pytestmark = pytest.mark.broker

WORKER = ("--top-up-every", "1", "--horizon", "4")
EVERY = 2  # seconds: the interval these tests use (the smallest allowed is 1 s)


def schedule_jobs(database_url: str, name: str) -> list[Job]:
    with JobStore.open(database_url) as store:
        return [Job.from_row(row) for row in store.query(f"{SELECT_JOB} WHERE schedule = ? ORDER BY created_at",
                                                         (name,))]


def wait_until(condition, timeout: float, what: str, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout}s: {what}")
        time.sleep(poll)


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def add(cli_runner, name: str, *args: str, app=()):
    result = cli_runner(*app, "schedule", "add", name, "--every", f"{EVERY}s", "--horizon", "4", *args)
    assert result.exit_code == 0, result.stderr
    with open_store() as store:
        return store.schedules.get(name)


@pytest.mark.slow
def test_two_workers_run_every_occurrence_exactly_once_and_on_time(start_worker, cli_runner, database_url):
    """Two workers both top up `every 2s` for 30 s: each occurrence runs once, none early, p99 lateness < 100 ms."""
    workers = [start_worker(*WORKER), start_worker(*WORKER)]
    schedule = add(cli_runner, "pulse", "schedcli.tasks.echo", "beat", "--until", "in 31s")
    expected = list(range(schedule.start_at, schedule.until_at + 1, EVERY))
    assert len(expected) >= 15

    def all_ended():
        jobs = schedule_jobs(database_url, "pulse")
        ended = {job.occurrence for job in jobs if job.state in FINAL_STATES}
        return jobs if ended >= set(expected) else None

    jobs = wait_until(all_ended, timeout=schedule.until_at - time.time() + 20, what="every occurrence ended")
    assert sorted(job.occurrence for job in jobs) == expected  # one job per occurrence, no more
    assert {job.state for job in jobs} == {"SUCCESS"}
    lateness = sorted(job.started_at - job.occurrence for job in jobs)
    assert lateness[0] >= 0, f"an occurrence ran {-lateness[0]:.3f} s early"
    p99 = lateness[math.ceil(0.99 * len(lateness)) - 1]
    assert p99 < 0.1, f"p99 lateness {p99 * 1000:.1f} ms; all: {[round(x * 1000, 1) for x in lateness]}"
    for worker in workers:
        assert "Schedules not topped up" not in worker.log
    assert sum("Schedules topped up" in worker.log for worker in workers) >= 1

    # `list` and `status` say which schedule an occurrence belongs to
    listed = cli_runner("list", "--limit", "3").stdout.splitlines()
    assert listed[0].split()[-1] == "schedule" and listed[1].split()[-1] == "pulse"
    assert "schedule  pulse, occurrence" in cli_runner("status", jobs[0].id).stdout


@pytest.mark.slow
def test_sent_ahead_occurrences_survive_sigkill_and_catch_up_last_runs_once(start_worker, cli_runner,
                                                                            database_url):
    """All workers SIGKILLed: what was sent ahead runs when one returns; after a longer outage, one catch-up."""
    worker = start_worker(*WORKER)
    add(cli_runner, "beat", "schedcli.tasks.echo", "beat", "--catch-up", "last")
    wait_until(lambda: sum(job.state == "SUCCESS" for job in schedule_jobs(database_url, "beat")) >= 2,
               timeout=20, what="two runs before the kill")
    worker.kill()
    killed_at = time.time()
    with open_store() as store:
        sent_until = store.schedules.get("beat").sent_until
    waiting = [job for job in schedule_jobs(database_url, "beat") if job.state in ("SCHEDULED", "QUEUED")]
    assert waiting and max(job.occurrence for job in waiting) == sent_until
    assert sent_until > killed_at  # sent ahead, due during the outage

    sleep_until(sent_until + 4 * EVERY + 0.5)  # the outage: at least four occurrences nobody sent
    start_worker(*WORKER)
    returned_at = time.time()

    def caught_up():
        jobs = schedule_jobs(database_url, "beat")
        catch_ups = [job for job in jobs if job.occurrence and job.occurrence > sent_until and job.eta is None]
        ahead_done = all(job.state == "SUCCESS" for job in jobs if job.id in {w.id for w in waiting})
        return (jobs, catch_ups) if catch_ups and ahead_done and all(
            job.state in FINAL_STATES for job in catch_ups) else None

    jobs, [catch_up] = wait_until(caught_up, timeout=30, what="the sent-ahead runs and one catch-up")
    for job in waiting:  # each ran once, late, on the returned worker
        ran = [other for other in jobs if other.occurrence == job.occurrence]
        assert [other.state for other in ran] == ["SUCCESS"]
        assert ran[0].started_at > returned_at
    missed = [occurrence for occurrence in range(sent_until + EVERY, catch_up.occurrence + 1, EVERY)]
    assert len(missed) >= 4
    assert catch_up.occurrence == missed[-1] and catch_up.state == "SUCCESS"
    assert not [job for job in jobs if job.occurrence in missed[:-1]], "a missed occurrence ran besides the catch-up"
    # and the schedule goes on from there
    wait_until(lambda: any(job.occurrence and job.occurrence > catch_up.occurrence and job.state == "SUCCESS"
                           for job in schedule_jobs(database_url, "beat")), timeout=15, what="a run after the catch-up")


@pytest.mark.slow
def test_pause_stops_even_what_was_sent_ahead_and_resume_continues(start_worker, cli_runner, database_url):
    """No run starts after `pause` returns, not even of occurrences already in RabbitMQ; `resume` goes on."""
    start_worker(*WORKER)
    add(cli_runner, "pp", "schedcli.tasks.echo", "pp", "--catch-up", "none")
    wait_until(lambda: sum(job.state == "SUCCESS" for job in schedule_jobs(database_url, "pp")) >= 2,
               timeout=20, what="two runs before the pause")
    result = cli_runner("schedule", "pause", "pp")
    paused_at = time.time()
    assert result.exit_code == 0, result.stderr
    cancelled = [job for job in schedule_jobs(database_url, "pp") if job.state == "CANCELLED"]
    assert cancelled and result.stdout.startswith(f"Paused schedule pp; {len(cancelled)} occurrence(s)")

    sleep_until(max(job.eta for job in cancelled) + 1.5)  # every cancelled occurrence was due meanwhile
    jobs = schedule_jobs(database_url, "pp")
    assert not [job for job in jobs if job.started_at and job.started_at > paused_at]
    assert {job.state for job in jobs if job.id in {c.id for c in cancelled}} == {"CANCELLED"}

    result = cli_runner("schedule", "resume", "pp", "--horizon", "4")
    resumed_at = time.time()
    assert result.exit_code == 0, result.stderr
    wait_until(lambda: sum(job.state == "SUCCESS" and job.started_at > resumed_at
                           for job in schedule_jobs(database_url, "pp")) >= 2, timeout=20, what="runs after resume")
    assert not [job for job in schedule_jobs(database_url, "pp") if job.eta is None]  # catch-up none: no extra run


@pytest.mark.slow
def test_overlap_skip_records_skipped_runs_while_one_still_runs(start_worker, cli_runner, database_url, tmp_path):
    """`--overlap skip`: occurrences due while the previous run holds are SKIPPED (shown by `list`), not run."""
    worker = start_worker(*WORKER, app_args=HOOKPROJ)
    release = tmp_path / "release"
    add(cli_runner, "slow", "hookproj.steps", str(release), "--overlap", "skip", app=HOOKPROJ)
    try:
        wait_until(lambda: sum(job.state == "SKIPPED" for job in schedule_jobs(database_url, "slow")) >= 2,
                   timeout=25, what="two skipped runs")
    except AssertionError as exc:
        states = [(job.occurrence, job.state) for job in schedule_jobs(database_url, "slow")]
        raise AssertionError(f"{exc}; the schedule's jobs: {states}; worker log:\n{worker.log}") from None
    release.write_text("go")
    jobs = wait_until(lambda: [job for job in schedule_jobs(database_url, "slow") if job.state == "SUCCESS"],
                      timeout=20, what="the long run finished")
    assert cli_runner("schedule", "remove", "slow").exit_code == 0
    jobs = schedule_jobs(database_url, "slow")
    skipped = [job for job in jobs if job.state == "SKIPPED"]
    assert all(job.started_at is None for job in skipped)
    first = min((job for job in jobs if job.state == "SUCCESS"), key=lambda job: job.occurrence)
    assert all(job.occurrence > first.occurrence for job in skipped)
    assert "SKIPPED" in cli_runner("--app", "hookproj:app", "list", "--state", "SKIPPED").stdout


def test_tick_replace_run_and_report_every_without_a_worker(cli_runner, broker_url, database_url):
    """No worker at all: `add` sends ahead, `tick` tops up, `--replace` re-sends, `run` sends one now."""
    add(cli_runner, "pulse", "schedcli.tasks.echo", "x")

    def waiting():
        return [job for job in schedule_jobs(database_url, "pulse") if job.state == "SCHEDULED"]

    first = waiting()
    assert first and all((job.occurrence - first[0].occurrence) % EVERY == 0 for job in first)
    result = cli_runner("schedule", "tick", "--horizon", "20", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sent"] >= 5
    assert len(waiting()) >= len(first) + 5

    result = cli_runner("schedule", "add", "pulse", "--every", "5s", "--horizon", "4", "--replace",
                        "schedcli.tasks.echo", "y")
    assert result.exit_code == 0, result.stderr
    assert "cancelled" in result.stderr
    now_waiting = waiting()
    assert now_waiting and {job.args[0] for job in now_waiting} == {"y"}
    assert all((job.occurrence - now_waiting[0].occurrence) % 5 == 0 for job in now_waiting)

    result = cli_runner("schedule", "run", "pulse", "-q")
    assert result.exit_code == 0, result.stderr
    [by_hand] = [job for job in schedule_jobs(database_url, "pulse") if job.id == result.stdout.strip()]
    assert (by_hand.schedule, by_hand.occurrence, by_hand.state) == ("pulse", None, "QUEUED")

    for _ in range(2):  # running it again updates the same schedule
        result = cli_runner("report", "run", "--every", "monday 9am", "-q")
        assert (result.exit_code, result.stdout) == (0, "report-7d-both\n"), result.stderr
    [report] = [job for job in schedule_jobs(database_url, "report-7d-both") if job.state == "SCHEDULED"]
    assert (report.task, report.args) == ("schedcli.tasks.generate_report", ["7d", "both"])
