"""Cancel jobs that were sent: waiting ones never run, running ones are stopped on request.

A cancel is written to the job store, which every worker started by schedcli checks just before it
runs a job: the cancel holds across worker restarts, redeliveries, and messages a worker already
holds. A running job is stopped through Celery's remote control (revoke with terminate).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from schedcli.exceptions import SchedcliError


@dataclass
class CancelOutcome:
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

    def cancel(self, given: str) -> CancelOutcome:
        from schedcli.exceptions import BadInput, UnknownJob
        from schedcli.store import PENDING_STATES

        try:
            job = self.store.get(given)
        except (BadInput, UnknownJob) as exc:
            return CancelOutcome(given, None, False, str(exc), exc.exit_code)
        if job.state in PENDING_STATES:
            job = self.store.cancel(job.id, time.time())
            if job.state == "CANCELLED":
                return CancelOutcome(job.id, job.state, True, job=job)
        if job.state in ("STARTED", "PROGRESS"):
            if not self.terminate:
                return CancelOutcome(job.id, job.state, False, f"it is running ({job.state}); --terminate stops it", 1,
                               job)
            return self._terminate(job)
        if job.state == "SENDING":
            return CancelOutcome(job.id, job.state, False, "it is being sent; try again in a moment", 1, job)
        if job.state == "CANCELLED":
            moved = f" (rescheduled to {job.rescheduled_to})" if job.rescheduled_to else ""
            return CancelOutcome(job.id, job.state, False, f"it was already cancelled{moved}", 1, job)
        return CancelOutcome(job.id, job.state, False, f"it has already ended ({job.state})", 1, job)

    def _terminate(self, job) -> CancelOutcome:
        """Revoke with terminate through the job's own app, then record the cancel (so a redelivery is skipped)."""
        from schedcli.worker.inspection import ensure_broker_takes_messages

        try:
            celery_app = self._celery_app(job.app)
            ensure_broker_takes_messages(celery_app)
        except SchedcliError as exc:  # the app cannot be loaded here, or RabbitMQ is down: this job only
            return CancelOutcome(job.id, job.state, False, f"cannot stop it: {exc}", exc.exit_code, job)
        celery_app.control.revoke(job.id, terminate=True, signal="SIGTERM")
        terminated = f"terminated while {job.state}"
        if self.store.mark_cancelled(job.id, time.time()):
            return CancelOutcome(job.id, "CANCELLED", True, terminated, job=job)
        job = self.store.get(job.id)  # it ended before the revoke, or the worker's own report came first
        if job.state == "CANCELLED":
            return CancelOutcome(job.id, job.state, True, terminated, job=job)
        return CancelOutcome(job.id, job.state, False, f"it ended ({job.state}) before it could be stopped", 1, job)

    def _celery_app(self, app_name: str):
        if app_name not in self._apps:
            from schedcli.worker.apps import load_celery_app

            self._apps[app_name] = load_celery_app(replace(self.settings, app=app_name))
        return self._apps[app_name]
