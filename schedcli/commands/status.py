"""`schedcli status`: one job's state, progress, result or error (read by `schedcli.jobs.reading`)."""

from __future__ import annotations

import click

@click.command("status")
@click.argument("job_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the job as one JSON object.")
@click.option("--watch", is_flag=True, help="Redraw until the job ends, then exit with its code.")
@click.pass_obj
def command(application, job_id, as_json, watch):
    """Show one job: its state, when it is due, progress, result or error and traceback.

    ID is a job id or a unique prefix of it (8 characters or more). Exits 0 when the job is
    waiting, running or succeeded; 1 when it failed, was cancelled or expired; 3 when no job
    has that id; 2 when a prefix matches several jobs (they are listed).

    \b
    Example:
        schedcli status 3f2c9a1e
        schedcli status 3f2c9a1e --watch
        schedcli status 3f2c9a1e --json
    """
    import sys

    from schedcli.jobs.reading import EXIT_CODES, JobReader
    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        reader = JobReader(settings, store)
        if watch:
            from schedcli.cli.rendering import render_job_live

            try:
                if as_json:
                    *_, view = reader.follow(job_id)
                else:
                    view = render_job_live(reader.follow(job_id), settings.timezone)
            except KeyboardInterrupt:
                click.echo(f"Stopped watching; the job goes on. Look again with: schedcli status {job_id}",
                           err=True)
                sys.exit(130)
        else:
            view = reader.read(job_id)
    if as_json:
        import json

        click.echo(json.dumps(view.to_json(), default=str))
    elif not watch:
        from schedcli.cli.rendering import render_job

        render_job(view.job, settings.timezone, note=view.note)
    sys.exit(EXIT_CODES.get(view.job.state, 0))
