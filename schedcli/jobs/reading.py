"""How a job is read and followed (`status`, `--wait`): from the job store, or from its app's Celery result
backend when only plain Celery workers ran it.

A job of a user's app run by a plain `celery worker` (which does not report to the store) stays
SCHEDULED or QUEUED there forever; once it is due, its state is read from that app's Celery result
backend instead, and the view says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from schedcli.jobs.senders import sender_is_gone
from schedcli.store import FINAL_STATES

UNCONFIRMED_NOTE = ("unconfirmed: the process sending it is gone, and RabbitMQ may or may not have it. Sending it "
                    "again with the same --key, or `schedcli doctor --fix`, sends it under its own id (it runs once)")

# Exit codes by final state; any other state (waiting, running, succeeded) exits 0.
EXIT_CODES = {"FAILURE": 1, "CANCELLED": 1, "EXPIRED": 1}
WATCH_INTERVAL = 0.25  # seconds between two looks at a watched job

# Celery's states -> the store's; PENDING keeps the store's own (SCHEDULED or QUEUED).
CELERY_STATES = {"RECEIVED": "QUEUED", "STARTED": "STARTED", "PROGRESS": "PROGRESS", "RETRY": "RETRY",
                 "SUCCESS": "SUCCESS", "FAILURE": "FAILURE", "REVOKED": "CANCELLED"}


@dataclass
class JobView:
    """A job as `status` shows it: `source` says where its state came from; `note` explains it to people."""

    job: object  # schedcli.store.Job
    source: str = "store"  # or "celery-result-backend", or "unknown" when neither knows
    note: str | None = None
    sender_gone: bool = False  # SENDING, and the process that was sending it is gone

    def to_json(self) -> dict:
        return {**self.job.to_json(), "source": self.source, **({"sender_gone": True} if self.sender_gone else {})}


class JobReader:
    """Reads jobs from the store, and from their app's result backend when only plain Celery ran them."""

    def __init__(self, settings, store):
        self.settings = settings
        self.store = store
        self._apps: dict[str, object] = {}

    def read(self, job_id: str, now: float | None = None) -> JobView:
        from schedcli.settings import DEFAULT_APP

        job = self.store.get(job_id)
        now = time.time() if now is None else now
        if job.state == "SENDING" and sender_is_gone(job, now):
            return JobView(job, note=UNCONFIRMED_NOTE, sender_gone=True)
        unreported = job.state in ("SCHEDULED", "QUEUED") and job.worker is None and job.due_at <= now
        if job.app == DEFAULT_APP or not unreported:
            return JobView(job)
        return self._from_result_backend(job)

    def follow(self, job_id: str) -> Iterator[JobView]:
        """The job now, then again every WATCH_INTERVAL until it ends (for `status --watch` and `--wait`)."""
        while True:
            view = self.read(job_id)
            yield view
            if view.job.state in FINAL_STATES:
                return
            job_id = view.job.id
            time.sleep(WATCH_INTERVAL)

    def _celery_app(self, app_name: str):
        if app_name not in self._apps:
            from schedcli.worker.apps import load_celery_app

            self._apps[app_name] = load_celery_app(replace(self.settings, app=app_name))
        return self._apps[app_name]

    def _from_result_backend(self, job) -> JobView:
        from schedcli.exceptions import BadInput

        unknown = f"state unknown to schedcli: {job.app}'s workers do not report to schedcli"
        hint = f"start them with `schedcli --app {job.app} worker start`"
        try:
            celery_app = self._celery_app(job.app)
        except BadInput as exc:
            return JobView(job, "unknown", f"{unknown}, and its result backend cannot be read ({exc})")
        if not celery_app.conf.result_backend or celery_app.conf.result_backend == "disabled":
            return JobView(job, "unknown", f"{unknown} and it has no result backend; {hint}")
        try:
            job = _apply_celery_result(job, celery_app.AsyncResult(job.id))
        except Exception as exc:  # any backend: redis, databases, files; each fails its own way
            return JobView(job, "unknown", f"{unknown}, and its result backend failed: {type(exc).__name__}: {exc}")
        return JobView(job, "celery-result-backend", f"state from {job.app}'s Celery result backend")


def _apply_celery_result(job, result):
    """`job` with the state, outcome and times the result backend holds for it."""
    from datetime import timezone

    from schedcli.worker.hooks import error_type_name

    state = result.state
    if state == "PENDING" or state not in CELERY_STATES:
        return job
    changes = {"state": CELERY_STATES[state], "worker": result.worker}
    info = result.info
    if state == "SUCCESS":
        changes["result"] = info
    elif state in ("FAILURE", "RETRY") and isinstance(info, BaseException):
        changes["error"] = {"type": error_type_name(info), "message": str(info), "traceback": result.traceback}
    elif state == "PROGRESS" and isinstance(info, dict):
        changes["progress"] = {name: info.get(name) for name in ("current", "total", "step")}
    done = result.date_done
    if state in ("SUCCESS", "FAILURE", "REVOKED") and done is not None:
        changes["finished_at"] = (done if done.tzinfo else done.replace(tzinfo=timezone.utc)).timestamp()
    return replace(job, **changes)
