"""`--in` and `--at`, shared by every command that schedules a job."""

from __future__ import annotations

import functools

import click

from schedcli.exceptions import TimeExpressionError
from schedcli.timeparse import When, parse_when


class TimeExpression(click.ParamType):
    """A time expression read with `parse_when` at the moment the option is parsed (exit 2 if bad).

    The zone is the global `--tz` / SCHEDCLI_TZ / config / system zone, from the `Application`
    in the context (resolved settings when a command runs without one).
    """

    name = "time"
    relative_only = False

    def convert(self, value, param, ctx) -> When:
        if isinstance(value, When):
            return value
        from datetime import datetime, timezone

        from schedcli.cli.application import Application

        application = ctx.find_object(Application) if ctx is not None else None
        if application is not None:
            zone = application.settings.timezone
        else:
            from schedcli.settings import resolve_settings

            zone = resolve_settings().timezone
        try:
            return parse_when(value, datetime.now(timezone.utc), zone, relative_only=self.relative_only)
        except TimeExpressionError as exc:
            self.fail(str(exc), param, ctx)


class Delay(TimeExpression):
    """`--in`: relative expressions only (`1h`, `1h30m`, `0.5s`, `in 2 days`, `+20m`, `90 minutes`)."""

    name = "delay"
    relative_only = True


DELAY = Delay()
TIME_EXPRESSION = TimeExpression()


def schedule_options(command):
    """Add `--in DELAY` and `--at TIME` to a command; it receives one `when` argument instead.

    `when` is a `schedcli.timeparse.When` (`countdown` in seconds for `--in`, None for an absolute
    `--at` or a delay in calendar months or years; `eta` always set, timezone-aware) or None when neither option was given (run now).
    Giving both is a usage error (exit 2); so is any unreadable or past expression. Put it
    under `@click.command` like any option:

    \b
        @click.command("publish")
        @click.argument("article_id", type=int)
        @schedule_options
        @click.pass_obj
        def command(application, article_id, when):
            ...  # when.countdown / when.eta, or when is None
    """

    @functools.wraps(command)
    def with_when(*args, delay: When | None, moment: When | None, **kwargs):
        if delay is not None and moment is not None:
            raise click.UsageError("use either --in or --at, not both")
        return command(*args, when=delay if delay is not None else moment, **kwargs)

    with_when = click.option(
        "--at", "moment", type=TIME_EXPRESSION, metavar="TIME",
        help='Run at this moment: "tomorrow 12:00", "friday 9am", "2026-12-01 08:00 Europe/Berlin".',
    )(with_when)
    return click.option(
        "--in", "delay", type=DELAY, metavar="DELAY",
        help='Run after this delay: 1h, 1h30m, 0.5s, "in 2 days", "+20m".',
    )(with_when)
