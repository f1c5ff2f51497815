"""`schedcli report run`: queue the jobs report (CSV and a self-contained HTML page)."""

from __future__ import annotations

import click

from schedcli.cli.time_options import schedule_options
from schedcli.cli.send_options import sending_options


@click.group("report")
def command():
    """Generate the jobs report: jobs by task and state, lateness, failures, articles.

    \b
    Example:
        schedcli report run --wait
        schedcli report run --period 24h --format html --at "monday 9am"
    """


@command.command("run")
@click.option("--period", default="7d", show_default=True, metavar="SPAN",
              help="How far back the report looks: 24h, 7d, 2w.")
@click.option("--format", "output_format", default="both", show_default=True,
              type=click.Choice(["html", "csv", "both"]), help="Files to write into the reports folder.")
@click.option("--every", "every", metavar="EXPR",
              help='Make it a recurring schedule ("monday 9am"), named report-<period>-<format>; see `schedcli schedule`.')
@schedule_options
@sending_options
@click.pass_obj
def run(application, period, output_format, every, when, key, wait, quiet, as_json):
    """Queue the report job, now or later; the worker writes it into the reports folder.

    \b
    Example:
        schedcli report run
        schedcli report run --period 24h --format html --wait
        schedcli report run --in 2h -q
        schedcli report run --every "monday 9am"
    """
    from schedcli.cli.send_options import send_and_report
    from schedcli.jobs.requests import job_request
    from schedcli.report import check_reports_folder
    from schedcli.timeparse import parse_period

    parse_period(period)  # a bad span fails here (exit 2), not later in the worker
    check_reports_folder(application.settings.reports_dir)  # likewise a folder the job cannot write (exit 73)
    if every is not None:
        if when or key or wait:
            raise click.UsageError("--every makes a schedule; --in, --at, --key and --wait are for one report")
        from schedcli.commands.schedule import every_text, echo_change
        from schedcli.schedules.editing import add_schedule

        change = add_schedule(application.settings, f"report-{period}-{output_format}", every_text(every),
                              "schedcli.tasks.generate_report", [period, output_format], {}, replace=True)
        if quiet:
            click.echo(change.schedule.name)
        else:
            echo_change(change, "Scheduled", application.settings.timezone, as_json)
        return
    request = job_request("schedcli.tasks.generate_report", [period, output_format], {}, when=when, key=key)
    send_and_report(application.settings, request, wait=wait, quiet=quiet, as_json=as_json)
