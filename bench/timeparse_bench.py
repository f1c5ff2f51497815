"""The cost of `parse_when` per expression, against dateutil's own parse of one ISO date as a baseline.

    python bench/timeparse_bench.py

`measure()` returns the figures (microseconds) for bench/run to fold in. The goal is well under
1 ms (1000 µs) per expression.
"""

from __future__ import annotations

import statistics
import timeit
from datetime import datetime, timezone

from schedcli.timeparse import parse_when

EXPRESSIONS = [
    "in 1h",
    "1h30m",
    "0.5s",
    "in 1 hour 30 minutes",
    "через 2 часа",
    "14:30",
    "tomorrow 12:00",
    "friday 9am",
    "next thursday 14:00",
    "завтра в 9:30",
    "2026-12-01T08:00:00+01:00",
    "2026-12-01 08:00 Europe/Berlin",
    "Dec 24 18:00",
    "24 December 2026 6pm",
    "now + 1 hour",
    "next week",
    "in 3 months",
    "через месяц",
    "teatime tomorrow",
    "4pm tomorrow + 1 month",
    "25.12.2026 в 10:00",
    "25 декабря 2026 года в 10:00",
    "2027-03-27 12:00 + 1 day Europe/Berlin",
    "friday, dec 25 2026 9am + 2 days",  # a weekday with a date: still read by dateutil, the slowest
]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
ZONE = "Europe/Berlin"
REPEATS = 7
NUMBER = 300


def _timings(call) -> list[float]:
    """Microseconds per call, one figure per repeat."""
    return [total / NUMBER * 1e6 for total in timeit.repeat(call, number=NUMBER, repeat=REPEATS)]


def measure() -> list[dict]:
    """One row per expression: {"name", "mean_us", "median_us"}; the baseline row comes first."""
    from dateutil.parser import parse

    rows = []
    cases = [("baseline: dateutil.parser.parse('2026-12-01 08:00')", lambda: parse("2026-12-01 08:00"))]
    cases += [(text, lambda text=text: parse_when(text, NOW, ZONE)) for text in EXPRESSIONS]
    for name, call in cases:
        call()  # warm up: imports, caches
        timings = _timings(call)
        rows.append({"name": name, "mean_us": statistics.mean(timings), "median_us": statistics.median(timings)})
    return rows


def main() -> None:
    rows = measure()
    width = max(len(row["name"]) for row in rows)
    print(f"{'expression'.ljust(width)}  {'mean µs':>9}  {'median µs':>9}")
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['mean_us']:9.1f}  {row['median_us']:9.1f}")
    worst = max(rows[1:], key=lambda row: row["median_us"])
    print(f"slowest: {worst['name']!r} at {worst['median_us']:.1f} µs (goal: well under 1000 µs); "
          f"baseline {rows[0]['median_us']:.1f} µs")


if __name__ == "__main__":
    main()
