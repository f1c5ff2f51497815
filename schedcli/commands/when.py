"""`schedcli when`: what a time expression means, before anyone schedules with it."""

from __future__ import annotations

import click


@click.command("when")
@click.argument("expression")
@click.option("--now", "now_text", metavar="ISO",
              help="Read the expression as if it were this moment (ISO 8601; without an offset, in the zone).")
@click.option("--tz", "zone_text", metavar="ZONE",
              help="Zone in which to read the words (default: the global --tz / SCHEDCLI_TZ, else the system's).")
@click.option("--json", "as_json", is_flag=True,
              help='Print one JSON object: {"expression", "countdown", "eta", "timezone"}.')
@click.option("--count", type=int, metavar="N",
              help='For a recurrence ("every monday 9am", a cron line): how many next runs to show (default 5).')
@click.pass_obj
def command(application, expression, now_text, zone_text, as_json, count):
    """Show what a time expression means: a countdown, or a fixed moment (eta).

    Prints the moment in the zone and in UTC, and how long until it. A relative expression
    ("in 90m") is a countdown in elapsed seconds; a delay in months or years ("in 1 month") and
    anything else is a fixed moment, for which "countdown" is null in --json. The language is
    described in docs/time-expressions.md.

    \b
    Example:
        schedcli when "tomorrow 12:00"
        schedcli when "in 90m" --json
        schedcli when "friday 9am" --now 2026-11-25T10:00:00 --tz Europe/Berlin --json
    """
    from datetime import datetime, timezone

    from schedcli.exceptions import BadInput
    from schedcli.schedules.expressions import looks_recurring
    from schedcli.timeparse import parse_when
    from schedcli.timetext import format_delay, resolve_zone

    zone = resolve_zone(zone_text or application.settings.timezone)
    if now_text is None:
        now = datetime.now(timezone.utc)
    else:
        try:
            now = datetime.fromisoformat(now_text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise BadInput(f"--now {now_text!r} is not ISO 8601; try 2026-11-25T10:00:00 or "
                           "2026-11-25T10:00:00+01:00") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=zone)
    if looks_recurring(expression):  # "every monday 9am", "0 9 * * 1-5", "@daily": see docs/schedules.md
        from schedcli.cli.recurrence_preview import show_recurrence

        return show_recurrence(expression, now, zone, count, as_json)
    when = parse_when(expression, now, zone)

    if as_json:
        import json

        click.echo(json.dumps({"expression": expression, "countdown": when.countdown,
                               "eta": when.eta.isoformat(), "timezone": when.zone_name}))
        return
    utc = when.eta.astimezone(timezone.utc)
    if when.countdown is not None:
        kind = f"a countdown of {when.countdown:.10g} s"
    elif when.calendar_delay:
        kind = "a fixed moment (eta): months and years are calendar units, their length depends on the dates"
    else:
        kind = "a fixed moment (eta)"
    offset = when.eta.replace(microsecond=0).isoformat()[19:]
    rows = [
        ("means", kind),
        (when.zone_name, f"{when.eta:%a %Y-%m-%d %H:%M:%S} {offset} {when.eta:%Z}"),
        ("UTC", f"{utc:%a %Y-%m-%d %H:%M:%S}"),
        ("when", format_delay((utc - now.astimezone(timezone.utc)).total_seconds())),  # elapsed, not wall-clock
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label.ljust(width)}  {value}")
