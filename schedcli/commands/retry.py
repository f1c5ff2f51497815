"""`schedcli retry`: send finished jobs again as new jobs, now or later (see `schedcli.jobs.retrying`)."""

from __future__ import annotations

import click

from schedcli.cli.job_filters import since_option, states_option
from schedcli.cli.time_options import schedule_options


@click.command("retry")
@click.argument("job_ids", metavar="[ID]...", nargs=-1)
@click.option("--state", "states", multiple=True, callback=states_option, metavar="STATE",
              help="Retry every job in this state instead of IDs (repeat for several): FAILURE, EXPIRED, "
                   "CANCELLED, SKIPPED.")
@click.option("--since", callback=since_option, metavar="SPAN", help="With --state: only jobs sent in the last SPAN.")
@click.option("--task", metavar="TASK", help="With --state: only jobs of this task.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(min=1),
              help="With --state: retry at most this many (the newest).")
@schedule_options
@click.option("-q", "--quiet", is_flag=True, help="Print only the new jobs' ids.")
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON array: {"id", "retried", "retried_as", "reason"} per job.')
@click.pass_obj
def command(application, job_ids, states, since, task, limit, when, quiet, as_json):
    """Send jobs that ended without success again, as new jobs: now, or later with --in / --at.

    Each new job has the same task, arguments, queue and key; `status` of either shows the link
    ("retry of", "retried as"). A job is retried once: to try again, retry the new one. Give IDs
    (full or 8+ character prefixes), or select with --state (and --since, --task). Exits 0 when
    every job was retried, else with the code of the first that was not: 1 (its state), 2 or 3
    (a bad ID), 69 (RabbitMQ).

    \b
    Example:
        schedcli retry 3f2c9a1e
        schedcli retry --state failure --since 24h
        schedcli retry 3f2c9a1e --in 10m -q
    """
    import sys

    from schedcli.jobs.retrying import RETRYABLE_STATES, retry
    from schedcli.store import JobStore

    if bool(job_ids) == bool(states):
        raise click.UsageError("give the jobs to retry either as IDs or with --state, not both" if job_ids else
                               "give the jobs to retry as IDs, or select them with --state failure")
    if (since is not None or task is not None) and not states:
        raise click.UsageError("--since and --task select jobs together with --state")
    unretryable = [state for state in states if state not in RETRYABLE_STATES]
    if unretryable:
        raise click.BadParameter(f"{unretryable[0]} jobs cannot be retried; retry {', '.join(RETRYABLE_STATES)} "
                                 "jobs", param_hint="'--state'")
    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        if states:
            job_ids = [job.id for job in store.list_jobs(list(states), task=task, since=since, limit=limit)]
        outcomes = retry(settings, store, list(job_ids), when=when)
    if as_json:
        import json

        click.echo(json.dumps([outcome.to_json() for outcome in outcomes]))
    elif quiet:
        click.echo("\n".join(outcome.new.id for outcome in outcomes if outcome.new))
    else:
        from schedcli.cli.rendering import render_retried

        render_retried(outcomes, settings.timezone)
    failed = [outcome.exit_code for outcome in outcomes if outcome.exit_code]
    if failed:
        sys.exit(failed[0])
