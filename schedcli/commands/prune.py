"""`schedcli prune`: delete finished jobs from the store, a batch at a time, never a waiting or running one."""

from __future__ import annotations

import click

from schedcli.cli.job_filters import states_option


@click.command("prune")
@click.option("--finished-before", "span", required=True, metavar="SPAN",
              help="Delete jobs that ended more than SPAN ago: 30d, 12h, 2 weeks.")
@click.option("--state", "states", multiple=True, callback=states_option, metavar="STATE",
              help="Only jobs that ended in this state (repeat for several; default: every final state): "
                   "SUCCESS, FAILURE, CANCELLED, EXPIRED, SKIPPED.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help='Print {"deleted", "finished_before", "dry_run"}.')
@click.pass_obj
def command(application, span, states, dry_run, as_json):
    """Delete finished jobs that ended before a moment, to keep the store small.

    Only jobs in a final state are deleted; a job waiting, being sent or running never is. The
    deletion goes a batch at a time, each in a short transaction of its own, so senders and
    workers carry on meanwhile. Run it regularly, e.g. from cron:
    `0 3 * * * schedcli prune --finished-before 30d`.

    \b
    Example:
        schedcli prune --finished-before 30d --dry-run
        schedcli prune --finished-before 7d --state success
    """
    import time

    from schedcli.exceptions import BadInput
    from schedcli.store import FINAL_STATES, JobStore, iso
    from schedcli.timeparse import parse_period

    try:
        before = time.time() - parse_period(span)
    except BadInput as exc:
        raise click.BadParameter(str(exc), param_hint="'--finished-before'") from None
    not_final = [state for state in states if state not in FINAL_STATES]
    if not_final:
        raise click.BadParameter(f"{not_final[0]} is not a final state; prune deletes only {', '.join(FINAL_STATES)} "
                                 "jobs", param_hint="'--state'")
    states = list(states or FINAL_STATES)
    with JobStore.open(application.settings.database_url) as store:
        deleted = store.count_finished(before, states) if dry_run else sum(store.prune(before, states))
    if as_json:
        import json

        click.echo(json.dumps({"deleted": deleted, "finished_before": iso(before), "dry_run": dry_run}))
    else:
        from schedcli.cli.rendering import local_time

        verb = "Would delete" if dry_run else "Deleted"
        click.echo(f"{verb} {deleted:,} job(s) that ended before {local_time(before, application.settings.timezone)}",
                   err=True)
