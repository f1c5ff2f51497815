"""`schedcli cancel`: jobs waiting to run never run; running ones are stopped only with --terminate.

A cancel is written to the job store, which every worker started by schedcli checks just before it
runs a job: the cancel holds across worker restarts, redeliveries, and messages a worker already
holds. A running job is stopped through Celery's remote control (revoke with terminate).
"""

from __future__ import annotations

from dataclasses import dataclass

import click


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
        import time

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
        import time

        from schedcli.exceptions import ScheduleError
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
            from dataclasses import replace

            from schedcli.celery_app import load_celery_app

            self._apps[app_name] = load_celery_app(replace(self.settings, app=app_name))
        return self._apps[app_name]


@click.command("cancel")
@click.argument("job_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--terminate", is_flag=True,
              help="Also stop jobs already running: their process gets SIGTERM (Celery's revoke --terminate).")
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON array: {"id", "state", "cancelled", "reason"} per ID.')
@click.pass_obj
def command(application, job_ids, terminate, as_json):
    """Cancel scheduled or queued jobs so they never run, even if workers restart.

    A running job is left alone unless --terminate; a finished one cannot be cancelled.
    Each ID (a full id or a prefix of 8+ characters) is reported. Exits 0 when every job was
    cancelled, else with the code of the first that was not: 1 (running or ended), 2 (a prefix
    matching several jobs), 3 (no such job).

    \b
    Example:
        schedcli cancel 3f2c9a1e
        schedcli cancel 3f2c9a1e 77ab01cd --json
        schedcli cancel 3f2c9a1e --terminate
    """
    import sys

    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        canceller = Canceller(settings, store, terminate)
        outcomes = [canceller.cancel(given) for given in job_ids]
    if as_json:
        import json

        click.echo(json.dumps([outcome.to_json() for outcome in outcomes]))
    else:
        from schedcli.render import render_cancelled

        render_cancelled(outcomes)
    failed = [outcome.exit_code for outcome in outcomes if outcome.exit_code]
    if failed:
        sys.exit(failed[0])
