"""Issue 12: a span (`list --since`, `report run --period`) reads durations with the grammar of `--in`."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schedcli.exceptions import BadInput
from schedcli.timeparse import PERIOD_MAX, parse_period, parse_when

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def test_a_span_in_words_is_read_as_in_reads_it():
    # `list --since "90 minutes"` was refused while `--in "90 minutes"` worked
    assert parse_period("90 minutes") == 5400 == parse_when("90 minutes", NOW, "UTC", relative_only=True).countdown


@pytest.mark.parametrize("text, seconds", [
    ("90 minutes", 5400), ("2 days", 172800), ("1 week", 604800), ("1h30m", 5400), ("1 hour 30 minutes", 5400),
    ("1h and 30m", 5400), ("2.5h", 9000), ("an hour", 3600), ("day", 86400), ("2 дня", 172800),
    ("3 недели", 1814400), ("полчаса", 1800), ("1,5 часа", 5400), ("7D", 604800), ("7d", 604800),
    ("1d 12h", 129600),
])
def test_period_reads_every_duration_of_the_delay_grammar(text, seconds):
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text, reason", [
    ("1 month", "months and years have no fixed length; give days or weeks, like 30d or 52w"),
    ("2 years", "months and years have no fixed length"),
    ("через месяц", "give a number and a unit"),
    ("in 2 days", "give a number and a unit"),
    ("2 days ago", "give a number and a unit"),
    ("yesterday", "give a number and a unit, like 7d, 24h, 2w or '90 minutes'"),
    ("-1d", "give a number and a unit"),
    ("0 minutes", "longer than zero and at most 520w"),
    ("521 weeks", "longer than zero and at most 520w"),
])
def test_bad_period_says_what_was_wrong_and_what_would_be_right(text, reason):
    with pytest.raises(BadInput) as info:
        parse_period(text)
    message = str(info.value)
    assert message.startswith(f"bad period {text!r}: ") and reason in message and "\n" not in message


durations = st.lists(
    st.tuples(st.integers(min_value=1, max_value=100),
              st.sampled_from(["s", "seconds", "m", "minutes", "h", "hours", "d", "days", "w", "weeks", "минут", "дня"])),
    min_size=1, max_size=3,
).map(lambda parts: " ".join(f"{number} {unit}" for number, unit in parts))


@given(text=durations)
@settings(max_examples=300, deadline=None)
def test_a_period_is_as_long_as_the_same_delay(text):
    seconds = parse_when(f"in {text}", NOW, "UTC").countdown
    if seconds <= PERIOD_MAX:
        assert parse_period(text) == seconds
