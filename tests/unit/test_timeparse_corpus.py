"""Every line of time_corpus.tsv: an expression, read at one fixed moment in Berlin or New York, and what it means."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from schedcli.exceptions import TimeExpressionError
from schedcli.timeparse import parse_when

CORPUS = Path(__file__).with_name("time_corpus.tsv")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin, 04:00 in New York


def corpus_rows() -> list:
    rows = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        zone, expression, expected = line.split("\t")
        kind, _, value = expected.partition(" ")
        rows.append(pytest.param(zone, expression, kind, value, id=f"{number}:{zone}:{expression}"))
    return rows


def test_corpus_is_large_enough_and_covers_both_zones():
    rows = corpus_rows()
    assert len(rows) >= 80
    assert {row.values[0] for row in rows} == {"Europe/Berlin", "America/New_York"}
    assert {row.values[2] for row in rows} == {"countdown", "eta", "calendar", "error"}


@pytest.mark.parametrize("zone, expression, kind, value", corpus_rows())
def test_expression_means_what_the_corpus_says(zone, expression, kind, value):
    if kind == "error":
        with pytest.raises(TimeExpressionError) as info:
            parse_when(expression, NOW, zone)
        message = str(info.value)
        assert value in message and repr(expression) in message and "\n" not in message
        assert "try '" in message
        return
    when = parse_when(expression, NOW, zone)
    if kind == "countdown":
        assert (when.countdown, when.calendar_delay) == (float(value), False)
        assert when.eta == NOW + timedelta(seconds=float(value))
    else:
        assert when.countdown is None
        assert when.calendar_delay == (kind == "calendar")
        assert when.eta.isoformat() == value
