"""docs/time-expressions.md tells the truth: every example in its tables of forms is read, and its errors are ours."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from schedcli.exceptions import BadInput
from schedcli.timeparse import parse_period, parse_when

DOC = (Path(__file__).resolve().parents[2] / "docs" / "time-expressions.md").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)  # Wednesday, 10:00 in Berlin


def table_examples() -> list[str]:
    """Every `code` in the examples column (the second) of the tables of forms."""
    examples = []
    for line in DOC.splitlines():
        cells = line.split("|")
        if len(cells) == 5 and cells[1].strip() not in ("form", "---"):
            examples += re.findall(r"`([^`]+)`", cells[2])
    return examples


def test_the_tables_show_many_examples():
    assert len(table_examples()) >= 120


@pytest.mark.parametrize("text", table_examples())
def test_every_example_in_the_tables_is_read(text):
    parse_when(text, NOW, "Europe/Berlin")


@pytest.mark.parametrize("expression, line", re.findall(r"\$ schedcli when \"([^\"]+)\".*\n(Error: [^\n]+)", DOC))
def test_the_errors_shown_are_the_errors_given(expression, line):
    with pytest.raises(BadInput) as info:
        parse_when(expression, NOW, "Europe/Berlin")
    assert f"Error: {info.value}" == line


@pytest.mark.parametrize("text", ["7d", "24h", "2w", "90m", "1d 12h", "90 minutes", "2 days", "1 week", "1h30m",
                                  "2 дня", "полчаса"])
def test_the_spans_shown_are_read(text):
    assert f"`{text}`" in DOC.split("## Spans")[1]
    assert parse_period(text) > 0
