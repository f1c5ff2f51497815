"""Jobs in the store: one durable record per job (what was asked, its state, its outcome).

It is the one answer to "what is scheduled, what ran, what failed": sending writes a job before
RabbitMQ confirms it (SENDING) and marks it SCHEDULED or QUEUED once confirmed; the worker hooks
report STARTED, PROGRESS, RETRY, SUCCESS, FAILURE, EXPIRED; `cancel` writes CANCELLED, which the
worker checks before running a job. There is no Celery result backend, so there is no second answer.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from schedcli.exceptions import BadInput, UnknownJob
from schedcli.store.articles import ArticleStore
from schedcli.store.connection import Database, connect
from schedcli.store.metrics import MetricsQueries
from schedcli.store.reporting import ReportQueries
from schedcli.store.schedules import ScheduleStore, occurrence_conflicts, occurrence_holders, skip_if_overlapping
from schedcli.store.schema import (
    ACTIVE, PENDING, PENDING_STATES, SELECT_JOB, SENDING_BY_ID, ensure_schema, iso, schema_version,
)

MIN_PREFIX = 8  # characters of an id that may stand for it, like git's short hashes
RESULT_LIMIT = 64 * 1024  # bytes of a job's result kept, as JSON
TRUNCATED = "schedcli_truncated"  # the key marking a result cut to RESULT_LIMIT
# What `mark_started` answers for a second copy of a job that is running now.
ALREADY_RUNNING = "ALREADY_RUNNING"
# States a job starts from on a first delivery: waiting to run, or sent but not yet confirmed.
WAITING = "('SENDING', 'SCHEDULED', 'QUEUED', 'RETRY')"
PRUNE_BATCH = 500  # jobs deleted per transaction: on a million-row SQLite store, tens of milliseconds each
PRUNE_PAUSE_LIMIT = 0.1  # seconds: SQLite's longest wait between two tries of a waiting writer
CANCEL_BATCH = 1000  # jobs cancelled per transaction by `cancel_matching`, likewise


_HALF_PAIR = re.compile("[\ud800-\udfff]")


def storable(text: str | None) -> str | None:
    """`text` with each half of a surrogate pair written out as `\\udXXX`: no database stores a lone one.

    A user's task can return or raise such text (Python allows it); refusing it would lose the job's end.
    """
    if text is None or text.isascii():
        return text
    return _HALF_PAIR.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _dumps(value: Any) -> str:
    # Results of a user's tasks may hold anything; show what cannot be JSON as its str().
    text = json.dumps(value, ensure_ascii=False, default=str)
    if text.isascii():
        return text
    # In JSON a backslash is written twice: the half pair reads back as the visible text `\udXXX`.
    return _HALF_PAIR.sub(lambda match: f"\\\\u{ord(match.group()):04x}", text)


def capped_result(value: Any) -> str:
    """`value` as JSON, or, when that is over RESULT_LIMIT bytes, a marker object holding its start."""
    text = _dumps(value)
    data = text.encode("utf-8")
    if len(data) <= RESULT_LIMIT:
        return text
    keep = RESULT_LIMIT - 256
    while True:  # escaping can make the head longer than the bytes cut; shrink until it fits
        head = data[:keep].decode("utf-8", errors="ignore")
        marker = _dumps({TRUNCATED: True, "size": len(data), "head": head})
        if len(marker.encode("utf-8")) <= RESULT_LIMIT:
            return marker
        keep = keep * RESULT_LIMIT // len(marker.encode("utf-8")) - 256


_MARK_SUCCEEDED = ("UPDATE jobs SET state = 'SUCCESS', finished_at = ?, result = ?, "
                  "started_at = COALESCE(?, started_at), next_retry_at = NULL, error_type = NULL, "
                  f"error_message = NULL, traceback = NULL WHERE id = ? AND state IN {ACTIVE}")


@dataclass(frozen=True)
class Succeeded:
    """A job's success as its worker reports it: the result already made JSON by `capped_result`."""

    job_id: str
    result_json: str
    started_at: float | None
    finished_at: float


@dataclass
class NewJob:
    """A job about to be sent; `eta`/`expires` are epoch seconds UTC, None meaning now / never."""

    id: str
    task: str
    args: list
    kwargs: dict
    queue: str
    app: str
    eta: float | None
    expires: float | None
    key: str | None
    # An occurrence of a recurring schedule: recorded only while that schedule still has this revision
    # and is not paused, and only once per (schedule, occurrence). A manual run has no occurrence.
    schedule: str | None = None
    occurrence: int | None = None
    schedule_revision: int | None = None
    retry_of: str | None = None
    payload_json: tuple[str, str] | None = None  # args and kwargs as JSON text already (JobRequest.payload_json)


@dataclass
class Job:
    """One job as the store records it; timestamps are epoch seconds UTC."""

    id: str
    task: str
    args: list
    kwargs: dict
    key: str | None
    queue: str
    app: str
    state: str
    eta: float | None
    expires: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    worker: str | None
    progress: dict | None
    retries: int
    next_retry_at: float | None
    result: Any
    error: dict | None
    rescheduled_to: str | None
    rescheduled_from: str | None
    schedule: str | None = None  # the recurring schedule it was sent for
    occurrence: int | None = None  # the schedule's occurrence (epoch seconds) it runs
    sender: str | None = None  # while SENDING: "host pid start" of the process sending it
    lease_until: float | None = None  # while SENDING: after this, its sender counts as gone wherever it ran
    retry_of: str | None = None
    retried_as: str | None = None

    @classmethod
    def from_row(cls, row: Sequence) -> Job:
        (id_, task, args, kwargs, key, queue, app, state, eta, expires, created_at, started_at, finished_at,
         worker, progress, retries, next_retry_at, result, error_type, error_message, traceback,
         rescheduled_to, rescheduled_from, schedule, occurrence, sender, lease_until, retry_of, retried_as) = row
        error = None
        if error_type is not None:
            error = {"type": error_type, "message": error_message, "traceback": traceback}
        return cls(
            id=id_, task=task, args=json.loads(args), kwargs=json.loads(kwargs), key=key, queue=queue, app=app,
            state=state, eta=eta, expires=expires, created_at=created_at, started_at=started_at,
            finished_at=finished_at, worker=worker, progress=json.loads(progress) if progress else None,
            retries=retries, next_retry_at=next_retry_at, result=json.loads(result) if result else None,
            error=error, rescheduled_to=rescheduled_to, rescheduled_from=rescheduled_from,
            schedule=schedule, occurrence=occurrence, sender=sender, lease_until=lease_until,
            retry_of=retry_of, retried_as=retried_as,
        )

    @classmethod
    def sent(cls, new_job: NewJob, created_at: float, now: float) -> Job:
        """The record of `new_job` once `mark_sent(..., now)` marked it, without reading it back."""
        state = "SCHEDULED" if new_job.eta is not None and new_job.eta > now else "QUEUED"
        return cls(
            id=new_job.id, task=new_job.task, args=new_job.args, kwargs=new_job.kwargs, key=new_job.key,
            queue=new_job.queue, app=new_job.app, state=state, eta=new_job.eta, expires=new_job.expires,
            created_at=created_at, started_at=None, finished_at=None, worker=None, progress=None, retries=0,
            next_retry_at=None, result=None, error=None, rescheduled_to=None, rescheduled_from=None,
            schedule=new_job.schedule, occurrence=new_job.occurrence, retry_of=new_job.retry_of,
        )

    @property
    def runtime(self) -> float | None:
        """Seconds from start to finish, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def due_at(self) -> float:
        """When it is (or was) due to run: the next try while retrying, else the time asked, else when sent."""
        if self.state == "RETRY" and self.next_retry_at is not None:
            return self.next_retry_at
        return self.eta if self.eta is not None else self.created_at

    def to_json(self) -> dict:
        return {
            "id": self.id, "task": self.task, "args": self.args, "kwargs": self.kwargs, "key": self.key,
            "queue": self.queue, "app": self.app, "state": self.state, "eta": iso(self.eta),
            "expires": iso(self.expires), "created_at": iso(self.created_at), "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at), "worker": self.worker, "runtime": self.runtime,
            "progress": self.progress, "retries": self.retries, "next_retry_at": iso(self.next_retry_at),
            "result": self.result, "error": self.error, "rescheduled_to": self.rescheduled_to,
            "rescheduled_from": self.rescheduled_from, "schedule": self.schedule,
            "occurrence": iso(self.occurrence), "retry_of": self.retry_of, "retried_as": self.retried_as,
        }


_MARK_SENT = ("UPDATE jobs SET state = CASE WHEN eta IS NOT NULL AND eta > ? THEN 'SCHEDULED' ELSE 'QUEUED' END, "
              "sender = NULL, lease_until = NULL")


@dataclass(frozen=True)
class _RecordedRows:
    """A batch `record_sending` recorded in SQLite: its rows' rowids first..last, its job ids, who sent it and when."""

    first: int
    last: int
    ids: frozenset[str]
    sender: str | None
    created_at: float


class JobStore:
    """The job store of one database URL; open with `JobStore.open(url)`, use as a context manager."""

    def __init__(self, database: Database):
        self._db = database
        self.articles = ArticleStore(database)
        self.reporting = ReportQueries(database)
        self.schedules = ScheduleStore(database, Job.from_row)
        self.metrics = MetricsQueries(database)
        # SQLite: the rows (first and last rowid) of the last batches `record_sending` recorded, for `mark_sent`.
        self._recorded_rows: deque[_RecordedRows] = deque(maxlen=4)

    @classmethod
    def open(cls, database_url: str, wait_for_disk: bool = True, bulk_writes: bool = False) -> JobStore:
        """Connect; create the schema on first use. One query when it exists. DatabaseError when unusable.

        `wait_for_disk=False` is for the worker's many small reports: a commit returns before it
        reaches the disk, which made a worker start 1.7x as many jobs a second. A crash of the
        machine (not of the process) may lose the last few reports, never corrupt the store.
        `bulk_writes` is for a send of many batches, whose jobs land all over the indexes: SQLite
        keeps 64 MB of the store in memory instead of 2 (a tenth less of the sender's CPU at 100,000 jobs).
        """
        store = cls(connect(database_url))
        try:
            if not wait_for_disk:
                store._db.skip_waiting_for_disk()
            if bulk_writes:
                store._db.keep_more_pages(64)
            ensure_schema(store._db)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def schema_version(self) -> int | None:
        return schema_version(self._db)

    # -- raw reads (the report) -----------------------------------------------------------------

    def query(self, sql: str, params: Sequence = ()) -> Iterator[tuple]:
        """Stream the rows of a read-only query written with `?` placeholders, a batch at a time.

        While iterating, use the store for nothing else: on PostgreSQL the rows come from a server-side
        cursor, which ends with the transaction another statement would end.
        """
        return self._db.stream(sql, params)

    # -- dispatch -------------------------------------------------------------------------------

    def record_sending(self, jobs: list[NewJob], now: float, sender: str | None = None,
                       lease_until: float | None = None) -> dict[str, str]:
        """Record `jobs` as SENDING by `sender` (until `lease_until`) in one transaction. A job whose key an
        active job holds is not recorded: the result maps its id to the holder's id (only for those). So is an
        occurrence of a schedule that another sender recorded already; one whose schedule was paused or changed
        since it was computed maps to None."""
        occurrences = [job for job in jobs if job.occurrence is not None]
        keys = sorted({job.key for job in jobs if job.key is not None})
        recorded_rows = None
        with self._db.transaction() as tx:
            refused = occurrence_conflicts(tx, occurrences, lock=not self._db.sqlite)
            rows = [(job.id, job.task, *(job.payload_json or (_dumps(job.args), _dumps(job.kwargs))), job.key,
                     job.queue, job.app, "SENDING", job.eta, job.expires, now, job.schedule, job.occurrence, sender,
                     lease_until, job.retry_of)
                    for job in jobs if job.id not in refused]
            last_rowid_before = self._last_rowid(tx)
            # The partial unique index turns a second active job with the same key into a no-op insert, and
            # the unique (schedule, occurrence) a second copy of an occurrence.
            tx.insert_many(
                "INSERT INTO jobs (id, task, args, kwargs, job_key, queue, app, state, eta, expires, created_at, "
                "schedule, occurrence, sender, lease_until, retry_of) VALUES", rows, "ON CONFLICT DO NOTHING")
            holders: dict[str, str] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                holders.update((key, job_id) for job_id, key in tx.fetch(
                    f"SELECT id, job_key FROM jobs WHERE job_key IN ({', '.join('?' * len(chunk))}) "
                    f"AND state IN {ACTIVE}", chunk))
            duplicates = {}
            for job in jobs:
                if job.key is None:
                    continue
                holder = holders.get(job.key)
                if holder is None:  # the holder finished between our insert and this read
                    latest = tx.fetch("SELECT id FROM jobs WHERE job_key = ? ORDER BY created_at DESC LIMIT 1",
                                      (job.key,))
                    holder = latest[0][0] if latest else job.id
                if holder != job.id:
                    duplicates[job.id] = holder
            duplicates.update(refused)
            duplicates.update(occurrence_holders(tx, [job for job in occurrences if job.id not in refused]))
            if last_rowid_before is not None:
                recorded = frozenset(row[0] for row in rows if row[0] not in duplicates)
                last_rowid = self._last_rowid(tx)
                # Rowids are handed out one after the other: a range holding as many as were recorded is theirs.
                if recorded and last_rowid - last_rowid_before == len(recorded):
                    recorded_rows = _RecordedRows(last_rowid_before + 1, last_rowid, recorded, sender, now)
        if recorded_rows is not None:
            self._recorded_rows.append(recorded_rows)
        return duplicates

    def _last_rowid(self, tx) -> int | None:
        """SQLite: the highest rowid of jobs (0 for none); None elsewhere."""
        return tx.fetch("SELECT coalesce(max(rowid), 0) FROM jobs")[0][0] if self._db.sqlite else None

    def unconfirmed(self, ids: list[str] | None = None) -> list[Job]:
        """Jobs still SENDING: of `ids`, or all of them (oldest first)."""
        if ids is None:
            rows = self._db.fetch(f"{SELECT_JOB} WHERE state = 'SENDING' ORDER BY created_at")
            return [Job.from_row(row) for row in rows]
        jobs = []
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            jobs.extend(Job.from_row(row) for row in self._db.fetch(
                f"{SELECT_JOB} WHERE {SENDING_BY_ID.format(', '.join('?' * len(chunk)))}", chunk))
        return jobs

    def take_over_sending(self, job: Job, sender: str, lease_until: float) -> bool:
        """Make `sender` the one sending `job` (a SENDING job whose sender is gone), unless another took it first."""
        with self._db.transaction() as tx:
            return tx.execute(
                "UPDATE jobs SET sender = ?, lease_until = ? WHERE id = ? AND state = 'SENDING' "
                "AND (sender = ? OR (sender IS NULL AND ? IS NULL))",
                (sender, lease_until, job.id, job.sender, job.sender)) == 1

    def mark_sent(self, ids: list[str], now: float) -> None:
        """RabbitMQ confirmed these: SENDING becomes SCHEDULED (due later) or QUEUED (due now)."""
        if not ids:
            return
        with self._db.transaction() as tx:
            rest = self._mark_recorded_rows_sent(tx, ids, now) if self._recorded_rows else ids
            tx.execute_in(f"{_MARK_SENT} WHERE {SENDING_BY_ID}", rest, (now,))

    def _mark_recorded_rows_sent(self, tx, ids: list[str], now: float) -> list[str]:
        """Mark sent, by their range of rows, the batches recorded here whose every job is in `ids`: a fifth of
        a bulk send's store time went on finding each id. The ids of other batches are returned."""
        rest = set(ids)
        for batch in list(self._recorded_rows):
            if batch.ids.isdisjoint(rest):
                continue
            self._recorded_rows.remove(batch)
            if batch.ids <= rest:
                # sender and created_at tell these rows from any that took the rowid of one deleted meanwhile
                tx.execute(f"{_MARK_SENT} WHERE rowid BETWEEN ? AND ? AND state = 'SENDING' AND sender IS ? "
                           "AND created_at = ?", (now, batch.first, batch.last, batch.sender, batch.created_at))
                rest -= batch.ids
        return list(rest)

    def mark_unconfirmed(self, ids: list[str], now: float) -> None:
        """These were on their way when the connection failed: RabbitMQ may hold them though it never confirmed.
        Recorded CANCELLED (not forgotten), so a copy that did arrive is skipped by every worker rather than run
        beside the job sent again; their keys are free."""
        if not ids:
            return
        with self._db.transaction() as tx:
            # occurrence = NULL: the next top-up sends that occurrence again (this copy, if it arrived, is skipped).
            tx.execute_in("UPDATE jobs SET state = 'CANCELLED', finished_at = ?, error_type = ?, error_message = ?, "
                          f"occurrence = NULL WHERE {SENDING_BY_ID}", ids,
                          (now, "schedcli.exceptions.BrokerUnavailable",
                           "not sent: the connection to RabbitMQ failed before RabbitMQ confirmed it"))

    def discard_unsent(self, ids: list[str]) -> None:
        """RabbitMQ did not confirm these: forget the ones still SENDING."""
        if not ids:
            return
        with self._db.transaction() as tx:
            tx.execute_in(f"DELETE FROM jobs WHERE {SENDING_BY_ID}", ids)

    # -- reading --------------------------------------------------------------------------------

    def _find(self, job_id: str) -> Job | None:
        rows = self._db.fetch(f"{SELECT_JOB} WHERE id = ?", (job_id,))
        return Job.from_row(rows[0]) if rows else None

    def get(self, id_or_prefix: str) -> Job:
        """The job with this id, or the one whose id starts with this prefix of 8 or more characters."""
        job = self._find(id_or_prefix)
        if job is not None:
            return job
        if len(id_or_prefix) < MIN_PREFIX:
            raise BadInput(f"no job has the id {id_or_prefix!r}; give the full id or at least "
                           f"{MIN_PREFIX} of its first characters")
        # A range of the primary key's index: every id starting with the prefix sorts between these two.
        rows = self._db.fetch("SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT 11",
                              (id_or_prefix, id_or_prefix + "\U0010ffff"))
        if not rows:
            raise UnknownJob(f"unknown job {id_or_prefix}")
        if len(rows) > 1:
            shown = ", ".join(row[0] for row in rows[:10]) + (", ..." if len(rows) > 10 else "")
            raise BadInput(f"job id prefix {id_or_prefix!r} is ambiguous; it matches {shown}")
        return self._find(rows[0][0])

    def list_jobs(self, states: list[str] | None = None, task: str | None = None, since: float | None = None,
                  scheduled_only: bool = False, limit: int = 50) -> list[Job]:
        """Jobs matching every filter given. `scheduled_only`: the ones waiting to run, soonest due first;
        otherwise newest first. `since` keeps jobs created at or after it."""
        filters, params = self._task_and_since(task, since)
        if not scheduled_only:
            if states:
                filters.append(f"state IN ({', '.join('?' * len(states))})")
                params.extend(states)
            where = f"WHERE {' AND '.join(filters)}" if filters else ""
            rows = self._db.fetch(f"{SELECT_JOB} {where} ORDER BY created_at DESC LIMIT ?", (*params, limit))
            return [Job.from_row(row) for row in rows]
        # One query per waiting state, each read in the order of the (state, eta) index (QUEUED jobs are
        # all due already; RETRY ones are few), merged by due time.
        order = {"SCHEDULED": "eta", "QUEUED": "eta", "RETRY": "next_retry_at"}
        jobs: list[Job] = []
        for state in PENDING_STATES:
            if states and state not in states:
                continue
            where = " AND ".join(["state = ?", *filters])
            rows = self._db.fetch(f"{SELECT_JOB} WHERE {where} ORDER BY {order[state]} LIMIT ?",
                                  (state, *params, limit))
            jobs.extend(Job.from_row(row) for row in rows)
        jobs.sort(key=lambda job: job.due_at)
        return jobs[:limit]

    # -- steering -------------------------------------------------------------------------------

    def cancel(self, job_id: str, now: float) -> Job:
        """Cancel a job waiting to run (SCHEDULED, QUEUED, RETRY); return it, in its new state or, if it was
        in another, unchanged. The worker checks this state before it runs a job."""
        with self._db.transaction() as tx:
            tx.execute(f"UPDATE jobs SET state = 'CANCELLED', finished_at = ? WHERE id = ? AND state IN {PENDING}",
                       (now, job_id))
        job = self._find(job_id)
        if job is None:
            raise UnknownJob(f"unknown job {job_id}")
        return job

    def _update(self, assignments: str, params: Sequence, job_id: str, from_states: str = ACTIVE) -> bool:
        return self._db.write_one(f"UPDATE jobs SET {assignments} WHERE id = ? AND state IN {from_states}",
                                  (*params, job_id)) == 1

    def mark_started(self, job_id: str, worker: str | None, now: float, may_restart: bool = True) -> str | None:
        """A worker starts the job. Returns its state afterwards (STARTED unless it had already ended),
        or None when the store has no such job. An occurrence of an `--overlap skip` schedule whose previous
        run is still running becomes SKIPPED instead.

        A job already running starts again only when `may_restart`: a message RabbitMQ redelivered (its
        worker died with it) or the job's own retry; a second copy of the same id (sent again after a killed
        sender) gets ALREADY_RUNNING."""
        starts_from = ACTIVE if may_restart else WAITING
        # Most jobs are no schedule's: one statement starts them. The cancel gate runs this for every job in the
        # worker's consumer loop, where the three statements of the transaction below cost a burst a tenth of it.
        if self._db.write_one(f"UPDATE jobs SET state = 'STARTED', worker = ?, started_at = ? "
                              f"WHERE id = ? AND schedule IS NULL AND state IN {starts_from}",
                              (worker, now, job_id)) == 1:
            return "STARTED"
        with self._db.transaction() as tx:
            if skip_if_overlapping(tx, job_id, now):
                return "SKIPPED"
            if tx.execute(f"UPDATE jobs SET state = 'STARTED', worker = ?, started_at = ? "
                          f"WHERE id = ? AND state IN {starts_from}", (worker, now, job_id)) == 1:
                return "STARTED"
            rows = tx.fetch("SELECT state FROM jobs WHERE id = ?", (job_id,))
        if rows and not may_restart and rows[0][0] in ("STARTED", "PROGRESS"):
            return ALREADY_RUNNING
        return rows[0][0] if rows else None

    def mark_progress(self, job_id: str, current: int | float, total: int | float | None,
                      step: str | None = None) -> bool:
        progress = _dumps({"current": current, "total": total, "step": step})
        return self._update("state = 'PROGRESS', progress = ?", (progress,), job_id,
                            from_states="('STARTED', 'PROGRESS')")

    def mark_retry(self, job_id: str, retries: int, next_retry_at: float | None, error: dict | None) -> bool:
        """The job failed and will be tried again at `next_retry_at`; `error` is {"type", "message", "traceback"}."""
        error = error or {}
        if self._update(
                "state = 'RETRY', retries = ?, next_retry_at = ?, error_type = ?, error_message = ?, traceback = ?",
                (retries, next_retry_at, storable(error.get("type")), storable(error.get("message")),
                 storable(error.get("traceback"))), job_id):
            return True
        # A retry due at once can run, and even end, on another worker process before this report is
        # written: the job keeps its newer state, but not a lower count of tries.
        with self._db.transaction() as tx:
            tx.execute("UPDATE jobs SET retries = ? WHERE id = ? AND retries < ?", (retries, job_id, retries))
        return False

    def mark_succeeded(self, job_id: str, result: Any, now: float, started_at: float | None = None) -> bool:
        """The job returned `result` at `now`; see `mark_succeeded_many`."""
        return self.mark_succeeded_many([Succeeded(job_id, capped_result(result), started_at, now)]) == 1

    def mark_succeeded_many(self, ends: Sequence[Succeeded]) -> int:
        """Record these successes in one transaction; how many jobs took theirs (a job that ended already, or
        that the store never saw, is left as it is). A worker's main process writes them a batch at a time.

        `started_at`, when given, replaces the start the cancel gate recorded: it is when the job's code
        really began in its pool process."""
        with self._db.transaction() as tx:
            return sum(tx.execute(_MARK_SUCCEEDED, (end.finished_at, end.result_json, end.started_at, end.job_id))
                       for end in ends)

    def mark_failed(self, job_id: str, error_type: str, message: str, traceback: str | None, now: float,
                    started_at: float | None = None) -> bool:
        """The job raised at `now`; `started_at` as for `mark_succeeded_many`."""
        return self._update(
            "state = 'FAILURE', finished_at = ?, started_at = COALESCE(?, started_at), next_retry_at = NULL, "
            "error_type = ?, error_message = ?, traceback = ?",
            (now, started_at, storable(error_type), storable(message), storable(traceback)), job_id)

    def mark_expired(self, job_id: str, now: float) -> bool:
        return self._update("state = 'EXPIRED', finished_at = ?", (now,), job_id)

    def mark_cancelled(self, job_id: str, now: float) -> bool:
        """Revoked in Celery (e.g. `celery control revoke`, or terminated while running)."""
        return self._update("state = 'CANCELLED', finished_at = ?", (now,), job_id)

    def ensure_job(self, job_id: str, task: str, args: list, kwargs: dict, queue: str, app: str,
                   eta: float | None, expires: float | None = None, now: float | None = None) -> None:
        """Record a job sent by plain Celery (`apply_async`, `celery call`), SCHEDULED or QUEUED as it is due;
        a job the store knows is left alone."""
        now = time.time() if now is None else now
        state = "SCHEDULED" if eta is not None and eta > now else "QUEUED"
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO jobs (id, task, args, kwargs, queue, app, state, eta, expires, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (job_id, storable(task), _dumps(list(args)), _dumps(dict(kwargs)), queue, app, state, eta, expires,
                 now))

    @staticmethod
    def _task_and_since(task: str | None, since: float | None) -> tuple[list[str], list]:
        """SQL conditions (and their parameters) for jobs of `task` created at or after `since`, either optional."""
        conditions, params = [], []
        if task is not None:
            conditions.append("task = ?")
            params.append(task)
        if since is not None:
            conditions.append("created_at >= ?")
            params.append(since)
        return conditions, params

    def _waiting_filter(self, states: Sequence[str], task: str | None, since: float | None) -> tuple[str, tuple]:
        conditions, params = self._task_and_since(task, since)
        return " AND ".join([f"state IN ({', '.join('?' * len(states))})", *conditions]), (*states, *params)

    def count_waiting(self, states: Sequence[str], task: str | None = None, since: float | None = None) -> int:
        """Jobs in one of `states` (waiting states), of `task`, sent since `since`: what `cancel_matching` would cancel."""
        where, params = self._waiting_filter(states, task, since)
        [(count,)] = self._db.fetch(f"SELECT COUNT(*) FROM jobs WHERE {where}", params)
        return count

    def cancel_matching(self, states: Sequence[str], now: float, task: str | None = None, since: float | None = None,
                        batch: int = CANCEL_BATCH) -> Iterator[int]:
        """Cancel the jobs `count_waiting` counts, `batch` at a time, each in a transaction of its own (senders and
        workers wait for one short batch at most); yields how many each batch cancelled. The outer condition is
        checked again on each row, so a job a worker started meanwhile is left alone."""
        where, params = self._waiting_filter(states, task, since)
        while True:
            with self._db.transaction() as tx:
                cancelled = tx.execute(
                    f"UPDATE jobs SET state = 'CANCELLED', finished_at = ? WHERE {where} "
                    f"AND id IN (SELECT id FROM jobs WHERE {where} LIMIT ?)", (now, *params, *params, batch))
            if cancelled <= 0:
                return
            yield cancelled

    def count_finished(self, before: float, states: Sequence[str]) -> int:
        """Jobs in one of `states` (final states) that ended before `before`: what `prune` would delete."""
        [(count,)] = self._db.fetch(
            f"SELECT COUNT(*) FROM jobs WHERE finished_at < ? AND state IN ({', '.join('?' * len(states))})",
            (before, *states))
        return count

    def prune(self, before: float, states: Sequence[str], batch: int = PRUNE_BATCH) -> Iterator[int]:
        """Delete the jobs `count_finished` counts, `batch` at a time, each in a transaction of its own, so a
        sender or worker waits for one short batch at most; yields how many each batch deleted."""
        marks = ", ".join("?" * len(states))
        while True:
            started = time.monotonic()
            with self._db.transaction() as tx:
                deleted = tx.execute(
                    f"DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < ? AND state IN ({marks}) "
                    "LIMIT ?)", (before, *states, batch))
            if deleted <= 0:
                return
            yield deleted
            # SQLite does not queue writers: one that waits polls, at intervals up to about half of what it has
            # waited (at most 100 ms). A pause as long as the batch lets it in before the next batch starts.
            time.sleep(min(time.monotonic() - started, PRUNE_PAUSE_LIMIT))

    def link_retry(self, old_id: str, new_id: str) -> None:
        """`new_id` retries `old_id` (it was recorded with `retry_of`): the old job points to it."""
        with self._db.transaction() as tx:
            tx.execute("UPDATE jobs SET retried_as = ? WHERE id = ?", (new_id, old_id))

    # -- rescheduling (status/list/cancel/reschedule) -------------------------------------------

    def replace_waiting(self, old_id: str, new_id: str, now: float) -> bool:
        """`new_id` (already sent) replaces `old_id`: in one transaction, if `old_id` is still waiting to run,
        cancel it, hand its key to `new_id` and link the two. False, and nothing changed, when it is not."""
        with self._db.transaction() as tx:
            if tx.execute(f"UPDATE jobs SET state = 'CANCELLED', finished_at = ?, rescheduled_to = ? "
                          f"WHERE id = ? AND state IN {PENDING}", (now, new_id, old_id)) != 1:
                return False
            # The old job is no longer active, so the partial unique index lets the new one hold its key.
            tx.execute("UPDATE jobs SET rescheduled_from = ?, job_key = (SELECT job_key FROM jobs WHERE id = ?) "
                       "WHERE id = ?", (old_id, old_id, new_id))
        return True
