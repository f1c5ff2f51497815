"""Recurring schedules in the store: one row per schedule, and the SQL that keeps its occurrences exactly-once.

Each occurrence is an ordinary job with `schedule` and `occurrence` set; the unique index on the two
(schema.py) means no occurrence is ever recorded twice, whoever sends it. A schedule's `revision`
changes when it is paused or replaced: an occurrence computed under an older revision is refused at
the insert, in the same transaction that checks the revision (on PostgreSQL the schedule's row is
locked FOR SHARE meanwhile, so a pause waits for that insert and then cancels what it recorded).
Cancelling an occurrence sent ahead also frees its (schedule, occurrence) slot, so a resume or a
replacement may send that moment again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from schedcli.exceptions import BadInput, UnknownSchedule
from schedcli.store.connection import Database, Transaction
from schedcli.store.schema import SELECT_JOB

# Sent ahead and not started: what a pause, a replacement or a removal cancels.
WAITING = "('SENDING', 'SCHEDULED', 'QUEUED', 'RETRY')"
RUNNING = "('STARTED', 'PROGRESS', 'RETRY')"
FINISHED = 2 ** 62  # `sent_until` of a schedule past its --until: nothing more to send

SCHEDULE_COLUMNS = ("name", "recurrence", "timezone", "task", "args", "kwargs", "queue", "expires_after", "catch_up",
                    "overlap", "start_at", "until_at", "app", "key_prefix", "paused", "revision", "sent_until", "created_at", "updated_at")
SELECT_SCHEDULE = f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM schedules"


@dataclass
class Schedule:
    """One schedule as stored. Times are epoch seconds UTC; `sent_until` is the latest occurrence sent ahead."""

    name: str
    recurrence: str
    timezone: str
    task: str
    args: list
    kwargs: dict
    queue: str | None
    expires_after: float | None
    catch_up: str
    overlap: str
    start_at: int
    until_at: int | None
    app: str = "schedcli.app"  # the Celery app whose workers top it up (the settings' `app` when it was added)
    key_prefix: str | None = None  # each occurrence's job key is `<prefix><occurrence, ISO 8601 UTC>`
    paused: bool = False
    revision: int = 1
    sent_until: int | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_row(cls, row: Sequence) -> Schedule:
        values = dict(zip(SCHEDULE_COLUMNS, row))
        values["args"], values["kwargs"] = json.loads(values["args"]), json.loads(values["kwargs"])
        values["paused"] = bool(values["paused"])
        return cls(**values)

    def row(self) -> tuple:
        return (self.name, self.recurrence, self.timezone, self.task, json.dumps(self.args, ensure_ascii=False),
                json.dumps(self.kwargs, ensure_ascii=False), self.queue, self.expires_after, self.catch_up,
                self.overlap, self.start_at, self.until_at, self.app, self.key_prefix, int(self.paused), self.revision, self.sent_until,
                self.created_at, self.updated_at)


def occurrence_conflicts(tx: Transaction, jobs: list, lock: bool) -> dict[str, None]:
    """{id: None} for each occurrence whose schedule is gone, paused, or at another revision than it was computed at."""
    if not jobs:
        return {}
    names = sorted({job.schedule for job in jobs})
    live: dict[str, int] = {}
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        live.update(tx.fetch(f"SELECT name, revision FROM schedules WHERE name IN ({', '.join('?' * len(chunk))}) "
                             f"AND paused = 0{' FOR SHARE' if lock else ''}", chunk))
    return {job.id: None for job in jobs if live.get(job.schedule) != job.schedule_revision}


def occurrence_holders(tx: Transaction, jobs: list) -> dict[str, str]:
    """{id: holder's id} for occurrences another sender had recorded already (their insert did nothing)."""
    if not jobs:
        return {}
    ids = [job.id for job in jobs]
    present: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        present.update(row[0] for row in tx.fetch(f"SELECT id FROM jobs WHERE id IN ({', '.join('?' * len(chunk))})",
                                                  chunk))
    holders = {}
    for job in jobs:
        if job.id not in present:
            rows = tx.fetch("SELECT id FROM jobs WHERE schedule = ? AND occurrence = ?", (job.schedule, job.occurrence))
            if rows:
                holders[job.id] = rows[0][0]
    return holders


def skip_if_overlapping(tx: Transaction, job_id: str, now: float) -> bool:
    """Mark the job SKIPPED when it is an occurrence of an `--overlap skip` schedule whose previous run still runs."""
    return tx.execute(
        "UPDATE jobs SET state = 'SKIPPED', finished_at = ?, error_type = 'schedcli.Skipped', "
        "error_message = 'skipped: the previous run of its schedule was still running' "
        "WHERE id = ? AND schedule IS NOT NULL AND state IN ('SENDING', 'SCHEDULED', 'QUEUED') "
        "AND EXISTS (SELECT 1 FROM schedules s WHERE s.name = jobs.schedule AND s.overlap = 'skip') "
        f"AND EXISTS (SELECT 1 FROM jobs r WHERE r.schedule = jobs.schedule AND r.id <> jobs.id AND r.state IN {RUNNING})",
        (now, job_id)) == 1


def _cancel_waiting(tx: Transaction, name: str, now: float) -> int:
    """Cancel the occurrences `name` sent ahead (the worker's gate then skips them) and free their slots."""
    return tx.execute(
        "UPDATE jobs SET state = 'CANCELLED', finished_at = ?, occurrence = NULL "
        f"WHERE schedule = ? AND occurrence IS NOT NULL AND state IN {WAITING}", (now, name))


class ScheduleStore:
    """The schedules of one job store (`JobStore.schedules`)."""

    def __init__(self, database: Database, job_from_row):
        self._db = database
        self._job = job_from_row  # `Job.from_row` (store.jobs imports this module, not the other way round)

    def add(self, schedule: Schedule, replace: bool, now: float) -> tuple[Schedule, int]:
        """Record a new schedule, or with `replace` change an existing one (a new revision, occurrences sent
        ahead cancelled). Returns it as stored and how many occurrences were cancelled. BadInput when the name
        is taken and `replace` is false."""
        schedule.created_at = schedule.updated_at = now
        with self._db.transaction() as tx:
            inserted = tx.execute(f"INSERT INTO schedules ({', '.join(SCHEDULE_COLUMNS)}) VALUES "
                                  f"({', '.join('?' * len(SCHEDULE_COLUMNS))}) ON CONFLICT DO NOTHING",
                                  schedule.row()) == 1
            if inserted:
                return schedule, 0
            if not replace:
                raise BadInput(f"a schedule named {schedule.name!r} exists; give --replace to change it, "
                               f"or `schedcli schedule remove {schedule.name}` first")
            [(revision, created_at)] = tx.fetch("SELECT revision, created_at FROM schedules WHERE name = ?",
                                                (schedule.name,))
            schedule.revision, schedule.created_at = revision + 1, created_at
            assignments = ", ".join(f"{column} = ?" for column in SCHEDULE_COLUMNS[1:])
            tx.execute(f"UPDATE schedules SET {assignments} WHERE name = ?", (*schedule.row()[1:], schedule.name))
            return schedule, _cancel_waiting(tx, schedule.name, now)

    def get(self, name: str) -> Schedule:
        rows = self._db.fetch(f"{SELECT_SCHEDULE} WHERE name = ?", (name,))
        if not rows:
            raise UnknownSchedule(f"unknown schedule {name!r}; `schedcli schedule list` shows them")
        return Schedule.from_row(rows[0])

    def all(self) -> list[Schedule]:
        return [Schedule.from_row(row) for row in self._db.fetch(f"{SELECT_SCHEDULE} ORDER BY name")]

    def due(self, app: str, before: float, after_name: str = "", limit: int = 500) -> list[Schedule]:
        """`app`'s active schedules whose occurrences sent ahead end before `before`, a page at a time (by name)."""
        rows = self._db.fetch(f"{SELECT_SCHEDULE} WHERE paused = 0 AND (sent_until IS NULL OR sent_until < ?) "
                              "AND app = ? AND name > ? ORDER BY name LIMIT ?", (before, app, after_name, limit))
        return [Schedule.from_row(row) for row in rows]

    def advance(self, cursors: list[tuple[str, int, int]]) -> None:
        """Move each (name, revision, sent_until) forward, unless the schedule changed or another sender got further."""
        if not cursors:
            return
        with self._db.transaction() as tx:
            for name, revision, sent_until in cursors:
                tx.execute("UPDATE schedules SET sent_until = ? WHERE name = ? AND revision = ? "
                           "AND (sent_until IS NULL OR sent_until < ?)", (sent_until, name, revision, sent_until))

    def pause(self, name: str, now: float) -> tuple[Schedule, int]:
        """Pause: a new revision (so no sender records more), and what was sent ahead cancelled, in one transaction.
        Missed occurrences are counted from now on resume. Returns the schedule and how many were cancelled."""
        with self._db.transaction() as tx:
            if tx.execute("UPDATE schedules SET paused = 1, revision = revision + 1, updated_at = ?, "
                          "sent_until = CASE WHEN sent_until IS NULL OR sent_until > ? THEN ? ELSE sent_until END "
                          "WHERE name = ? AND paused = 0", (now, int(now), int(now), name)) == 1:
                cancelled = _cancel_waiting(tx, name, now)
            else:
                cancelled = 0
        return self.get(name), cancelled

    def resume(self, name: str, now: float) -> Schedule:
        with self._db.transaction() as tx:
            tx.execute("UPDATE schedules SET paused = 0, updated_at = ? WHERE name = ?", (now, name))
        return self.get(name)

    def remove(self, name: str, now: float) -> int:
        """Delete the schedule and cancel what it sent ahead; its past runs keep its name. How many were cancelled."""
        with self._db.transaction() as tx:
            if tx.execute("DELETE FROM schedules WHERE name = ?", (name,)) != 1:
                raise UnknownSchedule(f"unknown schedule {name!r}; `schedcli schedule list` shows them")
            return _cancel_waiting(tx, name, now)

    def last_run(self, name: str):
        """The latest occurrence that started, ended or was skipped, as a `Job` (None before the first)."""
        rows = self._db.fetch(f"{SELECT_JOB} WHERE schedule = ? AND state NOT IN ('SENDING', 'SCHEDULED', 'QUEUED') "
                              "AND (occurrence IS NOT NULL OR started_at IS NOT NULL) "
                              "ORDER BY COALESCE(started_at, finished_at) DESC LIMIT 1", (name,))
        return self._job(rows[0]) if rows else None

    def waiting(self, name: str, limit: int = 20) -> list:
        """Occurrences sent ahead and waiting to run, soonest first."""
        rows = self._db.fetch(f"{SELECT_JOB} WHERE schedule = ? AND state IN ('SENDING', 'SCHEDULED', 'QUEUED') "
                              "ORDER BY eta LIMIT ?", (name, limit))
        return [self._job(row) for row in rows]

    def recent_runs(self, name: str, limit: int = 10) -> list:
        """The schedule's latest runs (started, ended, skipped), newest first."""
        rows = self._db.fetch(f"{SELECT_JOB} WHERE schedule = ? AND state NOT IN ('SENDING', 'SCHEDULED', 'QUEUED') "
                              "AND (occurrence IS NOT NULL OR started_at IS NOT NULL) "
                              "ORDER BY COALESCE(started_at, finished_at, created_at) DESC LIMIT ?", (name, limit))
        return [self._job(row) for row in rows]
