"""Issue 13: at(1)'s timespec, calendar months and years, dotted dates and the Russian forms, with their properties."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedcli.exceptions import TimeExpressionError
from schedcli.jobs.requests import eta_of
from schedcli.timeparse import MAX_DELAY, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)  # a Wednesday


def parse(text, now=NOW, zone=BERLIN, **kwargs):
    return parse_when(text, now, zone, **kwargs)


def outcome(text, now, zone):
    """What `text` gives: (countdown, eta, calendar_delay), or the error message without the quoted text."""
    try:
        when = parse_when(text, now, zone)
    except TimeExpressionError as exc:
        return str(exc).replace(repr(text), "EXPRESSION")
    return when.countdown, when.eta, when.calendar_delay


# --- calendar months and years -------------------------------------------------------------------

@pytest.mark.parametrize("now, text, eta", [
    (datetime(2026, 1, 31, 10, 0, tzinfo=BERLIN), "in 1 month", "2026-02-28T10:00:00+01:00"),
    (datetime(2028, 1, 31, 10, 0, tzinfo=BERLIN), "in 1 month", "2028-02-29T10:00:00+01:00"),
    (datetime(2028, 2, 29, 10, 0, tzinfo=BERLIN), "in 1 year", "2029-02-28T10:00:00+01:00"),
    (datetime(2028, 2, 29, 10, 0, tzinfo=BERLIN), "in 4 years", "2032-02-29T10:00:00+01:00"),
    (datetime(2026, 3, 31, 10, 0, tzinfo=BERLIN), "in 1 month", "2026-04-30T10:00:00+02:00"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=BERLIN), "in 2 months", "2027-02-28T23:30:00+01:00"),
    (datetime(2026, 11, 25, 10, 0, 30, 250000, tzinfo=BERLIN), "in 1 month", "2026-12-25T10:00:30.250000+01:00"),
])
def test_calendar_month_and_year_keep_the_day_within_the_month_and_the_clock_time(now, text, eta):
    assert parse(text, now=now).eta.isoformat() == eta


def test_calendar_delay_keeps_the_wall_clock_across_dst_while_days_count_elapsed_time():
    # Berlin springs forward on 2027-03-28: a month keeps 10:00, 30 days of elapsed time end at 11:00
    now = datetime(2027, 2, 28, 10, 0, tzinfo=BERLIN)
    assert parse("in 1 month", now=now).eta.isoformat() == "2027-03-28T10:00:00+02:00"
    assert parse("in 28 days", now=now).eta.isoformat() == "2027-03-28T11:00:00+02:00"


def test_calendar_delay_is_an_eta_marked_as_calendar_based_even_on_in():
    when = parse("1 month", relative_only=True)
    assert when.countdown is None and when.calendar_delay
    assert when.eta.isoformat() == "2026-12-25T10:00:00+01:00"
    # what the job store and the publisher get: the fixed moment, not a length
    assert eta_of(when, NOW.timestamp()) == when.eta.timestamp()


def test_fixed_length_delays_stay_countdowns_and_are_not_calendar_based():
    for text in ("in 1 week", "now + 3 days", "next day", "через 2 недели"):
        when = parse(text)
        assert when.countdown is not None and not when.calendar_delay


def test_calendar_delay_landing_in_a_dst_gap_is_an_error_naming_the_gap():
    now = datetime(2027, 2, 28, 2, 30, tzinfo=BERLIN)
    with pytest.raises(TimeExpressionError) as info:
        parse("in 1 month", now=now)
    assert str(info.value) == (
        "'in 1 month' lands on 2027-03-28 02:30, which does not exist in Europe/Berlin: on 2027-03-28 clocks jump "
        "from 02:00 to 03:00 (daylight saving); try '2027-03-28 03:30' or '2027-03-28 01:30'"
    )


def test_calendar_delay_from_the_second_of_two_equal_wall_times_lands_on_the_first():
    now = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)  # 02:30 CET, after clocks went back
    assert parse("in 1 year", now=now).eta.isoformat() == "2027-10-25T02:30:00+02:00"


@pytest.mark.parametrize("text", ["in 1.5 months", "now + 0.5 month", "через 2,5 месяца"])
def test_a_fraction_of_a_month_is_refused_with_forms_that_work(text):
    with pytest.raises(TimeExpressionError, match=r"whole numbers; try 'in 1 month 15 days'"):
        parse(text)


def test_fractional_years_that_are_whole_months_are_read():
    assert parse("in 1.5 years").eta == parse("in 18 months").eta == datetime(2028, 5, 25, 10, 0, tzinfo=BERLIN)


@pytest.mark.parametrize("text", ["in 9 years", "in 8 years 7 months", "in 200 months", "in 99999999999999 years",
                                  "tomorrow + 9 years"])
def test_calendar_delays_beyond_the_limit_are_refused(text):
    with pytest.raises(TimeExpressionError, match="too far ahead: the scheduler holds delays up to 2\\*\\*28-1"):
        parse(text)


# --- at(1) ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("now + 1 hour", 3600), ("now + 1 hours", 3600), ("now+1minute", 60), ("now + 2 days", 172800),
    ("now + 1 week", 604800), ("NOW + 30 MINUTES", 1800), ("next minute", 60), ("next hour", 3600),
    ("next day", 86400), ("next week", 604800), ("сейчас + 5 минут", 300),
])
def test_now_plus_and_next_unit_are_countdowns(text, seconds):
    assert parse(text).countdown == seconds


@pytest.mark.parametrize("text, eta", [
    ("teatime", datetime(2026, 11, 25, 16, 0)), ("teatime tomorrow", datetime(2026, 11, 26, 16, 0)),
    ("4pm + 3 days", datetime(2026, 11, 28, 16, 0)), ("midnight + 1 day", datetime(2026, 11, 27, 0, 0)),
    ("noon tomorrow", datetime(2026, 11, 26, 12, 0)), ("1am tomorrow", datetime(2026, 11, 26, 1, 0)),
    ("10am Jul 31", datetime(2027, 7, 31, 10, 0)), ("noon Jul 31 2027", datetime(2027, 7, 31, 12, 0)),
    ("1030", datetime(2026, 11, 25, 10, 30)), ("0915", datetime(2026, 11, 26, 9, 15)),
    ("0201 pm", datetime(2026, 11, 25, 14, 1)), ("at 2100", datetime(2026, 11, 25, 21, 0)),
    ("1730 2026-12-01", datetime(2026, 12, 1, 17, 30)), ("26-12-01", datetime(2026, 12, 1, 0, 0)),
    ("tomorrow 9:00 + 1 week", datetime(2026, 12, 3, 9, 0)), ("friday 9am + 2 hours", datetime(2026, 11, 27, 11, 0)),
    ("Dec 24 + 1 year", datetime(2027, 12, 24, 0, 0)), ("Jan 31 2027 10:00 + 1 month", datetime(2027, 2, 28, 10, 0)),
    ("tomorrow + 36 hours", datetime(2026, 11, 27, 12, 0)), ("noon + 1.5 days", datetime(2026, 11, 27, 0, 0)),
    ("December 24, 2026 at 6:30pm", datetime(2026, 12, 24, 18, 30)), ("24 dec", datetime(2026, 12, 24, 0, 0)),
    ("sept 1", datetime(2027, 9, 1, 0, 0)), ("Dec. 24 9am", datetime(2026, 12, 24, 9, 0)),
])
def test_at_timespec_forms(text, eta):
    when = parse(text)
    assert when.countdown is None and not when.calendar_delay
    assert when.eta == eta.replace(tzinfo=BERLIN)


def test_increment_after_a_named_moment_moves_the_calendar_for_days_and_counts_hours_elapsed():
    before_the_jump = datetime(2027, 3, 27, 9, 0, tzinfo=BERLIN)
    assert parse("noon + 1 day", now=before_the_jump).eta.isoformat() == "2027-03-28T12:00:00+02:00"
    assert parse("noon + 24 hours", now=before_the_jump).eta.isoformat() == "2027-03-28T13:00:00+02:00"


@pytest.mark.parametrize("text, reason", [
    ("2460", "no such time of day (24:60)"),
    ("1300pm", "with am/pm the hour goes from 1 to 12"),
    ("12/25/2026", "a date with slashes may be day-first or month-first; try '2026-12-25', '25.12.2026'"),
    ("1/2", "day-first or month-first"),
    ("today + 1 hour", "already passed"),
    ("4pm + 3 apples", "cannot read"),
    ("4pm + 3 days + 1 hour", "cannot read"),
    ("next fortnight", "cannot read"),
    ("half past 3", "cannot read"),
    ("quarter to 5", "cannot read"),
])
def test_at_style_errors_are_one_line_with_a_suggestion(text, reason):
    with pytest.raises(TimeExpressionError) as info:
        parse(text)
    message = str(info.value)
    assert reason in message and repr(text) in message and "; try '" in message and "\n" not in message


@pytest.mark.parametrize("text", ["now + 1 hour", "next week", "in 3 months", "через месяц"])
def test_relative_at_forms_are_delays_for_in(text):
    parse(text, relative_only=True)


@pytest.mark.parametrize("text", ["teatime", "4pm + 3 days", "25.12.2026 10:00", "1030"])
def test_absolute_at_forms_are_refused_by_in(text):
    with pytest.raises(TimeExpressionError, match="is not a delay"):
        parse(text, relative_only=True)


# --- dotted dates --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("25.12.2026", datetime(2026, 12, 25, 0, 0)), ("25.12.2026 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25.12.26 10:00", datetime(2026, 12, 25, 10, 0)), ("1.2.2027 9am", datetime(2027, 2, 1, 9, 0)),
    ("10:00 25.12.2026", datetime(2026, 12, 25, 10, 0)), ("29.02.2028", datetime(2028, 2, 29, 0, 0)),
])
def test_dotted_date_is_day_month_year(text, eta):
    assert parse(text).eta == eta.replace(tzinfo=BERLIN)


@pytest.mark.parametrize("text, reason", [
    ("31.02.2027", "not a date of the calendar"), ("29.02.2027", "not a date of the calendar"),
    ("25.13.2026", "not a date of the calendar"), ("25.12.2025", "in the past"), ("25.12", "cannot read"),
])
def test_impossible_or_past_dotted_dates_are_errors(text, reason):
    with pytest.raises(TimeExpressionError, match=re.escape(reason)):
        parse(text)


# --- Russian -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, eta", [
    ("25 декабря в 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25 декабря 2026 года в 10:00", datetime(2026, 12, 25, 10, 0)),
    ("25.12.2026 в 10:00", datetime(2026, 12, 25, 10, 0)),
    ("1 января", datetime(2027, 1, 1, 0, 0)),
    ("8 марта в 9 утра", datetime(2027, 3, 8, 9, 0)),
    ("завтра утром", datetime(2026, 11, 26, 9, 0)),
    ("завтра вечером", datetime(2026, 11, 26, 19, 0)),
    ("сегодня вечером", datetime(2026, 11, 25, 19, 0)),
    ("в пятницу утром", datetime(2026, 11, 27, 9, 0)),
    ("в следующий понедельник", datetime(2026, 11, 30, 0, 0)),
    ("в следующий понедельник в 10:00", datetime(2026, 11, 30, 10, 0)),
    ("в полночь", datetime(2026, 11, 26, 0, 0)),
    ("завтра в 10:00 + 3 дня", datetime(2026, 11, 29, 10, 0)),
    ("tomorrow morning", datetime(2026, 11, 26, 9, 0)),
    ("friday evening", datetime(2026, 11, 27, 19, 0)),
])
def test_russian_dates_and_parts_of_the_day(text, eta):
    assert parse(text).eta == eta.replace(tzinfo=BERLIN)


@pytest.mark.parametrize("text, seconds", [("через 2 недели", 1209600), ("через 3 дня", 259200),
                                           ("через 5 минут", 300), ("через сутки", 86400)])
def test_russian_fixed_delays_are_countdowns(text, seconds):
    assert parse(text).countdown == seconds


@pytest.mark.parametrize("text, eta", [
    ("через месяц", datetime(2026, 12, 25, 10, 0)), ("через 2 месяца", datetime(2027, 1, 25, 10, 0)),
    ("через год", datetime(2027, 11, 25, 10, 0)), ("через 2 года", datetime(2028, 11, 25, 10, 0)),
    ("через 5 лет", datetime(2031, 11, 25, 10, 0)),
])
def test_russian_calendar_delays_are_etas(text, eta):
    when = parse(text)
    assert when.calendar_delay and when.eta == eta.replace(tzinfo=BERLIN)


def test_russian_part_of_the_day_that_has_passed_is_an_error():
    with pytest.raises(TimeExpressionError, match="already passed"):
        parse("сегодня утром")


def test_new_forms_of_the_own_grammar_do_not_import_dateutil():
    code = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from schedcli.timeparse import parse_when\n"
        "now = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)\n"
        "for text in ['now + 1 month', '4pm + 3 days', 'teatime tomorrow', '25.12.2026 10:00', 'Dec 24 18:00',\n"
        "             '10am Jul 31', '25 декабря в 10:00', 'через месяц', 'next week']:\n"
        "    parse_when(text, now, 'Europe/Berlin')\n"
        "print(sorted(m for m in sys.modules if m.startswith('dateutil')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- properties ----------------------------------------------------------------------------------

ZONES = [BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata"), timezone.utc]
nows = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31),
                    timezones=st.sampled_from([timezone.utc, BERLIN, NEW_YORK]))
units = st.sampled_from(["minute", "minutes", "min", "hour", "hours", "h", "day", "days", "week", "weeks",
                         "month", "months", "year", "years", "минут", "часа", "дня", "недели", "месяца", "лет"])


@given(now=nows, zone=st.sampled_from(ZONES), amount=st.integers(min_value=0, max_value=200), unit=units,
       spacing=st.sampled_from(["now + {n} {unit}", "now +{n}{unit}", "NOW + {n} {unit}"]))
@settings(max_examples=400, deadline=None)
def test_now_plus_n_units_means_the_same_as_in_n_units(now, zone, amount, unit, spacing):
    assert outcome(spacing.format(n=amount, unit=unit), now, zone) == outcome(f"in {amount} {unit}", now, zone)


@given(now=nows, zone=st.sampled_from(ZONES), unit=st.sampled_from(["minute", "hour", "day", "week", "month", "year"]))
@settings(max_examples=200, deadline=None)
def test_next_unit_means_the_same_as_in_1_unit(now, zone, unit):
    assert outcome(f"next {unit}", now, zone) == outcome(f"in 1 {unit}", now, zone)


@given(now=nows, zone=st.sampled_from(ZONES), months=st.integers(min_value=1, max_value=100))
@settings(max_examples=300, deadline=None)
def test_a_calendar_delay_is_a_future_eta_on_the_same_wall_clock_within_the_limit(now, zone, months):
    try:
        when = parse_when(f"in {months} months", now, zone)
    except TimeExpressionError as exc:
        assert "too far ahead" in str(exc) or "does not exist" in str(exc), str(exc)
        return
    start = now.astimezone(timezone.utc).astimezone(zone)  # `now` itself may be a wall time a DST gap skips
    assert when.countdown is None and when.calendar_delay
    assert when.eta.replace(tzinfo=None).time() == start.replace(tzinfo=None).time()
    assert (when.eta.year * 12 + when.eta.month) - (start.year * 12 + start.month) == months
    assert when.eta.day == start.day or when.eta.day < start.day and (when.eta + timedelta(days=1)).day == 1
    assert 0 < (when.eta.astimezone(timezone.utc) - now.astimezone(timezone.utc)).total_seconds() <= MAX_DELAY


clock_texts = st.sampled_from(["", " 00:00", " 9:30", " 2:30", " 1:30am", " 23:59", " noon", " teatime", " 0830"])


@given(now=nows, zone=st.sampled_from(ZONES), day=st.dates(min_value=date(1995, 1, 1), max_value=date(2095, 12, 31)),
       clock=clock_texts, padded=st.booleans())
@settings(max_examples=500, deadline=None)
def test_a_dotted_date_means_its_iso_form(now, zone, day, clock, padded):
    dotted = f"{day:%d.%m.%Y}" if padded else f"{day.day}.{day.month}.{day.year}"
    assert outcome(f"{dotted}{clock}", now, zone) == outcome(f"{day:%Y-%m-%d}{clock}", now, zone)


@given(now=nows, zone=st.sampled_from(ZONES), day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       clock=clock_texts)
@settings(max_examples=200, deadline=None)
def test_a_two_digit_year_is_this_century(now, zone, day, clock):
    assert outcome(f"{day:%d.%m.%y}{clock}", now, zone) == outcome(f"{day:%Y-%m-%d}{clock}", now, zone)
    assert outcome(f"{day:%y-%m-%d}{clock}", now, zone) == outcome(f"{day:%Y-%m-%d}{clock}", now, zone)


@given(now=nows, zone=st.sampled_from(ZONES), hour=st.integers(0, 23), minute=st.integers(0, 59))
@settings(max_examples=300, deadline=None)
def test_four_digit_hhmm_means_hh_colon_mm(now, zone, hour, minute):
    assert outcome(f"{hour:02d}{minute:02d}", now, zone) == outcome(f"{hour}:{minute:02d}", now, zone)


@given(now=nows, zone=st.sampled_from(ZONES), base=st.sampled_from(["4pm", "midnight", "tomorrow 9:00", "Dec 24",
                                                                   "25.12.2030 10:00", "friday teatime"]),
       days=st.integers(min_value=0, max_value=400))
@settings(max_examples=300, deadline=None)
def test_days_after_a_named_moment_keep_its_wall_clock_time(now, zone, base, days):
    try:
        start = parse_when(base, now, zone).eta
        when = parse_when(f"{base} + {days} days", now, zone)
    except TimeExpressionError as exc:
        assert any(reason in str(exc) for reason in ("already passed", "in the past", "does not exist",
                                                     "too far ahead")), str(exc)
        return
    assert when.eta.date() == start.date() + timedelta(days=days)
    assert when.eta.time() == start.time() == time(when.eta.hour, when.eta.minute)
