"""What `schedcli worker start` adds to a worker: each job's life reported into the job store, and the cancel gate.

The reports come from Celery's signals (prerun, success, failure, retry, revoked), written through
one store per process and thread, opened on first use: prefork pool processes are forked from the
main process and must not share its database connection.

The cancel gate is a `Request` class installed on every task of the app (a user's app too): just
before a job goes to the pool, the worker marks it STARTED in the store with one conditional UPDATE,
which does not take when the job was cancelled (or has already ended). Such a job is acknowledged
and not run, whether the worker held its message since before the cancel (an ETA) or RabbitMQ
delivered it again after a restart. Checking and claiming in one statement leaves no moment in
which a cancel could slip between the check and the start.

A job's success is written by the worker's main process, not by the pool process that ran it, and a batch at
a time (`EndWriter`): the pool process sends the end with its result back to the main process, which writes
up to END_BATCH ends in one transaction, at the latest END_DELAY after the first of them came, and only then
acknowledges their messages. A worker killed before the write leaves those messages unacknowledged, so RabbitMQ
gives them to the next worker, which runs them again: a job's end is recorded, or the job runs again. Jobs
acknowledged early (a user's task without `acks_late`), and every pool but prefork, write their end at once.

Tasks report progress with `report_progress(self, current, total, step)`.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from datetime import datetime

from typing import NamedTuple

from celery import bootsteps, signals
from celery.exceptions import TaskRevokedError
from celery.utils.imports import symbol_by_name
from celery.utils.log import get_logger
from celery.worker.state import task_ready
from kombu.asynchronous import get_event_loop
from kombu.common import QoS

from schedcli.amqp.delays import undelayed_routing_key
from schedcli.exceptions import DatabaseError
from schedcli.store import FINAL_STATES, JobStore, Succeeded, capped_result
from schedcli.store.jobs import ALREADY_RUNNING
from schedcli.store.jobs import storable

logger = get_logger(__name__)

_database_url: str | None = None
_app_name: str | None = None
# (pid, thread) -> store. Entries inherited from the parent across a fork are left alone, never closed:
# closing a connection the parent still uses could disturb its locks.
_stores: dict[tuple[int, int], JobStore] = {}

# Successes written in one transaction at most, and how long the first of them may wait for the others (seconds).
# `status` and the dashboard read the store, so a success shows there within END_DELAY and one write.
END_BATCH = 64
END_DELAY = 0.05


def install_worker_hooks(celery_app, settings) -> None:
    """Report every job's life into the store of `settings`, and gate every task of `celery_app` on cancellation.

    Opens the store once now, so a worker whose store is unusable stops at once with a clear error.
    """
    global _database_url, _app_name
    JobStore.open(settings.database_url).close()
    _database_url, _app_name = settings.database_url, settings.app

    def gate_tasks(sender=None, **_):
        # Celery builds each task's Request class when the consumer starts: after this signal.
        timezone = celery_app.conf.timezone
        for name, task in celery_app.tasks.items():
            if not name.startswith("celery."):  # Celery's own housekeeping tasks are not jobs
                task.Request = gated_request_class(symbol_by_name(task.Request))
                # Celery reads the app's timezone from its configuration views for every job that has an ETA
                # (every job schedcli sends): a tenth of the main process's work in a burst. It never changes.
                task.Request._tzlocal = timezone

    def send_ends_to_main_process(**_):
        # In each prefork pool process, once Celery has built the tracers the process runs jobs with.
        for name, task in celery_app.tasks.items():
            if not name.startswith("celery."):
                task.__trace__ = _sending_ends(task.__trace__)

    celery_app.steps["consumer"].add(FixedPrefetch)
    celery_app.steps["consumer"].add(WriteEndsOnStop)
    signals.worker_init.connect(gate_tasks, weak=False, dispatch_uid="schedcli.gate_tasks")
    signals.worker_process_init.connect(send_ends_to_main_process, weak=False, dispatch_uid="schedcli.send_ends")
    signals.worker_shutting_down.connect(lambda **_: _ends.write_at_once(), weak=False,
                                         dispatch_uid="schedcli.write_ends_at_once")
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="schedcli.prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="schedcli.postrun")
    signals.task_success.connect(_on_success, weak=False, dispatch_uid="schedcli.success")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="schedcli.failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="schedcli.retry")
    signals.task_revoked.connect(_on_revoked, weak=False, dispatch_uid="schedcli.revoked")


def report_progress(task, current: int | float, total: int | float | None, step: str | None = None) -> None:
    """From inside a running task (`self`, with `bind=True`): how far it got, shown as PROGRESS.

    Also stored through the app's result backend, when it has one, as Celery's custom PROGRESS state.
    """
    if task.request.id is None:  # called directly, not as a job
        return
    task.update_state(state="PROGRESS", meta={"current": current, "total": total, "step": step})
    _report("progress", task.request.id, lambda store: store.mark_progress(task.request.id, current, total, step))


def _store() -> JobStore | None:
    """This process's (and thread's) store; None when the hooks are not installed in this process."""
    if _database_url is None:
        return None
    key = (os.getpid(), threading.get_ident())
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = JobStore.open(_database_url, wait_for_disk=False)
    return store


def _forget_store() -> None:
    # After a failure the connection may be dead (a restarted PostgreSQL): open a new one next time.
    store = _stores.pop((os.getpid(), threading.get_ident()), None)
    if store is not None:
        store.close()


def _report(what: str, job_id: str, write, instead=None) -> None:
    """Write one report; a store that fails is logged, never allowed to fail the job itself.

    When the store refuses what this report holds (not the store being down: text or data it cannot
    take), `instead(store, problem)` records the job's end without it, so its state is never lost.
    """
    try:
        store = _store()
        if store is not None:
            write(store)
    except DatabaseError as exc:
        _forget_store()
        logger.error("Could not record the %s of job %s in the job store: %s", what, job_id, exc)
    except Exception as exc:  # the store took the report but not what it holds: any driver, any reason
        problem = f"schedcli could not store the {what} of this job: {type(exc).__name__}: {exc}"
        logger.error("Could not record the %s of job %s in the job store: %s", what, job_id, exc)
        if instead is not None:
            _report(what, job_id, lambda store: instead(store, storable(problem)))


def error_type_name(exc: BaseException) -> str:
    """`ValueError` for built-in exceptions, `module.Name` for the rest."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


# -- the cancel gate ---------------------------------------------------------------------------

def claim(request) -> str | None:
    """Mark the job of `request` STARTED unless it ended; its state afterwards (None: no store, or it failed).

    A job the store never saw (sent by plain Celery) is recorded first.
    """
    store = _store()
    if store is None:
        return None
    now = time.time()
    # A retry (Celery sends it under the same id, maybe before this job's retry is recorded) or a redelivery
    # may start a job the store shows running; any other copy of a running job's id may not.
    redelivered = bool((request.delivery_info or {}).get("redelivered"))
    if redelivered:  # after a lost connection, the copy of a job that ended here while its end waits to be written
        _ends.flush()
    may_restart = redelivered or bool(request.request_dict.get("retries"))
    state = store.mark_started(request.id, request.hostname, now, may_restart)
    if state is None:
        eta = request.eta.timestamp() if isinstance(request.eta, datetime) else None
        queue = undelayed_routing_key((request.delivery_info or {}).get("routing_key") or "")
        store.ensure_job(request.id, request.name, request.args, request.kwargs, queue, _app_name, eta, now=now)
        state = store.mark_started(request.id, request.hostname, now, may_restart)
    return state


def _gated(execute_using_pool):
    @functools.wraps(execute_using_pool)
    def gated_execute_using_pool(self, pool, **kwargs):
        if not self.revoked():  # Celery's own revoke and expiry come first
            try:
                state = claim(self)
            except DatabaseError as exc:
                _forget_store()
                state = None
                logger.warning("Job store unavailable, running %s[%s] without checking for a cancel: %s",
                               self.name, self.id, exc)
            if state == ALREADY_RUNNING:
                # A second copy of the id (sent again for a killed sender): acknowledged, not run; the running
                # copy reports the job's end.
                logger.warning("Skipping job %s[%s]: a copy of it is running already", self.name, self.id)
                task_ready(self)
                self.acknowledge()
                raise TaskRevokedError(self.id)
            if state in FINAL_STATES:
                reason = "it was cancelled" if state == "CANCELLED" else f"it has already ended ({state})"
                logger.warning("Skipping job %s[%s]: %s in the job store", self.name, self.id, reason)
                # What Celery does for a revoked job: acknowledge, announce (task_revoked), never run.
                self._announce_revoked(f"{state.lower()} in the job store", False, None, False)
                raise TaskRevokedError(self.id)
        return execute_using_pool(self, pool, **kwargs)

    gated_execute_using_pool.schedcli_gated = True
    return gated_execute_using_pool


def _writing_end(on_success):
    @functools.wraps(on_success)
    def on_success_writing_end(self, failed__retval__runtime, **kwargs):
        failed, retval, runtime = failed__retval__runtime
        if failed or not isinstance(retval, PoolEnd):
            return on_success(self, failed__retval__runtime, **kwargs)
        self._end_unwritten = True  # Celery's acknowledgement in on_success waits for the write
        try:
            return on_success(self, (failed, retval.shown, runtime), **kwargs)
        finally:
            _ends.add(self, retval.end)

    on_success_writing_end.schedcli_writes_end = True
    return on_success_writing_end


class CancelGate:
    """Mixin for a task's Request class: the gate runs before the job goes to the pool, and a job's message is
    acknowledged only once its end is in the store.

    Celery's worker does not use the Request class as given: `create_request_cls` (celery/worker/
    request.py) subclasses it with its own, faster `execute_using_pool` and `on_success`, which would
    shadow an override. So every subclass, Celery's included, gets those two wrapped here.
    """

    _end_unwritten = False
    _ack_waiting = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls.execute_using_pool, "schedcli_gated", False):
            cls.execute_using_pool = _gated(cls.execute_using_pool)
        if not getattr(cls.on_success, "schedcli_writes_end", False):
            cls.on_success = _writing_end(cls.on_success)

    def acknowledge(self):
        if self._end_unwritten:
            self._ack_waiting = True  # EndWriter acknowledges it once the end is written
            return
        super().acknowledge()

    def end_written(self) -> None:
        """The job's end is in the store (or could not be written, and was logged): let its acknowledgement go."""
        self._end_unwritten = False
        if self._ack_waiting:
            self._ack_waiting = False
            self.acknowledge()


@functools.lru_cache(maxsize=None)
def gated_request_class(base: type) -> type:
    """`base` (a task's Request class, Celery's or the user's own) with the cancel gate."""
    if issubclass(base, CancelGate):
        return base
    return type(f"Gated{base.__name__}", (CancelGate, base), {})


# -- job ends, written by the main process a batch at a time --------------------------------------

class PoolEnd(NamedTuple):
    """What a pool process returns for a job that succeeded: Celery's own text of the result, and the end to write."""

    shown: str
    end: Succeeded


# In a pool process: when the running job started, and its end once it succeeded, until the tracer sends it.
_started: dict[str, float] = {}
_tracing: str | None = None
_succeeded: Succeeded | None = None


def _sending_ends(trace):
    """A task's tracer (in a pool process) that returns a success as a PoolEnd, for the main process to write."""
    if getattr(trace, "schedcli_sends_ends", False):
        return trace

    @functools.wraps(trace)
    def trace_sending_end(uuid, args, kwargs, request=None):
        global _tracing, _succeeded
        _tracing, _succeeded = uuid, None
        try:
            traced = trace(uuid, args, kwargs, request)
        finally:
            succeeded, _tracing, _succeeded = _succeeded, None, None
        if succeeded is None or traced.info is not None:
            return traced
        return traced._replace(retstr=PoolEnd(traced.retstr, succeeded))

    trace_sending_end.schedcli_sends_ends = True
    return trace_sending_end


class EndWriter:
    """In the worker's main process: the successes pool processes reported, written a batch at a time, each job's
    message acknowledged once its end is written."""

    def __init__(self):
        self._lock = threading.Lock()  # at shutdown a timer thread of Celery's writes while results still come in
        self._pending: list[tuple[CancelGate, Succeeded]] = []
        self._timer = None
        self._at_once = False

    def add(self, request: CancelGate, end: Succeeded) -> None:
        with self._lock:
            self._pending.append((request, end))
            hub = get_event_loop()
            if len(self._pending) < END_BATCH and not self._at_once and hub is not None:
                if self._timer is None:
                    self._timer = hub.call_later(END_DELAY, self._flush_on_time, hub)
                return
        self.flush()

    def _flush_on_time(self, hub) -> None:
        self.flush()
        # Celery sends acknowledgements from the hub's ready queue, which the loop reads after its next poll; from a
        # timer nothing wakes that poll, and in a quiet worker the acknowledgements waited seconds. The hub's waker
        # (a private part of kombu's Hub) ends the poll at once; a kombu without one sends them at the next poll.
        waker = getattr(hub, "_waker", None)
        if waker is not None:
            waker.wake()

    def write_at_once(self) -> None:
        """From now on (the worker is stopping) every end is written as it comes; the next write takes the rest."""
        self._at_once = True

    def flush(self) -> None:
        """Write every pending end in one transaction, then let their acknowledgements go."""
        with self._lock:
            batch, self._pending = self._pending, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not batch:
                return
            try:
                _write_ends([end for _, end in batch])
            finally:
                for request, _ in batch:
                    request.end_written()


def _write_ends(ends: list[Succeeded]) -> None:
    """As `_report` does for one report: a store that fails is logged, and the jobs are acknowledged all the same."""
    try:
        store = _store()
        if store is not None:
            store.mark_succeeded_many(ends)
        return
    except DatabaseError as exc:
        _forget_store()
        logger.error("Could not record the success of %d job(s) in the job store (%s): %s", len(ends),
                     ", ".join(end.job_id for end in ends), exc)
    except Exception:  # what one of them holds: write them one at a time, so the others are not lost with it
        for end in ends:
            _report("success", end.job_id, lambda store, end=end: store.mark_succeeded_many([end]),
                    instead=lambda store, problem, end=end: store.mark_succeeded(
                        end.job_id, {"schedcli_unstored": problem}, end.finished_at, end.started_at))


_ends = EndWriter()


class WriteEndsOnStop(bootsteps.StartStopStep):
    """Write the pending ends when the consumer stops (a warm shutdown, a lost connection), before the pool's last
    jobs end: those are written as they come, once `worker_shutting_down` said so."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def stop(self, consumer):
        _ends.flush()

    def shutdown(self, consumer):
        _ends.flush()


# -- prefetch ----------------------------------------------------------------------------------

class FixedPrefetch(bootsteps.StartStopStep):
    """On quorum queues, stop Celery re-sending a prefetch count RabbitMQ no longer applies.

    Celery raises its prefetch count for every ETA job it holds and lowers it when the job is
    due, each time with a `basic.qos` round trip in the consumer loop. A per-consumer (non-global)
    prefetch count, the only kind quorum queues allow, applies to consumers started after it, so
    the count stays what it was when the worker started consuming, and with jobs arriving shortly
    before they are due those round trips took a quarter of the worker's main loop.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, consumer):
        # Celery's sign that it found quorum queues; an older Celery does not keep it, and nothing changes
        if getattr(consumer, "qos_global", None) is False:
            consumer.qos = QoS(lambda prefetch_count: None, consumer.qos.value)


# -- signal handlers ---------------------------------------------------------------------------

def _on_prerun(sender=None, task_id=None, **_):
    # The gate marked it STARTED when it went to the pool; this is when it really starts, written with its end.
    _started[task_id] = time.time()


def _on_postrun(sender=None, task_id=None, **_):
    _started.pop(task_id, None)


def _on_success(sender=None, result=None, **_):
    global _succeeded
    job_id = sender.request.id
    now = time.time()
    started_at = _started.get(job_id)
    if job_id == _tracing and sender.acks_late:  # the main process writes it, then acknowledges the message
        try:
            result_json = capped_result(result)
        except Exception as exc:  # a result even str() cannot show
            logger.error("Could not record the success of job %s in the job store: %s", job_id, exc)
            problem = storable(f"schedcli could not store the success of this job: {type(exc).__name__}: {exc}")
            result_json = capped_result({"schedcli_unstored": problem})
        _succeeded = Succeeded(job_id, result_json, started_at, now)
        return
    _report("success", job_id, lambda store: store.mark_succeeded(job_id, result, now, started_at),
            instead=lambda store, problem: store.mark_succeeded(job_id, {"schedcli_unstored": problem}, now,
                                                                started_at))


def _on_failure(sender=None, task_id=None, exception=None, einfo=None, **_):
    traceback = einfo.traceback if einfo is not None else None
    now = time.time()
    started_at = _started.get(task_id)
    _report("failure", task_id, lambda store: store.mark_failed(
        task_id, error_type_name(exception), str(exception), traceback, now, started_at),
        instead=lambda store, problem: store.mark_failed(task_id, error_type_name(exception), problem, None, now,
                                                         started_at))


def _on_retry(sender=None, request=None, reason=None, einfo=None, **_):
    job_id = request.id
    now = time.time()
    when = getattr(reason, "when", None)
    if isinstance(when, datetime):
        next_retry_at = when.timestamp()
    elif isinstance(when, (int, float)):
        next_retry_at = now + when
    else:
        next_retry_at = None
    cause = getattr(reason, "exc", None)
    error = None
    if cause is not None:
        error = {"type": error_type_name(cause), "message": str(cause),
                 "traceback": einfo.traceback if einfo is not None else None}
    retries = (request.retries or 0) + 1
    _report("retry", job_id, lambda store: store.mark_retry(job_id, retries, next_retry_at, error))


def _on_revoked(sender=None, request=None, expired=False, **_):
    job_id = getattr(request, "id", None)
    if job_id is None:
        return
    now = time.time()
    if expired:
        _report("expiry", job_id, lambda store: store.mark_expired(job_id, now))
    else:
        _report("cancel", job_id, lambda store: store.mark_cancelled(job_id, now))
