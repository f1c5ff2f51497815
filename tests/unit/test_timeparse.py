"""The time expression language: every form, every error, DST, rollovers, and properties that always hold."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedcli.exceptions import TimeExpressionError
from schedcli.timeparse import MAX_DELAY, When, parse_when
from schedcli.timetext import format_delay, resolve_zone

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Wednesday 25 November 2026, 10:00 in Berlin (09:00 UTC)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)


def parse(text, now=NOW, zone="Europe/Berlin", **kwargs) -> When:
    return parse_when(text, now, zone, **kwargs)


def local(*args, zone=BERLIN) -> datetime:
    return datetime(*args, tzinfo=zone)


# --- relative ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("in 2h", 7200), ("in 45 minutes", 2700), ("in 1h30m", 5400), ("in 1 hour 30 minutes", 5400),
    ("in 2.5h", 9000), ("+20m", 1200), ("in 10s", 10), ("in 2 days", 172800), ("in 1 week", 604800),
    ("now", 0), ("1h", 3600), ("0.5s", 0.5), ("90 minutes", 5400), ("1h 30m", 5400), ("1h, 30m", 5400),
    ("in 1 hr 5 mins", 3900), ("3 secs", 3), ("2 wks", 1209600), ("1d12h", 129600), ("in an hour", 3600),
    ("in a day", 86400), ("IN 2H", 7200), ("  in   2h  ", 7200),
])
def test_relative_expression_is_a_countdown_in_seconds(text, seconds):
    when = parse(text)
    assert when.countdown == seconds
    assert when.eta == NOW + timedelta(seconds=seconds)
    assert when.zone_name == "Europe/Berlin"


@pytest.mark.parametrize("text, seconds", [
    ("через 2 часа", 7200), ("через 15 минут", 900), ("через час", 3600), ("через полчаса", 1800),
    ("через 1,5 часа", 5400), ("через 2 дня", 172800), ("через неделю", 604800), ("через 30 секунд", 30),
    ("сейчас", 0),
])
def test_russian_relative_expression_is_a_countdown(text, seconds):
    assert parse(text).countdown == seconds


def test_relative_eta_is_expressed_in_the_users_zone():
    when = parse("in 1h", now=datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc), zone="America/New_York")
    assert when.eta.isoformat() == "2026-11-25T05:00:00-05:00"
    assert when.zone_name == "America/New_York"


@pytest.mark.parametrize("now, text, eta", [
    # Berlin springs forward on 2026-03-29: 24 elapsed hours end at 13:00 summer time
    (local(2026, 3, 28, 12, 0), "in 24h", "2026-03-29T13:00:00+02:00"),
    (local(2026, 3, 28, 12, 0), "in 1 day", "2026-03-29T13:00:00+02:00"),
    # New York falls back on 2026-11-01: 24 elapsed hours end at 11:00 standard time
    (local(2026, 10, 31, 12, 0, zone=NEW_YORK), "in 24h", "2026-11-01T11:00:00-05:00"),
])
def test_relative_delay_counts_elapsed_seconds_across_a_dst_change(now, text, eta):
    when = parse(text, now=now, zone=now.tzinfo)
    assert when.countdown == 86400
    assert when.eta.isoformat() == eta


# --- clock times, day words, weekdays ------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("14:30", local(2026, 11, 25, 14, 30)),        # still ahead today
    ("9am", local(2026, 11, 26, 9, 0)),            # passed today: tomorrow
    ("9:15pm", local(2026, 11, 25, 21, 15)),
    ("noon", local(2026, 11, 25, 12, 0)),
    ("midnight", local(2026, 11, 26, 0, 0)),
    ("12am", local(2026, 11, 26, 0, 0)),
    ("12pm", local(2026, 11, 25, 12, 0)),
    ("10:00", local(2026, 11, 26, 10, 0)),         # exactly now is not after now
    ("10:00:01", local(2026, 11, 25, 10, 0, 1)),
    ("at 11", local(2026, 11, 25, 11, 0)),
    ("9 a.m.", local(2026, 11, 26, 9, 0)),
])
def test_clock_time_alone_means_its_next_occurrence(text, eta):
    when = parse(text)
    assert when.countdown is None
    assert when.eta == eta
    assert when.zone_name == "Europe/Berlin"


@pytest.mark.parametrize("text, eta", [
    ("today 17:00", local(2026, 11, 25, 17, 0)),
    ("tomorrow 09:30", local(2026, 11, 26, 9, 30)),
    ("tomorrow at 9:30", local(2026, 11, 26, 9, 30)),
    ("tomorrow noon", local(2026, 11, 26, 12, 0)),
    ("day after tomorrow 10:00", local(2026, 11, 27, 10, 0)),
    ("tomorrow", local(2026, 11, 26, 0, 0)),
    ("9am tomorrow", local(2026, 11, 26, 9, 0)),
    ("Tomorrow 9:30 PM", local(2026, 11, 26, 21, 30)),
])
def test_day_words(text, eta):
    assert parse(text).eta == eta


def test_day_word_with_a_passed_time_is_an_error_not_a_shift():
    with pytest.raises(TimeExpressionError, match=r"'today 9:00' has already passed .*try 'tomorrow 09:00'"):
        parse("today 9:00")


@pytest.mark.parametrize("text, eta", [
    ("thursday 14:00", local(2026, 11, 26, 14, 0)),
    ("thu 2pm", local(2026, 11, 26, 14, 0)),
    ("wednesday 11:00", local(2026, 11, 25, 11, 0)),     # today counts while the time is ahead
    ("wed 9:00", local(2026, 12, 2, 9, 0)),              # today's has passed: next week
    ("friday", local(2026, 11, 27, 0, 0)),
    ("on friday at 9am", local(2026, 11, 27, 9, 0)),
    ("this friday 9am", local(2026, 11, 27, 9, 0)),
    ("Tuesday 8:00", local(2026, 12, 1, 8, 0)),
    ("sat 10:00", local(2026, 11, 28, 10, 0)),
    ("sunday 23:59", local(2026, 11, 29, 23, 59)),
    ("mon 7am", local(2026, 11, 30, 7, 0)),
])
def test_weekday_means_the_earliest_future_moment_on_that_day(text, eta):
    assert parse(text).eta == eta


@pytest.mark.parametrize("text, eta", [
    ("next thursday 14:00", local(2026, 11, 26, 14, 0)),  # the first Thursday strictly after today
    ("next wednesday 11:00", local(2026, 12, 2, 11, 0)),  # not today, though 11:00 is still ahead
    ("next fri", local(2026, 11, 27, 0, 0)),
])
def test_next_weekday_is_strictly_after_today(text, eta):
    assert parse(text).eta == eta


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("2026-12-01", local(2026, 12, 1, 0, 0)),
    ("2026-12-01 08:00", local(2026, 12, 1, 8, 0)),
    ("2026-12-01T08:00:00", local(2026, 12, 1, 8, 0)),
    ("2026-12-01T08:00:00.250", local(2026, 12, 1, 8, 0, 0, 250000)),
    ("Dec 24 18:00", local(2026, 12, 24, 18, 0)),
    ("24 December 2026 6pm", local(2026, 12, 24, 18, 0)),
    ("December 24, 2026 at 6:30pm", local(2026, 12, 24, 18, 30)),
    ("Dec 24 noon", local(2026, 12, 24, 12, 0)),
    ("friday, dec 25 2026 9am", local(2026, 12, 25, 9, 0)),
    ("nov 25 11:00", local(2026, 11, 25, 11, 0)),        # today, still ahead
    ("Nov 25", local(2027, 11, 25, 0, 0)),               # today's 00:00 has passed: next year
    ("Nov 20", local(2027, 11, 20, 0, 0)),
    ("Feb 29", local(2028, 2, 29, 0, 0)),                # waits for a leap year
])
def test_dates(text, eta):
    when = parse(text)
    assert when.countdown is None
    assert when.eta == eta


def test_date_forms_of_the_own_grammar_do_not_import_dateutil():
    code = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from schedcli.timeparse import parse_when\n"
        "now = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)\n"
        "for text in ['1h', 'in 2 days', 'tomorrow 12:00', 'friday 9am', '2026-12-01T08:00:00+01:00',\n"
        "             'завтра в 9:30', '14:30 Europe/Berlin']:\n"
        "    parse_when(text, now, 'Europe/Berlin')\n"
        "print(sorted(m for m in sys.modules if m.startswith('dateutil')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- rollovers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("tomorrow 9:00", local(2027, 1, 1, 9, 0)),
    ("00:15", local(2027, 1, 1, 0, 15)),
    ("Jan 1", local(2027, 1, 1, 0, 0)),
    ("Dec 31 23:00", local(2027, 12, 31, 23, 0)),        # tonight's has passed: next year
    ("Dec 31 23:45", local(2026, 12, 31, 23, 45)),
    ("fri 8:00", local(2027, 1, 1, 8, 0)),
    ("in 1h", local(2027, 1, 1, 0, 30)),
])
def test_year_rollover(text, eta):
    assert parse(text, now=local(2026, 12, 31, 23, 30)).eta == eta


@pytest.mark.parametrize("text, eta", [
    ("tomorrow 10:00", local(2026, 2, 1, 10, 0)),
    ("day after tomorrow", local(2026, 2, 2, 0, 0)),
    ("monday 9am", local(2026, 2, 2, 9, 0)),
    ("06:00", local(2026, 2, 1, 6, 0)),
])
def test_month_rollover(text, eta):
    assert parse(text, now=local(2026, 1, 31, 20, 0)).eta == eta


# --- zones ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, iso, zone", [
    ("tomorrow 9:00 UTC", "2026-11-26T09:00:00+00:00", "UTC"),
    ("tomorrow 9:00 Z", "2026-11-26T09:00:00+00:00", "UTC"),
    ("12:00Z", "2026-11-25T12:00:00+00:00", "UTC"),
    ("2026-12-01T08:00:00+01:00", "2026-12-01T08:00:00+01:00", "UTC+01:00"),
    ("2026-12-01T08:00:00.5-05:00", "2026-12-01T08:00:00.500000-05:00", "UTC-05:00"),
    ("14:30 +05:30", "2026-11-26T14:30:00+05:30", "UTC+05:30"),  # 14:30 there has passed
    ("2026-12-01 08:00 America/New_York", "2026-12-01T08:00:00-05:00", "America/New_York"),
    ("10:00 in Asia/Tokyo", "2026-11-26T10:00:00+09:00", "Asia/Tokyo"),
    ("tomorrow 9:00 europe/berlin", "2026-11-26T09:00:00+01:00", "Europe/Berlin"),
    ("Dec 24 18:00 UTC", "2026-12-24T18:00:00+00:00", "UTC"),
    ("1 Dec 2026 -05:00", "2026-12-01T00:00:00-05:00", "UTC-05:00"),
])
def test_zone_or_offset_in_the_text_wins_over_the_users_zone(text, iso, zone):
    when = parse(text, zone="America/Los_Angeles", now=NOW)
    assert when.eta.isoformat() == iso
    assert when.zone_name == zone


def test_absolute_time_is_read_and_expressed_in_the_users_zone():
    when = parse("tomorrow 9:00", zone="America/New_York")
    assert when.eta.isoformat() == "2026-11-26T09:00:00-05:00"
    assert when.zone_name == "America/New_York"


def test_resolve_zone():
    assert resolve_zone("Europe/Berlin") == BERLIN
    assert resolve_zone("america/new_york") == NEW_YORK
    assert resolve_zone("UTC") is timezone.utc
    assert resolve_zone("+05:30") == timezone(timedelta(hours=5, minutes=30))
    assert resolve_zone(BERLIN) is BERLIN


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "", "../etc/passwd", "+25:00"])
def test_unknown_zone_is_a_time_expression_error_with_exit_code_2(name):
    with pytest.raises(TimeExpressionError) as info:
        resolve_zone(name)
    assert info.value.exit_code == 2


# --- Russian absolute forms ----------------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("завтра в 9:30", local(2026, 11, 26, 9, 30)),
    ("сегодня в 17:00", local(2026, 11, 25, 17, 0)),
    ("послезавтра в 10:00", local(2026, 11, 27, 10, 0)),
    ("в 14:30", local(2026, 11, 25, 14, 30)),
    ("в 9 вечера", local(2026, 11, 25, 21, 0)),
    ("завтра в 9 утра", local(2026, 11, 26, 9, 0)),
    ("в пятницу в 9:00", local(2026, 11, 27, 9, 0)),
    ("в следующую среду в 8:00", local(2026, 12, 2, 8, 0)),
    ("завтра в полдень", local(2026, 11, 26, 12, 0)),
    ("Завтра в 9:30", local(2026, 11, 26, 9, 30)),
])
def test_russian_absolute_forms(text, eta):
    assert parse(text).eta == eta


def test_russian_day_word_with_a_passed_time_is_an_error():
    with pytest.raises(TimeExpressionError, match="already passed"):
        parse("сегодня в 9:00")


# --- daylight saving -----------------------------------------------------------------------------

@pytest.mark.parametrize("zone, now, text, jump", [
    (BERLIN, local(2026, 3, 28, 12, 0), "2026-03-29 02:30", "on 2026-03-29 clocks jump from 02:00 to 03:00"),
    (BERLIN, local(2026, 3, 28, 12, 0), "tomorrow 2:30", "on 2026-03-29 clocks jump from 02:00 to 03:00"),
    (BERLIN, local(2026, 3, 28, 12, 0), "sunday 02:00", "on 2026-03-29 clocks jump from 02:00 to 03:00"),
    (BERLIN, local(2026, 3, 28, 12, 0), "02:59", "on 2026-03-29 clocks jump from 02:00 to 03:00"),
    (NEW_YORK, local(2026, 3, 7, 12, 0, zone=NEW_YORK), "2026-03-08 2:30am",
     "on 2026-03-08 clocks jump from 02:00 to 03:00"),
    (NEW_YORK, local(2026, 3, 7, 12, 0, zone=NEW_YORK), "Mar 8 02:15", "on 2026-03-08 clocks jump from 02:00 to 03:00"),
])
def test_local_time_in_a_dst_gap_is_an_error_naming_the_gap(zone, now, text, jump):
    with pytest.raises(TimeExpressionError) as info:
        parse(text, now=now, zone=zone)
    message = str(info.value)
    assert f"{text!r} does not exist in {zone.key}: {jump}" in message
    assert "try" in message


@pytest.mark.parametrize("zone, now, text, eta", [
    (BERLIN, local(2026, 3, 28, 12, 0), "tomorrow 03:00", "2026-03-29T03:00:00+02:00"),
    (BERLIN, local(2026, 3, 28, 12, 0), "tomorrow 01:59", "2026-03-29T01:59:00+01:00"),
    (NEW_YORK, local(2026, 3, 7, 12, 0, zone=NEW_YORK), "tomorrow 3am", "2026-03-08T03:00:00-04:00"),
])
def test_times_next_to_a_dst_gap_exist(zone, now, text, eta):
    assert parse(text, now=now, zone=zone).eta.isoformat() == eta


@pytest.mark.parametrize("zone, now, text, eta", [
    # clocks go back: 02:00-03:00 happens twice in Berlin on 2026-10-25, 01:00-02:00 in New York on 2026-11-01
    (BERLIN, local(2026, 10, 24, 12, 0), "2026-10-25 02:30", "2026-10-25T02:30:00+02:00"),
    (BERLIN, local(2026, 10, 24, 12, 0), "tomorrow 2:30", "2026-10-25T02:30:00+02:00"),
    (BERLIN, local(2026, 10, 24, 12, 0), "sun 02:00", "2026-10-25T02:00:00+02:00"),
    (NEW_YORK, local(2026, 10, 31, 12, 0, zone=NEW_YORK), "2026-11-01 01:30", "2026-11-01T01:30:00-04:00"),
    (NEW_YORK, local(2026, 10, 31, 12, 0, zone=NEW_YORK), "Nov 1 1:30am", "2026-11-01T01:30:00-04:00"),
])
def test_ambiguous_local_time_in_a_dst_fold_means_the_first_occurrence(zone, now, text, eta):
    when = parse(text, now=now, zone=zone)
    assert when.eta.isoformat() == eta
    assert when.eta.fold == 0


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("xyz", "cannot read"),
    ("tomorrow 9", "cannot read"),
    ("9", "cannot read"),
    ("12/25/2026", "cannot read"),          # numeric dates are ambiguous: ISO or a month name
    ("dec 24 9am CEST", "cannot read"),
    ("25:00", "no such time of day"),
    ("tomorrow 25:00", "no such time of day"),
    ("12:60", "no such time of day"),
    ("13pm", "with am/pm the hour goes from 1 to 12"),
    ("0am", "with am/pm the hour goes from 1 to 12"),
    ("dec 24 13pm", "with am/pm the hour goes from 1 to 12"),
    ("Feb 30", "not a date of the calendar"),
    ("2026-02-30", "not a date of the calendar"),
    ("2026-13-01", "not a date of the calendar"),
    ("2027-02-29", "not a date of the calendar"),
    ("tomorrow 9:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("in -5m", "negative delay"),
    ("-20m", "negative delay"),
    ("5 minutes ago", "in the past"),
    ("2020-01-01 08:00", "in the past"),
    ("2026-11-25 09:59", "in the past"),
    ("today 09:00", "already passed"),
    ("friday dec 24 2026", "2026-12-24 is a Thursday"),
    ("in 500 weeks", "too far ahead: the scheduler holds delays up to 2**28-1 = 268435455 s"),
    ("2040-01-01", "too far ahead: the scheduler holds delays up to 2**28-1 = 268435455 s"),
])
def test_bad_expression_is_one_line_quoting_the_input_with_forms_that_work(text, reason):
    with pytest.raises(TimeExpressionError) as info:
        parse(text)
    message = str(info.value)
    assert reason in message
    assert repr(text) in message
    assert "; try '" in message or "; use an IANA name such as '" in message
    assert "\n" not in message
    assert info.value.exit_code == 2


def test_empty_expression_is_an_error():
    with pytest.raises(TimeExpressionError, match="empty time expression; try"):
        parse("   ")


def test_control_characters_in_the_input_stay_on_one_line():
    with pytest.raises(TimeExpressionError) as info:
        parse("tomorrow\n\x1b[31m")
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)


def test_delay_limit_is_2_to_the_28_minus_1_seconds():
    assert parse(f"in {MAX_DELAY}s").countdown == MAX_DELAY == 268435455
    with pytest.raises(TimeExpressionError, match="268435455 s"):
        parse(f"in {MAX_DELAY + 1}s")
    with pytest.raises(TimeExpressionError, match="268435455 s"):
        parse("in 99999999999999999999999999 weeks")


@pytest.mark.parametrize("text", ["tomorrow 12:00", "friday 9am", "14:30", "2026-12-01", "xyz"])
def test_relative_only_refuses_anything_but_a_delay(text):
    with pytest.raises(TimeExpressionError, match=r"is not a delay; try '1h', '1h30m' or 'in 2 days'"):
        parse(text, relative_only=True)


@pytest.mark.parametrize("text, seconds", [("1h", 3600), ("1h30m", 5400), ("0.5s", 0.5), ("in 2 days", 172800),
                                           ("+20m", 1200), ("90 minutes", 5400), ("через час", 3600)])
def test_relative_only_accepts_delays_with_or_without_in(text, seconds):
    assert parse(text, relative_only=True).countdown == seconds


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_when("in 1h", datetime(2026, 11, 25, 10, 0), "UTC")


# --- format_delay --------------------------------------------------------------------------------

@pytest.mark.parametrize("seconds, text", [
    (0, "now"), (0.5, "in 0.5s"), (45, "in 45s"), (60, "in 1m"), (182, "in 3m 2s"), (3600, "in 1h"),
    (25 * 3600 + 12 * 60 + 30, "in 25h 12m"), (5399.9999, "in 1h 30m"), (47 * 3600 + 59 * 60, "in 47h 59m"),
    (2 * 86400, "in 2d"), (3 * 86400 + 4 * 3600 + 5 * 60 + 59, "in 3d 4h 5m"), (-182, "3m 2s ago"),
    (-90000, "25h ago"),
])
def test_format_delay(seconds, text):
    assert format_delay(seconds) == text


# --- properties ----------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
nows = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31),
                    timezones=st.sampled_from([timezone.utc, BERLIN, NEW_YORK]))
units = st.sampled_from(["s", "sec", "seconds", "m", "min", "minutes", "h", "hours", "d", "days", "w", "weeks"])


@given(now=nows, zone=st.sampled_from(ZONES), amount=st.integers(min_value=0, max_value=10**6),
       unit=units, prefix=st.sampled_from(["", "in ", "+"]))
@settings(max_examples=300, deadline=None)
def test_relative_countdown_is_never_negative_and_eta_is_now_plus_countdown(now, zone, amount, unit, prefix):
    try:
        when = parse_when(f"{prefix}{amount}{unit}", now, zone)
    except TimeExpressionError as exc:
        assert "too far ahead" in str(exc)
        return
    assert when.countdown >= 0
    assert when.eta.tzinfo is not None
    # in UTC: Python subtracts two datetimes of one zone by their wall clocks
    assert when.eta.astimezone(timezone.utc) - now.astimezone(timezone.utc) == timedelta(seconds=when.countdown)


clock_times = st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59)) | st.builds(
    lambda h, ampm: f"{h}{ampm}", st.integers(1, 12), st.sampled_from(["am", "pm"]))
days = st.sampled_from(["", "today ", "tomorrow ", "day after tomorrow ", "friday ", "next mon ", "sun ", "Dec 24 ",
                        "Mar 29 ", "Oct 25 ", "Nov 1 ", "Feb 29 ", "2027-03-28 ", "2027-11-07 ", "завтра в "])
suffixes = st.sampled_from(["", " UTC", " +05:30", " America/New_York", " Europe/Berlin"])


@given(now=nows, zone=st.sampled_from(ZONES), day=days, clock=clock_times, suffix=suffixes)
@settings(max_examples=500, deadline=None)
def test_absolute_eta_is_aware_never_in_the_past_and_within_the_limit(now, zone, day, clock, suffix):
    try:
        when = parse_when(f"{day}{clock}{suffix}", now, zone)
    except TimeExpressionError as exc:
        assert any(reason in str(exc) for reason in ("already passed", "in the past", "does not exist",
                                                     "too far ahead")), str(exc)
        return
    assert when.countdown is None
    assert when.eta.tzinfo is not None and when.eta.utcoffset() is not None
    eta, now = when.eta.astimezone(timezone.utc), now.astimezone(timezone.utc)  # wall clocks would mislead
    assert now <= eta
    assert (eta - now).total_seconds() <= MAX_DELAY


words = st.sampled_from(["in", "at", "on", "next", "tomorrow", "friday", "Dec", "24", "9", "pm", "am", "h", "m",
                         "1h", "30m", "2026-12-01", "14:30", ":", "-", "+", "UTC", "Europe/Berlin", "через",
                         "час", "в", "завтра", ",", "and", "ago", "noon", "0.5", "T", "Z", "+01:00", "99999"])
texts = st.lists(words, min_size=1, max_size=6).map(" ".join) | st.text(max_size=40)


@given(now=nows, zone=st.sampled_from(ZONES), text=texts)
@settings(max_examples=1000, deadline=None)
def test_any_text_gives_a_when_or_a_time_expression_error_never_a_crash(now, zone, text):
    try:
        when = parse_when(text, now, zone)
    except TimeExpressionError as exc:
        assert "\n" not in str(exc)
        return
    assert when.eta.tzinfo is not None
    assert when.countdown is None or when.countdown >= 0
    assert when.eta.astimezone(timezone.utc) >= now.astimezone(timezone.utc)
