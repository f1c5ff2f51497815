"""Send a finished job again as a new job: the same task, arguments, queue and key, now or later.

Sidekiq's retry set and rq's requeue are the precedents. The two jobs are linked both ways (`retry_of`,
`retried_as`), and a job is retried once: to try again, retry the new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from schedcli.exceptions import SchedcliError, UnknownJob
from schedcli.jobs.requests import job_request
from schedcli.jobs.sending import Dispatcher

RETRYABLE_STATES = ("FAILURE", "EXPIRED", "CANCELLED", "SKIPPED")


@dataclass
class RetryOutcome:
    """What became of one ID: the new job, or why not (`exit_code` 1 for its state, 2/3 for a bad ID, 69 unsent)."""

    id: str
    job: object = None  # the old job, when the ID names one
    new: object = None  # the new job, when sent
    reason: str | None = None
    exit_code: int = 0

    def to_json(self) -> dict:
        return {"id": self.id, "retried": self.new is not None, "retried_as": self.new.id if self.new else None,
                "reason": self.reason}


def retry(settings, store, given: list[str], when=None, now: float | None = None) -> list[RetryOutcome]:
    """Retry each job of `given` (ids or prefixes) that has ended without success, at `when` (None: now)."""
    now = time.time() if now is None else now
    outcomes, groups = [], {}
    for job_id in given:
        try:
            job = store.get(job_id)
        except (SchedcliError, UnknownJob) as exc:
            outcomes.append(RetryOutcome(job_id, reason=str(exc), exit_code=exc.exit_code))
            continue
        outcome = RetryOutcome(job.id, job=job)
        outcomes.append(outcome)
        if job.state not in RETRYABLE_STATES:
            outcome.reason = (f"it is {job.state}; only a job that ended without success (failure, expired, "
                              "cancelled, skipped) can be retried")
            outcome.exit_code = 1
        elif job.retried_as:
            outcome.reason = f"it was retried already as {job.retried_as}; retry that one"
            outcome.exit_code = 1
        else:
            groups.setdefault((job.app, job.queue), []).append(outcome)
    for (app, queue), waiting in groups.items():
        requests = []
        for outcome in waiting:
            old = outcome.job
            request = job_request(old.task, old.args, old.kwargs, when=when, key=old.key, now=now)
            request.retry_of = old.id
            requests.append(request)
        try:
            sent = Dispatcher(replace(settings, app=app), queue=queue).send(requests)
        except SchedcliError as exc:
            for outcome in waiting:
                outcome.reason, outcome.exit_code = str(exc), exc.exit_code
            continue
        for outcome, result in zip(waiting, sent):
            if result.error:
                outcome.reason, outcome.exit_code = f"not sent: {result.error}", 69
            elif result.existing:
                outcome.reason = f"job {result.job_id} holds its key {outcome.job.key!r} and has not ended"
                outcome.exit_code = 1
            else:
                store.link_retry(outcome.job.id, result.job_id)
                outcome.new = result.job
    return outcomes

