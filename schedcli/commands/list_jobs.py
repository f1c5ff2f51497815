"""`schedcli list`: the jobs in the store, waiting ones first (soonest due first), then the rest newest first."""

from __future__ import annotations

import click

from schedcli.cli.job_filters import since_option, states_option


@click.command("list")
@click.option("--scheduled", is_flag=True, help="Only jobs waiting to run (scheduled, queued, retrying), like atq.")
@click.option("--state", "states", multiple=True, callback=states_option, metavar="STATE",
              help="Only jobs in this state (repeat for several): SCHEDULED, QUEUED, STARTED, PROGRESS, RETRY, "
                   "SUCCESS, FAILURE, CANCELLED, EXPIRED.")
@click.option("--task", metavar="TASK", help="Only jobs of this task.")
@click.option("--since", callback=since_option, metavar="SPAN", help="Only jobs sent in the last SPAN: 30m, 24h, 7d.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of jobs, as `status --json` prints each.")
@click.pass_obj
def command(application, scheduled, states, task, since, limit, as_json):
    """List jobs: waiting ones first, soonest due first, then the others, newest first.

    The `when` column is when a waiting job is due, when a running one started, and when a
    finished one ended, in your zone. Task and arguments are shortened; `status ID` shows them
    whole.

    \b
    Example:
        schedcli list --scheduled
        schedcli list --state failure --since 24h
        schedcli list --task schedcli.tasks.publish_article --limit 10 --json
    """
    from schedcli.store import PENDING_STATES, STATES, JobStore

    if scheduled and any(state not in PENDING_STATES for state in states):
        raise click.BadParameter(f"with --scheduled, --state can only be {', '.join(PENDING_STATES)}",
                                 param_hint="'--state'")
    wanted = states or (PENDING_STATES if scheduled else STATES)
    waiting = [state for state in wanted if state in PENDING_STATES]
    others = [state for state in wanted if state not in PENDING_STATES]
    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        jobs = store.list_jobs(waiting, task=task, since=since, scheduled_only=True, limit=limit) if waiting else []
        if others and len(jobs) < limit:
            jobs += store.list_jobs(others, task=task, since=since, limit=limit - len(jobs))
    import time

    from schedcli.jobs.senders import sender_is_gone

    now = time.time()
    unconfirmed = {job.id for job in jobs if job.state == "SENDING" and sender_is_gone(job, now)}
    if as_json:
        import json

        click.echo(json.dumps([{**job.to_json(), **({"sender_gone": True} if job.id in unconfirmed else {})}
                               for job in jobs]))
    else:
        from schedcli.cli.rendering import render_job_table

        render_job_table(jobs, settings.timezone, now=now, unconfirmed=unconfirmed)
