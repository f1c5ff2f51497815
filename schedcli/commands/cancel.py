"""`schedcli cancel`: jobs waiting to run never run (see `schedcli.jobs.cancelling`)."""

from __future__ import annotations

import click


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

    from schedcli.jobs.cancelling import Canceller
    from schedcli.store import JobStore

    settings = application.settings
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
