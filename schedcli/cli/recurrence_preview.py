"""`schedcli when "every ..."`: a recurrence in words and its next occurrences (`when` delegates here)."""

from __future__ import annotations

import click


def show_recurrence(application, expression: str, now_text: str | None, zone_text: str | None, count: int | None,
                    as_json: bool) -> None:
    """Print what `expression` means as a recurrence and its next `count` (default 5) occurrences.

    `--json` prints {"expression", "timezone", "recurrence", "next": [ISO 8601 with offset, ...]}.
    """
    from datetime import datetime, timezone

    from schedcli.exceptions import BadInput
    from schedcli.schedules.occurrences import preview
    from schedcli.timeparse import format_delay, resolve_zone

    zone = resolve_zone(zone_text or application.settings.timezone)
    now = datetime.now(timezone.utc)
    if now_text is not None:
        try:
            now = datetime.fromisoformat(now_text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise BadInput(f"--now {now_text!r} is not ISO 8601; try 2026-11-25T10:00:00 or "
                           "2026-11-25T10:00:00+01:00") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=zone)
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
