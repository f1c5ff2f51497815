"""`schedcli call`: send any task of the configured Celery app, now or later, one job or a file of them."""

from __future__ import annotations

import click

from schedcli.cli.time_options import TIME_EXPRESSION, schedule_options
from schedcli.cli.send_options import sending_options


@click.command("call")
@click.argument("task")
@click.argument("task_args", metavar="[ARG]...", nargs=-1)
@click.option("--args", "args_json", metavar="JSON", help="Positional arguments as a JSON array.")
@click.option("--kwargs", "kwargs_json", metavar="JSON", help="Keyword arguments as a JSON object.")
@schedule_options
@click.option("--queue", metavar="QUEUE", help="Send to this queue instead of the app's route for the task.")
@click.option("--expires", type=TIME_EXPRESSION, metavar="TIME",
              help="Drop the job if it has not started by then (`1h`, `tomorrow 12:00`).")
# Bytes that are not UTF-8 are kept (as surrogates) so that only their line is refused, with its number.
@click.option("--from-file", "from_file", metavar="FILE",
              type=click.File("r", encoding="utf-8", errors="surrogateescape"),
              help="Send one job per line of JSON: {\"args\", \"kwargs\", \"in\", \"at\", \"key\"}; `-` reads stdin.")
@sending_options
@click.pass_obj
def command(application, task, task_args, args_json, kwargs_json, when, queue, expires, from_file, key, wait,
            quiet, as_json):
    """Send TASK of the configured app, now or at a given time.

    Each ARG is read as JSON when it parses (`42` a number, '"42"' a string, '{"a": 1}' an
    object), otherwise taken as a plain string.

    \b
    Example:
        schedcli call schedcli.tasks.publish_article 42 --in 1h
        schedcli --app myproj.celery:app call myproj.tasks.add 2 3 --wait
        schedcli call schedcli.tasks.echo --kwargs '{"x": 1}' --at "friday 9am" -q
        schedcli call schedcli.tasks.echo --from-file jobs.jsonl -q
    """
    from schedcli.jobs import requests as jobinput
    from schedcli.cli.send_options import send_and_report, send_file_and_report

    settings = application.settings
    if from_file is not None:
        if task_args or args_json or kwargs_json or when or key or wait:
            raise click.UsageError("--from-file takes the args, kwargs, time and key of each job from its lines; "
                                   "give only TASK (and --queue, --expires) with it")
        send_file_and_report(settings, task, from_file, queue=queue, expires=expires, quiet=quiet, as_json=as_json)
        return
    args, kwargs = jobinput.arguments(task_args, args_json, kwargs_json)
    request = jobinput.job_request(task, args, kwargs, when=when, expires=expires, key=key)
    send_and_report(settings, request, queue=queue, wait=wait, quiet=quiet, as_json=as_json)
