"""Steering jobs that were sent: cancel them, or move them to another time.

A cancel is written to the job store, which every worker started by schedcli checks just before it
runs a job: the cancel holds across worker restarts, redeliveries, and messages a worker already
holds. A running job is stopped through Celery's remote control (revoke with terminate).

RabbitMQ cannot change a message it holds, so a reschedule replaces the job: a new job with the
same task, arguments, queue and key is sent for the new time first, and only once RabbitMQ
confirmed it is the old one cancelled, in the same store transaction that hands its key over and
links the two. A broker that is down leaves the old job untouched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from schedcli.exceptions import BrokerUnavailable, ScheduleError


@dataclass
class Outcome:
    """What became of one ID: `exit_code` is 0 when cancelled, else 1 (its state), 2 or 3 (a bad ID)."""

    id: str
    state: str | None
    cancelled: bool
    reason: str | None = None
    exit_code: int = 0
    job: object = None  # schedcli.store.Job, when the ID names one

    def to_json(self) -> dict:
        return {"id": self.id, "state": self.state, "cancelled": self.cancelled, "reason": self.reason}


class Canceller:
    """Cancels one ID at a time against the store; `terminate` also stops running jobs."""

    def __init__(self, settings, store, terminate: bool):
        self.settings = settings
        self.store = store
        self.terminate = terminate
        self._apps: dict[str, object] = {}

    def cancel(self, given: str) -> Outcome:
        from schedcli.exceptions import BadInput, UnknownJob
        from schedcli.store import PENDING_STATES

        try:
            job = self.store.get(given)
        except (BadInput, UnknownJob) as exc:
            return Outcome(given, None, False, str(exc), exc.exit_code)
        if job.state in PENDING_STATES:
            job = self.store.cancel(job.id, time.time())
            if job.state == "CANCELLED":
                self.store.follow_publish_job(job.id, None)
                return Outcome(job.id, job.state, True, job=job)
        if job.state in ("STARTED", "PROGRESS"):
            if not self.terminate:
                return Outcome(job.id, job.state, False, f"it is running ({job.state}); --terminate stops it", 1,
                               job)
            return self._terminate(job)
        if job.state == "SENDING":
            return Outcome(job.id, job.state, False, "it is being sent; try again in a moment", 1, job)
        if job.state == "CANCELLED":
            moved = f" (rescheduled to {job.rescheduled_to})" if job.rescheduled_to else ""
            return Outcome(job.id, job.state, False, f"it was already cancelled{moved}", 1, job)
        return Outcome(job.id, job.state, False, f"it has already ended ({job.state})", 1, job)

    def _terminate(self, job) -> Outcome:
        """Revoke with terminate through the job's own app, then record the cancel (so a redelivery is skipped)."""
        from schedcli.workers import ensure_broker_reachable

        try:
            celery_app = self._celery_app(job.app)
            ensure_broker_reachable(celery_app)
        except ScheduleError as exc:  # the app cannot be loaded here, or RabbitMQ is down: this job only
            return Outcome(job.id, job.state, False, f"cannot stop it: {exc}", exc.exit_code, job)
        celery_app.control.revoke(job.id, terminate=True, signal="SIGTERM")
        if self.store.mark_cancelled(job.id, time.time()):
            return Outcome(job.id, "CANCELLED", True, f"terminated while {job.state}", job=job)
        job = self.store.get(job.id)  # it ended before the revoke, or the worker's own report came first
        if job.state == "CANCELLED":
            return Outcome(job.id, job.state, True, "terminated", job=job)
        return Outcome(job.id, job.state, False, f"it ended ({job.state}) before it could be stopped", 1, job)

    def _celery_app(self, app_name: str):
        if app_name not in self._apps:
            from schedcli.celery_app import load_celery_app

            self._apps[app_name] = load_celery_app(replace(self.settings, app=app_name))
        return self._apps[app_name]


def reschedule(settings, store, job_id: str, when, now: float | None = None):
    """Replace the waiting job `job_id` by one due at `when`; return (old job, new job)."""
    from schedcli.dispatch import Dispatcher
    from schedcli.jobinput import job_request
    from schedcli.store import PENDING_STATES

    old = store.get(job_id)
    if old.state not in PENDING_STATES:
        raise ScheduleError(f"job {old.id} is {old.state}; only a job waiting to run (scheduled, queued or "
                            "retrying) can be rescheduled")
    now = time.time() if now is None else now
    request = job_request(old.task, old.args, old.kwargs, when=when, now=now)
    if old.expires is not None:
        window = old.expires - (old.eta if old.eta is not None else old.created_at)
        request.expires = (request.eta if request.eta is not None else now) + window
    # Sent without the key: the old job holds it until the switch below hands it over.
    [sent] = Dispatcher(replace(settings, app=old.app), queue=old.queue).send([request])
    if sent.error:
        raise BrokerUnavailable(f"the new job was not sent ({sent.error}); job {old.id} is unchanged")
    if not store.replace_waiting(old.id, sent.job_id, time.time()):
        store.cancel(sent.job_id, time.time())
        raise ScheduleError(f"job {old.id} is {store.get(old.id).state} now; it was not rescheduled")
    new = store.get(sent.job_id)
    store.follow_publish_job(old.id, new.id, new.eta)
    return store.get(old.id), new
