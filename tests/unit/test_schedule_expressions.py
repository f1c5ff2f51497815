"""`--every` expressions and their occurrences: the grammar, cron lines, and the DST rules of docs/schedules.md.

`now` is a parameter throughout: no test sleeps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedcli.exceptions import TimeExpressionError
from schedcli.schedules.expressions import looks_recurring, parse_recurrence
from schedcli.schedules.occurrences import occurrences_after, preview

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def runs(expression: str, now: str, zone, count: int = 3) -> list[str]:
    moment = datetime.fromisoformat(now)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return [when.isoformat() for when in preview(expression, moment, zone, count).next]


@pytest.mark.parametrize("expression, cron", [
    ("every day at 9:00", "0 9 * * *"),
    ("every weekday 9am", "0 9 * * 1-5"),
    ("every monday 9am", "0 9 * * 1"),
    ("every mon,thu 14:30", "30 14 * * 1,4"),
    ("every Monday and Thursday at 2:30pm", "30 14 * * 1,4"),
    ("every sunday, saturday 10:00", "0 10 * * 6,0"),
    ("every month on the 1st at 06:00", "0 6 1 * *"),
    ("every 15th of the month 8am", "0 8 15 * *"),
    ("every last day of the month 23:00", "0 23 L * *"),
    ("every day at noon", "0 12 * * *"),
    ("every weekend 10am", "0 10 * * 0,6"),
    ("каждый понедельник в 9:00", "0 9 * * 1"),
    ("каждый день в 12:00", "0 12 * * *"),
    ("каждый будний день в 9 утра", "0 9 * * 1-5"),
    ("каждую пятницу в 18:30", "30 18 * * 5"),
    ("0 9 * * 1-5", "0 9 * * 1-5"),
    ("*/5 * * * *", "*/5 * * * *"),
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
])
def test_calendar_words_and_cron_lines_become_cron_lines(expression, cron):
    recurrence = parse_recurrence(expression, "UTC")
    assert (recurrence.cron, recurrence.seconds) == (cron, None)


@pytest.mark.parametrize("expression, seconds", [
    ("every 15m", 900), ("every 2 hours", 7200), ("every 30s", 30), ("every 1h30m", 5400),
    ("every hour", 3600), ("every minute", 60), ("every 2 days", 172800),
    ("каждые 15 минут", 900), ("каждый час", 3600), ("каждые 2 часа", 7200), ("каждые 30 секунд", 30),
])
def test_intervals_are_elapsed_seconds(expression, seconds):
    assert parse_recurrence(expression, "UTC").seconds == seconds


def test_a_zone_at_the_end_wins_over_the_default_zone():
    recurrence = parse_recurrence("every monday 9am Europe/Berlin", "America/New_York")
    assert (recurrence.zone_name, recurrence.expression) == ("Europe/Berlin", "every monday 9am")
    assert parse_recurrence("0 9 * * * UTC", "Europe/Berlin").zone_name == "UTC"


@pytest.mark.parametrize("expression", [
    "every", "every foo", "every day", "every monday", "every 0s", "every 25:00 day", "every day at 25:00",
    "every day at 13pm", "every month on the 32nd at 6:00", "61 * * * *", "0 9 * *", "every day at 9:00:30",
    "every monday 9am Mars/Olympus", "",
])
def test_bad_expressions_are_one_line_errors(expression):
    with pytest.raises(TimeExpressionError) as caught:
        parse_recurrence(expression, "UTC")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text, recurring", [
    ("every monday 9am", True), ("каждый час", True), ("каждые 15 минут", True), ("0 9 * * 1-5", True),
    ("*/5 * * * * Europe/Berlin", True), ("@daily", True), ("tomorrow 9am", False), ("in 5m", False),
    ("next friday at 9 am", False), ("2026-12-01 08:00 Europe/Berlin", False), ("Dec 24 18:00", False),
])
def test_when_knows_a_recurrence_from_a_moment(text, recurring):
    assert looks_recurring(text) is recurring


def test_an_interval_counts_from_its_start_not_from_the_clock():
    recurrence = parse_recurrence("every 15m", "UTC")
    first = list(zip(range(3), occurrences_after(recurrence, 1000.0, 1007)))
    assert [epoch for _, epoch in first] == [1007, 1907, 2807]
    assert next(occurrences_after(recurrence, 1907, 1007)) == 2807  # strictly after


# --- DST: both changes, two zones, daily / weekly / monthly / cron ---------------------------------
# 2026: Europe/Berlin springs forward on Sun 29 March (02:00 -> 03:00) and falls back on Sun 25 October
# (03:00 -> 02:00); America/New_York on Sun 8 March (02:00 -> 03:00) and Sun 1 November (02:00 -> 01:00).

@pytest.mark.parametrize("expression, zone, now, expected", [
    # spring forward: a time in the gap runs at the first instant after it, once
    ("every day at 2:30", BERLIN, "2026-03-28T12:00",
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
    ("every sunday 2:30", BERLIN, "2026-03-28T12:00",
     ["2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00"]),
    ("every month on the 29th at 2:30", BERLIN, "2026-03-01T00:00",
     ["2026-03-29T03:00:00+02:00", "2026-04-29T02:30:00+02:00"]),
    ("30 2 * * 0", BERLIN, "2026-03-28T12:00", ["2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00"]),
    ("every day at 2:30", NEW_YORK, "2026-03-07T12:00",
     ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
    ("every sunday 2:30am", NEW_YORK, "2026-03-07T12:00",
     ["2026-03-08T03:00:00-04:00", "2026-03-15T02:30:00-04:00"]),
    ("every month on the 8th at 2:30", NEW_YORK, "2026-03-01T00:00",
     ["2026-03-08T03:00:00-04:00", "2026-04-08T02:30:00-04:00"]),
    ("30 2 8 3 *", NEW_YORK, "2026-03-01T00:00", ["2026-03-08T03:00:00-04:00", "2027-03-08T02:30:00-05:00"]),
    # fall back: a time that happens twice runs once, at the first of the two
    ("every day at 2:30", BERLIN, "2026-10-24T12:00",
     ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ("every sunday 2:30", BERLIN, "2026-10-24T12:00",
     ["2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00"]),
    ("every month on the 25th at 2:30", BERLIN, "2026-10-01T00:00",
     ["2026-10-25T02:30:00+02:00", "2026-11-25T02:30:00+01:00"]),
    ("30 2 * * *", BERLIN, "2026-10-24T12:00", ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ("every day at 1:30", NEW_YORK, "2026-10-31T12:00",
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    ("every sunday 1:30am", NEW_YORK, "2026-10-31T12:00",
     ["2026-11-01T01:30:00-04:00", "2026-11-08T01:30:00-05:00"]),
    ("every month on the 1st at 1:30", NEW_YORK, "2026-10-15T00:00",
     ["2026-11-01T01:30:00-04:00", "2026-12-01T01:30:00-05:00"]),
    ("30 1 * * 0", NEW_YORK, "2026-10-31T12:00", ["2026-11-01T01:30:00-04:00", "2026-11-08T01:30:00-05:00"]),
])
def test_wall_clock_schedules_across_dst(expression, zone, now, expected):
    assert runs(expression, now, zone, count=2) == expected


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("clock", ["0:30", "1:30", "2:00", "2:30", "3:00", "9:00"])
def test_a_daily_schedule_runs_exactly_once_per_local_day_for_a_year(zone, clock):
    start = datetime(2026, 1, 1, tzinfo=zone)
    moments = preview(f"every day at {clock}", start, zone, count=366).next
    days = [moment.date() for moment in moments]
    assert days == [start.date() + timedelta(days=n) for n in range(366)]
    assert all(b.timestamp() - a.timestamp() >= 22 * 3600 for a, b in zip(moments, moments[1:]))


def test_a_cron_line_with_a_star_hour_runs_in_both_repeated_hours():
    """Debian cron's rule for wildcard hours: every real half hour runs, so the repeated hour runs twice."""
    times = runs("*/30 * * * *", "2026-10-25T01:45+02:00", BERLIN, count=4)
    assert times == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                     "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00"]


@pytest.mark.parametrize("zone, now", [(BERLIN, "2026-03-29T01:00"), (BERLIN, "2026-10-25T01:00"),
                                       (NEW_YORK, "2026-03-08T01:00"), (NEW_YORK, "2026-11-01T00:30")])
def test_an_interval_counts_elapsed_seconds_across_dst(zone, now):
    moments = preview("every 30m", datetime.fromisoformat(now).replace(tzinfo=zone), zone, count=8).next
    assert {b.timestamp() - a.timestamp() for a, b in zip(moments, moments[1:])} == {1800.0}
