"""Move a job that waits to run to another time.

RabbitMQ cannot change a message it holds, so a reschedule replaces the job: a new job with the
same task, arguments, queue and key is sent for the new time first, and only once RabbitMQ
confirmed it is the old one cancelled, in the same store transaction that hands its key over and
links the two. A broker that is down leaves the old job untouched.
"""

from __future__ import annotations

import time
from dataclasses import replace

from schedcli.exceptions import BrokerUnavailable, SchedcliError
from schedcli.jobs.requests import job_request
from schedcli.jobs.sending import Dispatcher
from schedcli.store import PENDING_STATES


def reschedule(settings, store, job_id: str, when, now: float | None = None):
    """Replace the waiting job `job_id` by one due at `when`; return (old job, new job)."""
    old = store.get(job_id)
    if old.state not in PENDING_STATES:
        raise SchedcliError(f"job {old.id} is {old.state}; only a job waiting to run (scheduled, queued or "
                            "retrying) can be rescheduled")
    now = time.time() if now is None else now
    request = job_request(old.task, old.args, old.kwargs, when=when, now=now)
    request.schedule = old.schedule  # still shown as its schedule's run (no longer as one of its occurrences)
    if old.expires is not None:
        window = old.expires - (old.eta if old.eta is not None else old.created_at)
        request.expires = (request.eta if request.eta is not None else now) + window
    # Sent without the key: the old job holds it until the switch below hands it over.
    [sent] = Dispatcher(replace(settings, app=old.app), queue=old.queue).send([request])
    if sent.error:
        raise BrokerUnavailable(f"the new job was not sent ({sent.error}); job {old.id} is unchanged")
    if not store.replace_waiting(old.id, sent.job_id, time.time()):
        store.cancel(sent.job_id, time.time())
        raise SchedcliError(f"job {old.id} is {store.get(old.id).state} now; it was not rescheduled")
    new = store.get(sent.job_id)
    return store.get(old.id), new
