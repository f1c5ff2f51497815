"""`schedcli when "every ..."`: a recurrence in words and its next occurrences (`when` delegates here)."""

from __future__ import annotations

from datetime import datetime, tzinfo

import click


def show_recurrence(expression: str, now: datetime, zone: tzinfo, count: int | None, as_json: bool) -> None:
    """Print what `expression` means as a recurrence and its next `count` (default 5) occurrences after `now`.

    `--json` prints {"expression", "timezone", "recurrence", "next": [ISO 8601 with offset, ...]}.
    """
    from schedcli.exceptions import BadInput
    from schedcli.schedules.occurrences import preview
    from schedcli.timetext import format_delay

    if count is not None and not 1 <= count <= 1000:
        raise BadInput(f"--count {count} is out of range; give 1 to 1000")
    shown = preview(expression, now, zone, count or 5)
    if as_json:
        import json

        click.echo(json.dumps({"expression": expression, "timezone": shown.recurrence.zone_name,
                               "recurrence": shown.recurrence.described,
                               "next": [moment.isoformat() for moment in shown.next]}, ensure_ascii=False))
        return
    click.echo(f"means  {shown.recurrence.described}")
    for moment in shown.next:
        offset = moment.isoformat()[19:]
        delay = format_delay(moment.timestamp() - now.timestamp())
        click.echo(f"next   {moment:%a %Y-%m-%d %H:%M:%S} {offset} {moment:%Z}  ({delay})")
