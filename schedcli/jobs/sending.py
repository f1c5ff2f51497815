"""Send jobs: record them, publish them with confirms, and report each one's id only once both held.

The order matters: the broker connection is opened first (a broker that is down leaves the store
untouched); each job is recorded as SENDING before it is published, becomes SCHEDULED or QUEUED
once RabbitMQ confirmed it, and its record is removed when RabbitMQ refused it or it never left.
A job that was on the wire when the connection failed may have reached RabbitMQ unconfirmed: it
is recorded CANCELLED, so workers skip that copy; the send then goes on over a new connection, to
the next node of a failover list first, and only when none answers are the remaining jobs reported
as not sent. So a job the store shows as scheduled is one
RabbitMQ holds, and a job reported as not sent never runs.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from schedcli.amqp.publisher import Publisher, PublishOutcome, TaskMessage
from schedcli.exceptions import BrokerUnavailable, DatabaseError
from schedcli.jobs.requests import JobRequest
from schedcli.jobs.senders import SENDING_LEASE, sender_is_gone, this_sender
from schedcli.amqp.routes import BUNDLED_TASK_NAMES, Route, bundled_route, check_task_name, user_route, user_task_names
from schedcli.settings import Settings
from schedcli.store import Job, JobStore, NewJob

BATCH = 5000  # jobs recorded per store transaction in a bulk send
# Why an occurrence of a recurring schedule was not sent: paused or replaced after it was computed.
SCHEDULE_CHANGED = "its schedule was paused or changed meanwhile"


def new_job_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as `str(uuid.uuid4())` writes them, in a sixth of its time."""
    digits = os.urandom(16 * count).hex()
    return [f"{uuid[:8]}-{uuid[8:12]}-4{uuid[13:16]}-{_RFC_4122_VARIANT[uuid[16]]}{uuid[17:20]}-{uuid[20:]}"
            for uuid in (digits[start:start + 32] for start in range(0, 32 * count, 32))]


# The variant's two top bits are 10: a random hex digit becomes 8, 9, a or b.
_RFC_4122_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


@dataclass
class Dispatched:
    """What became of one request: its job and id, whether it already existed (same key), or why it was not sent.

    `job` is the store's record of a sent job (the existing one for a held key), None when not sent.
    """

    request: JobRequest
    job_id: str | None = None
    existing: bool = False
    error: str | None = None
    resent: bool = False  # the job holding its key was left unconfirmed by a killed sender, and is sent again now
    _job: Job | None = field(default=None, repr=False)
    _recorded: NewJob | None = field(default=None, repr=False)
    _recorded_at: float = field(default=0.0, repr=False)
    _sent_at: float | None = field(default=None, repr=False)

    @classmethod
    def of_job(cls, request: JobRequest, job: Job, existing: bool) -> Dispatched:
        """A request sent elsewhere (`schedcli serve`'s sending process), with the job it was sent as."""
        return cls(request, job_id=job.id, existing=existing, _job=job)

    @property
    def job(self) -> Job | None:
        # A new job's record is made when asked for: a bulk send printing only ids never needs it.
        if self._job is None and self._sent_at is not None:
            self._job = Job.sent(self._recorded, self._recorded_at, self._sent_at)
        return self._job

    @property
    def sent(self) -> bool:
        return self.job_id is not None and self.error is None


class Dispatcher:
    """Resolves where tasks go for the configured app, then sends batches of jobs over one connection."""

    def __init__(self, settings: Settings, queue: str | None = None):
        self.settings = settings
        self.queue = queue
        self.sender = this_sender()
        self._celery_app = None
        self._routes: dict[str, Route] = {}

    @property
    def app_name(self) -> str:
        return self.settings.app

    def route(self, task: str) -> Route:
        """The route for `task`; BadInput with the closest names when the app has no such task."""
        if task in self._routes:
            return self._routes[task]
        if self.settings.uses_bundled_app:
            check_task_name(task, BUNDLED_TASK_NAMES)
            route = bundled_route(self.queue)
        else:
            if self._celery_app is None:
                from schedcli.worker.apps import load_celery_app

                self._celery_app = load_celery_app(self.settings)
            check_task_name(task, user_task_names(self._celery_app))
            route = user_route(self._celery_app, task, self.queue)
        self._routes[task] = route
        return route

    def broker_settings(self) -> Settings:
        """The settings to publish with: a user's app keeps its own broker unless schedcli's was set explicitly."""
        if self._celery_app is None:
            return self.settings
        from dataclasses import replace

        return replace(self.settings, broker_url=self._celery_app.conf.broker_url or self.settings.broker_url)

    def send(self, requests: Iterable[JobRequest], now: float | None = None,
             publisher: Publisher | None = None, store: JobStore | None = None,
             store_lock: threading.Lock | None = None) -> list[Dispatched]:
        """Send every request over one confirmed connection; one `Dispatched` per request, in order.

        `requests` may be an iterator: it is read a batch at a time, as the send goes.

        Raises BrokerUnavailable when RabbitMQ cannot be reached at all (nothing is recorded then).
        `publisher`, an open one the caller keeps (`schedcli serve`), is used and left open; by default
        a connection is opened for this send and closed after it.

        The store works on a thread of its own, a batch ahead: it reads the next batch, records it and
        builds its messages, and settles the last one, while RabbitMQ confirms this one (read between
        two publishes, a file left RabbitMQ idle a tenth of the send). Each batch is still recorded
        before it is published. A store that fails stops the send at the next batch; a batch RabbitMQ
        confirmed meanwhile runs all the same (its jobs stay SENDING, which workers run and record like
        any other), and the error says so.
        `store`, an open one the caller keeps on this thread (`schedcli serve`, whose sends are a batch
        each), does the store's work here instead: handing a small batch to a thread and back costs
        more than it overlaps. `store_lock`, shared by threads that send at the same time, is held
        around each of the store's calls: SQLite makes a writer that finds the database locked sleep
        for milliseconds before it tries again, a lock wakes the next one as soon as it is free.
        """
        # A list is checked whole: an unknown task fails it before anything is sent, and RabbitMQ refusing to
        # declare a queue before anything is recorded. An iterator's requests are checked batch by batch.
        routes = {self.route(request.task) for request in requests} if isinstance(requests, list) else set()
        results: list[Dispatched] = []
        connection = Publisher(self.broker_settings()) if publisher is None else nullcontext(publisher)
        with connection as publisher, _StoreWork(store, store_lock) as store_thread:
            for route in routes:
                publisher.ensure_topology(route)
            batches = self._batches(requests, results)
            # SQLite connections belong to the thread that opened them: the store lives on its thread.
            store = store or store_thread.submit(
                lambda: JobStore.open(self.settings.database_url, bulk_writes=True)).result()
            settling, confirmed_counts = [], []
            upcoming = store_thread.submit(self._prepare, store, batches, now)
            prepared = None  # the batch recorded and about to be published
            on_the_wire = None  # the batch being published, until RabbitMQ has answered for each job
            lost = None  # why the connection, lost during the send, could not be opened again
            try:
                while (prepared := upcoming.result()) is not None:
                    for settled in settling:
                        if settled.done():
                            settled.result()  # a store that failed stops the send here
                    upcoming = store_thread.submit(self._prepare, store, batches, now)
                    for route in {message.route for message in prepared.messages}:
                        publisher.ensure_topology(route)  # a file's new task: declared before its jobs are sent
                    if publisher.connection is None and lost is None:
                        try:  # the connection dropped during the last batch: go on on the next node that answers
                            publisher.reopen()
                        except BrokerUnavailable as exc:
                            lost = f"RabbitMQ connection lost earlier in this send, and not regained ({exc})"
                    if publisher.connection is None:
                        outcome = PublishOutcome(error=lost or "RabbitMQ connection lost earlier in this send")
                    else:
                        on_the_wire = prepared
                        outcome = publisher.publish(prepared.messages, time.time() if now is None else now)
                        on_the_wire = None
                    settling.append(store_thread.submit(self._settle, store, prepared, outcome))
                    confirmed_counts.append(len(outcome.confirmed))
                    prepared = None
                for settled in settling:
                    settled.result()
            except DatabaseError as exc:
                wait(settling)
                unrecorded = sum(count for settled, count in zip(settling, confirmed_counts)
                                 if settled.exception() is not None)
                if unrecorded:
                    raise DatabaseError(
                        f"{exc}; RabbitMQ had confirmed {unrecorded:,} job(s) the store could not mark as sent: "
                        "they will run, and show as SENDING until a worker starts them") from exc
                raise
            finally:
                # Stopped part-way (Ctrl-C, a failure): what was on the wire is treated as when the
                # connection drops, CANCELLED so that a copy RabbitMQ got is skipped and its key is
                # free again; batches recorded ahead and never sent are forgotten.
                if on_the_wire is not None:
                    interrupted = PublishOutcome(error="the send was interrupted",
                                                 unconfirmed=[message.job_id for message in on_the_wire.messages])
                    store_thread.submit(self._settle, store, on_the_wire, interrupted)
                elif prepared is not None:
                    store_thread.submit(self._forget, store, prepared.batch)
                store_thread.submit(self._forget_prepared, store, upcoming)
                if store_thread.owns_store:
                    store_thread.submit(store.close)
        return results

    def _batches(self, requests: Iterable[JobRequest], results: list[Dispatched]) -> Iterator[list[Dispatched]]:
        """`requests` a batch at a time, read as the send goes (a bulk file is parsed while RabbitMQ works);
        each request's task is checked before its batch is recorded. `results` gets every batch made."""
        batch: list[Dispatched] = []
        for request in requests:
            self.route(request.task)
            batch.append(Dispatched(request))
            if len(batch) == BATCH:
                results.extend(batch)
                yield batch
                batch = []
        if batch:
            results.extend(batch)
            yield batch

    def _prepare(self, store, batches: Iterator[list[Dispatched]], now: float | None) -> _Prepared | None:
        """The next batch read, recorded SENDING and made into messages; None when there is none."""
        batch = next(batches, None)
        if batch is None:
            return None
        duplicates, resend = self._record(store, batch, now)
        return _Prepared(batch, self._messages(batch, duplicates, resend), resend)

    @staticmethod
    def _forget(store, batch: list[Dispatched]) -> None:
        store.discard_unsent([result.job_id for result in batch if result.job_id is not None])

    def _forget_prepared(self, store, preparing: Future) -> None:
        """Forget the batch `preparing` recorded, if it did (it ran before this, on the same thread)."""
        prepared = preparing.result() if preparing.exception() is None else None
        if prepared is not None:
            self._forget(store, prepared.batch)

    def _record(self, store, batch: list[Dispatched], now: float | None) -> tuple[dict[str, str], dict[str, Job]]:
        """Give each job of `batch` its id and record it SENDING. Returns {id: holder's id} for keys an active job
        holds, and the holders this send takes over to send again: SENDING jobs whose sender is gone."""
        recorded_at = time.time() if now is None else now
        for result, job_id in zip(batch, new_job_ids(len(batch))):
            request = result.request
            result.job_id = job_id
            result._recorded_at = recorded_at
            result._recorded = NewJob(
                id=result.job_id, task=request.task, args=request.args, kwargs=request.kwargs,
                queue=self.route(request.task).queue, app=self.app_name, eta=request.eta,
                expires=request.expires, key=request.key, schedule=request.schedule,
                occurrence=request.occurrence, schedule_revision=request.schedule_revision,
                retry_of=request.retry_of, payload_json=request.payload_json,
            )
        lease_until = recorded_at + SENDING_LEASE
        duplicates = store.record_sending([result._recorded for result in batch], recorded_at, self.sender,
                                          lease_until)
        resend = {}
        if duplicates:
            for holder in store.unconfirmed(sorted({holder for holder in duplicates.values() if holder})):
                if (holder.app == self.app_name and sender_is_gone(holder, recorded_at)
                        and store.take_over_sending(holder, self.sender, lease_until)):
                    resend[holder.id] = holder
        return duplicates, resend

    def resend(self, jobs: list[Job]) -> list[Dispatched]:
        """Send again, each under its own id, SENDING jobs whose sender is gone (`doctor --fix`): a copy that did
        reach RabbitMQ before is harmless, since a worker runs an id at most once."""
        requests = [JobRequest(task=job.task, args=job.args, kwargs=job.kwargs, eta=job.eta, expires=job.expires,
                               key=job.key) for job in jobs]
        for request in requests:
            self.route(request.task)
        results = [Dispatched(request, job_id=job.id) for request, job in zip(requests, jobs)]
        with Publisher(self.broker_settings()) as publisher, JobStore.open(self.settings.database_url) as store:
            mine = {job.id: job for job in jobs
                    if store.take_over_sending(job, self.sender, time.time() + SENDING_LEASE)}
            messages = self._messages([], {}, mine)
            outcome = publisher.publish(messages, time.time()) if messages else PublishOutcome()
            store.mark_sent(outcome.confirmed, time.time())
            for result in results:
                if result.job_id in outcome.confirmed:
                    result._job, result.resent = store.get(result.job_id), True
                else:
                    result.error = (outcome.failed.get(result.job_id) or outcome.error
                                    or ("another sender took it over" if result.job_id not in mine
                                        else "not confirmed by RabbitMQ"))
        return results

    def _messages(self, batch: list[Dispatched], duplicates: dict[str, str],
                  resend: dict[str, Job]) -> list[TaskMessage]:
        messages = [TaskMessage(job.id, job.task, job.args, job.kwargs, eta=job.eta, expires=job.expires,
                                route=self.route(job.task)) for job in resend.values()]
        for result in batch:
            if result.job_id in duplicates:
                holder = duplicates[result.job_id]
                if holder is None:  # an occurrence of a schedule paused or changed since it was computed
                    result.job_id, result.error = None, SCHEDULE_CHANGED
                else:
                    result.job_id, result.existing = holder, True
                    result.resent = holder in resend
                continue
            request = result.request
            messages.append(TaskMessage(result.job_id, request.task, request.args, request.kwargs,
                                        eta=request.eta, expires=request.expires, route=self.route(request.task),
                                        payload_json=request.payload_json))
        return messages

    @staticmethod
    def _settle(store, prepared: _Prepared, outcome: PublishOutcome) -> None:
        """Record what RabbitMQ did with each message of a batch, and say why a job was not sent.

        A job sent again for a killed sender that RabbitMQ did not confirm stays SENDING, as it was: it may
        have reached RabbitMQ either time."""
        batch, messages, resend = prepared.batch, prepared.messages, prepared.resend
        confirmed, unconfirmed = set(outcome.confirmed), set(outcome.unconfirmed)
        sent_at = time.time()
        store.mark_sent(list(confirmed), sent_at)
        new = [message for message in messages if message.job_id not in resend]
        store.mark_unconfirmed([message.job_id for message in new if message.job_id in unconfirmed], time.time())
        store.discard_unsent([message.job_id for message in new
                              if message.job_id not in confirmed and message.job_id not in unconfirmed])
        for result in batch:
            if result.job_id is None:  # never recorded (its schedule changed): the error says why
                continue
            if result.existing:
                if result.resent and result.job_id not in confirmed:
                    result.error = (outcome.failed.get(result.job_id) or outcome.error or "not confirmed by RabbitMQ")
                    continue
                result._job = store.get(result.job_id)
                continue
            if result.job_id in confirmed:
                result._sent_at = sent_at
                continue
            result.error = outcome.failed.get(result.job_id) or outcome.error or "not confirmed by RabbitMQ"


@dataclass
class _Prepared:
    """A batch recorded SENDING, and the messages that send it (the jobs it sends again for a killed sender too)."""

    batch: list[Dispatched]
    messages: list[TaskMessage]
    resend: dict[str, Job]


class Dispatchers:
    """A `Dispatcher` for each queue name asked for, made once (it keeps the routes and a loaded app), for threads
    that send at the same time."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._made: dict[str | None, Dispatcher] = {}
        self._lock = threading.Lock()

    def for_queue(self, queue_name: str | None) -> Dispatcher:
        with self._lock:
            if queue_name not in self._made:
                self._made[queue_name] = Dispatcher(self.settings, queue=queue_name)
            return self._made[queue_name]


class _StoreWork:
    """Where `Dispatcher.send` does the store's work: on a thread of its own, which opens the store and closes
    it (`owns_store`), or, given the caller's open store, right away on the caller's thread."""

    def __init__(self, callers_store: JobStore | None, lock: threading.Lock | None):
        self.owns_store = callers_store is None
        self._lock = lock or nullcontext()
        self._thread = None

    def __enter__(self) -> _StoreWork:
        if self.owns_store:
            self._thread = ThreadPoolExecutor(1)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)

    def submit(self, function, *args) -> Future:
        if self._thread is not None:
            return self._thread.submit(function, *args)
        done: Future = Future()
        try:
            with self._lock:
                done.set_result(function(*args))
        except BaseException as exc:  # kept for whoever reads the result, as a thread's future keeps it
            done.set_exception(exc)
        return done
