"""`schedcli reschedule`: move a job that waits to run to another time (see `schedcli.jobs.rescheduling`)."""

from __future__ import annotations

import click

from schedcli.cli.time_options import schedule_options


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
    from schedcli.jobs.rescheduling import reschedule
    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        old, new = reschedule(settings, store, job_id, when)
    if as_json:
        import json

        click.echo(json.dumps(new.to_json()))
    elif quiet:
        click.echo(new.id)
    else:
        from schedcli.cli.rendering import render_rescheduled

        render_rescheduled(old, new, settings.timezone)
