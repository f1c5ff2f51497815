"""`schedcli cancel`: jobs waiting to run never run (see `schedcli.jobs.cancelling`)."""

from __future__ import annotations

import click

from schedcli.cli.job_filters import since_option, states_option


@click.command("cancel")
@click.argument("job_ids", metavar="[ID]...", nargs=-1)
@click.option("--state", "states", multiple=True, callback=states_option, metavar="STATE",
              help="Cancel every job in this state instead of IDs (repeat for several): SCHEDULED, QUEUED, RETRY.")
@click.option("--task", metavar="TASK", help="With --state: only jobs of this task.")
@click.option("--since", callback=since_option, metavar="SPAN", help="With --state: only jobs sent in the last SPAN.")
@click.option("--dry-run", is_flag=True, help="With --state: count what would be cancelled; cancel nothing.")
@click.option("--terminate", is_flag=True,
              help="Also stop jobs already running: their process gets SIGTERM (Celery's revoke --terminate).")
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON array: {"id", "state", "cancelled", "reason"} per ID; with --state, '
                   '{"cancelled", "dry_run", "states", "task"}.')
@click.pass_obj
def command(application, job_ids, states, task, since, dry_run, terminate, as_json):
    """Cancel scheduled or queued jobs so they never run, even if workers restart.

    A running job is left alone unless --terminate; a finished one cannot be cancelled.
    Give IDs (a full id or a prefix of 8+ characters), each reported; or select many with --state
    (and --task, --since), cancelled a batch at a time. Exits 0 when every job asked for was
    cancelled, else with the code of the first that was not: 1 (running or ended), 2 (a prefix
    matching several jobs), 3 (no such job).

    \b
    Example:
        schedcli cancel 3f2c9a1e
        schedcli cancel 3f2c9a1e 77ab01cd --json
        schedcli cancel 3f2c9a1e --terminate
        schedcli cancel --state scheduled --task proj.tasks.send_newsletter
    """
    if bool(job_ids) == bool(states):
        raise click.UsageError("give the jobs to cancel either as IDs or with --state, not both" if job_ids else
                               "give the jobs to cancel as IDs, or select them with --state scheduled")
    if not states:
        for name, given in (("--task", task is not None), ("--since", since is not None), ("--dry-run", dry_run)):
            if given:
                raise click.UsageError(f"{name} goes with --state (e.g. --state scheduled {name} ...)")
        cancel_each(application.settings, job_ids, terminate, as_json)
    else:
        if terminate:
            raise click.UsageError("--terminate stops running jobs given as IDs; --state selects waiting jobs only")
        cancel_selected(application.settings, states, task, since, dry_run, as_json)


def cancel_each(settings, job_ids, terminate: bool, as_json: bool) -> None:
    import sys

    from schedcli.jobs.cancelling import Canceller
    from schedcli.store import JobStore

    with JobStore.open(settings.database_url) as store:
        canceller = Canceller(settings, store, terminate)
        outcomes = [canceller.cancel(given) for given in job_ids]
    if as_json:
        import json

        click.echo(json.dumps([outcome.to_json() for outcome in outcomes]))
    else:
        from schedcli.cli.rendering import render_cancelled

        render_cancelled(outcomes)
    failed = [outcome.exit_code for outcome in outcomes if outcome.exit_code]
    if failed:
        sys.exit(failed[0])


def cancel_selected(settings, states, task, since, dry_run: bool, as_json: bool) -> None:
    import time

    from schedcli.store import PENDING_STATES, JobStore

    not_waiting = [state for state in states if state not in PENDING_STATES]
    if not_waiting:
        raise click.BadParameter(f"{not_waiting[0]} jobs are not waiting; --state selects "
                                 f"{', '.join(PENDING_STATES)} jobs (a running one is cancelled by ID with "
                                 "--terminate)", param_hint="'--state'")
    with JobStore.open(settings.database_url) as store:
        if dry_run:
            count = store.count_waiting(states, task, since)
        else:
            count = sum(store.cancel_matching(states, time.time(), task, since))
    if as_json:
        import json

        click.echo(json.dumps({"cancelled": count, "dry_run": dry_run, "states": states, "task": task}))
    else:
        verb = "Would cancel" if dry_run else "Cancelled"
        of_task = f" of {task}" if task else ""
        click.echo(f"{verb} {count:,} {'/'.join(states)} job(s){of_task}", err=True)
