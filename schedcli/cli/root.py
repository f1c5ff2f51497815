"""The root command: global options, a lazy table of subcommands, and the error boundary.

Subcommand modules are imported only when their command runs, so `schedcli --help` stays instant
(no Celery, kombu or Rich import on that path).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from schedcli import __version__
from schedcli.cli.application import Application
from schedcli.exceptions import SchedcliError

# command name -> (module under schedcli.commands, one-line summary shown by --help)
COMMANDS = {
    "when": ("when", "Show what a time expression means (countdown or eta)."),
    "call": ("call", "Send any task of the configured Celery app, now or later."),
    "publish": ("publish", "Publish an article now or at a given time."),
    "article": ("article", "Add and list articles."),
    "report": ("report", "Generate the jobs report (CSV and HTML)."),
    "status": ("status", "Show one job: state, progress, result or error."),
    "list": ("list_jobs", "List jobs; --scheduled is `atq`."),
    "cancel": ("cancel", "Cancel scheduled or queued jobs so they never run."),
    "reschedule": ("reschedule", "Move a scheduled job to another time."),
    "retry": ("retry", "Send jobs that ended without success again, as new jobs."),
    "prune": ("prune", "Delete finished jobs from the store, a batch at a time."),
    "schedule": ("schedule", "Recurring jobs: add, list, show, pause, resume, remove, run, tick."),
    "worker": ("worker", "Start a worker or see which workers answer."),
    "doctor": ("doctor", "Check RabbitMQ, the delay topology, the database and workers."),
    "config": ("config", "Print the resolved settings and where each came from."),
    "completion": ("completion", "Print the shell completion script (bash, zsh, fish)."),
    "serve": ("serve", "Serve the HTTP API and the dashboard."),
}


class CommandError(click.ClickException):
    """An expected failure: one line on stderr, no traceback, its own exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[name]
        module = importlib.import_module(f"schedcli.commands.{module_name}")
        return getattr(module, "command")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 reach Python as lone surrogates
                shown = arg.encode("utf-8", "backslashreplace").decode("utf-8")
                raise click.UsageError(f"argument '{shown}' is not UTF-8 text") from None
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SchedcliError as exc:
            raise CommandError(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            raise _one_line(exc) from None


def _one_line(exc: click.UsageError) -> click.UsageError:
    """Bad usage is one line ("Error: ..."), like every other error; `--help` shows the usage."""
    exc.ctx = None
    return exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="schedcli")
@click.option("--broker", metavar="URL", help="RabbitMQ URL.  [env SCHEDCLI_BROKER_URL]")
@click.option("--database", metavar="URL",
              help="Job store, an SQLAlchemy URL.  [env SCHEDCLI_DATABASE_URL]")
@click.option("--app", "app_path", metavar="MODULE[:ATTR]",
              help="Celery app to drive, like `celery -A`.  [env SCHEDCLI_APP]")
@click.option("--tz", metavar="ZONE", help="Zone for reading and showing times.  [env SCHEDCLI_TZ]")
@click.pass_context
def cli(ctx: click.Context, broker, database, app_path, tz):
    """at for Celery: schedule background jobs on RabbitMQ.

    \b
    Example:
        schedcli worker start &
        schedcli report run
        schedcli publish 42 --at "tomorrow 12:00"
        schedcli status 3f2c9a1e
    """
    ctx.obj = Application({"broker_url": broker, "database_url": database, "app": app_path, "timezone": tz})


def main() -> None:
    """Console entry point: expected errors are one line; anything else a traceback only when debugging."""
    try:
        cli.main(prog_name="schedcli", standalone_mode=True)
    except Exception as exc:  # an unexpected failure escaped a command
        if os.environ.get("SCHEDCLI_DEBUG") == "1":
            from rich.console import Console

            Console(stderr=True).print_exception()
        else:
            click.echo(f"Error: unexpected {type(exc).__name__}: {exc} (set SCHEDCLI_DEBUG=1 for the traceback)",
                       err=True)
        sys.exit(70)  # EX_SOFTWARE
