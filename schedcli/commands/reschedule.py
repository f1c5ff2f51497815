"""`schedcli reschedule`: move a job that waits to run to another time.

RabbitMQ cannot change a message it holds, so the job is replaced: a new job with the same task,
arguments, queue and key is sent for the new time first, and only once RabbitMQ confirmed it is
the old one cancelled, in the same store transaction that hands its key over and links the two.
A broker that is down leaves the old job untouched.
"""

from __future__ import annotations

import click

from schedcli.commands.options import schedule_options


@click.command("reschedule")
@click.argument("job_id", metavar="ID")
@schedule_options
@click.option("-q", "--quiet", is_flag=True, help="Print only the new job's id.")
@click.option("--json", "as_json", is_flag=True, help="Print the new job's record as JSON.")
@click.pass_obj
def command(application, job_id, when, quiet, as_json):
    """Move a scheduled job to another time (--in or --at).

    The job must still be waiting (scheduled, queued or retrying). It is replaced by a new job
    with the same task, arguments, queue and key; the old one is cancelled, and `status` of
    either shows the link. An expiry moves with the job, keeping the same window to start in.

    \b
    Example:
        schedcli reschedule 3f2c9a1e --in 2h
        schedcli reschedule 3f2c9a1e --at "friday 9am" -q
    """
    if when is None:
        raise click.UsageError("give the new time with --in or --at")
    import time
    from dataclasses import replace

    from schedcli.dispatch import Dispatcher
    from schedcli.exceptions import BrokerUnavailable, ScheduleError
    from schedcli.jobinput import job_request
    from schedcli.store import PENDING_STATES, JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        old = store.get(job_id)
        if old.state not in PENDING_STATES:
            raise ScheduleError(f"job {old.id} is {old.state}; only a job waiting to run (scheduled, queued or "
                                "retrying) can be rescheduled")
        now = time.time()
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
        old = store.get(old.id)
    if as_json:
        import json

        click.echo(json.dumps(new.to_json()))
    elif quiet:
        click.echo(new.id)
    else:
        from schedcli.render import render_rescheduled

        render_rescheduled(old, new, settings.timezone)
