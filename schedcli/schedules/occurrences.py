"""The occurrences of a recurrence: the instants (epoch seconds UTC) at which a schedule runs.

DST, stated once: a wall-clock schedule (calendar words or a cron line) runs exactly once per local
day it names. A time in a spring-forward gap runs at the first instant after the gap (02:30 in
Europe/Berlin on the last Sunday of March runs at 03:00); a time that happens twice on a fall-back
day runs once, at the first of the two. A cron line whose hour field is `*` or a step runs at each
real hour, so on a fall-back day "*/30 * * * *" runs in both 02:00-03:00 hours (Debian cron's rule,
which cronsim implements). Intervals count elapsed seconds and ignore the clock.

Occurrences are whole seconds: the unique (schedule, occurrence) of the job store compares them exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from schedcli.schedules.expressions import Recurrence, looks_recurring, parse_recurrence
from schedcli.timetext import resolve_zone


def occurrences_after(recurrence: Recurrence, after: float, start: int) -> Iterator[int]:
    """The occurrences strictly after `after` and not before `start`, in order (an endless iterator).

    An interval's occurrences are `start + k * seconds` (k = 0, 1, ...); a cron line's are its
    matching wall-clock times in the recurrence's zone.
    """
    if recurrence.seconds is not None:
        step = recurrence.seconds
        k = 0 if after < start else math.floor((after - start) / step) + 1
        while True:
            yield start + k * step
            k += 1
    from cronsim import CronSim

    begin = max(after, start - 1)
    moment = datetime.fromtimestamp(math.floor(begin), timezone.utc).astimezone(recurrence.zone)
    for local in CronSim(recurrence.cron, moment):
        yield int(local.timestamp())


def occurrences_before(recurrence: Recurrence, before: float, start: int) -> Iterator[int]:
    """The occurrences strictly before `before` and not before `start`, latest first (ends at `start`)."""
    if recurrence.seconds is not None:
        step = recurrence.seconds
        k = math.ceil((before - start) / step) - 1
        while k >= 0:
            yield start + k * step
            k -= 1
        return
    from cronsim import CronSim

    moment = datetime.fromtimestamp(math.ceil(before), timezone.utc).astimezone(recurrence.zone)
    for local in CronSim(recurrence.cron, moment, reverse=True):
        epoch = int(local.timestamp())
        if epoch < start:
            return
        if epoch < before:
            yield epoch


@dataclass(frozen=True)
class Preview:
    """What `schedcli when "every ..."` shows: the recurrence in words and its next occurrences."""

    expression: str
    recurrence: Recurrence
    next: list[datetime]


def preview(expression: str, now: datetime, zone, count: int = 5) -> Preview:
    """The next `count` occurrences of `expression` after `now` (an interval starts counting at `now`)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    recurrence = parse_recurrence(expression, resolve_zone(zone))
    start = math.ceil(now.timestamp())
    if recurrence.seconds is not None:
        start += recurrence.seconds
    found = []
    for epoch in occurrences_after(recurrence, now.timestamp(), start):
        found.append(datetime.fromtimestamp(epoch, timezone.utc).astimezone(recurrence.zone))
        if len(found) >= count:
            break
    return Preview(expression, recurrence, found)


__all__ = ["Preview", "looks_recurring", "occurrences_after", "occurrences_before", "parse_recurrence", "preview"]
