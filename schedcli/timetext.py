"""Time zones and durations as text: a zone setting read and named, a delay or a duration written for people.

What rendering and the settings need of time, without the parser's grammar: `schedcli.timeparse`
compiles its expressions when imported, which `status` and `list` would pay for nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from schedcli.exceptions import TimeExpressionError


def zone_name(zone: tzinfo) -> str:
    """`Europe/Berlin` for a ZoneInfo, `UTC` or `UTC+05:30` for a fixed offset."""
    return getattr(zone, "key", None) or zone.tzname(None) or str(zone)


_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)?")


def _fixed_offset(text: str) -> tzinfo | None:
    """`+05:30`, `-0800`, `+02` as a fixed-offset zone; None when `text` is not an offset."""
    match = _OFFSET.fullmatch(text)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59:
        raise TimeExpressionError(f"{text!r} is not a UTC offset; write offsets as +05:30 or -08:00")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if sign == "-" else offset) if offset else timezone.utc


def resolve_zone(name: str | tzinfo) -> tzinfo:
    """An IANA zone name (any letter case), `UTC`/`Z`/`GMT`, or a `+05:30` offset, as a tzinfo."""
    if isinstance(name, tzinfo):
        return name
    name = name.strip()
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    fixed = _fixed_offset(name)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    # Only when the exact name failed: a scan of the zone database finds `europe/berlin`.
    folded = {key.lower(): key for key in available_timezones()}
    if name.lower() in folded:
        return ZoneInfo(folded[name.lower()])
    raise TimeExpressionError(
        f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"
    )


def format_delay(seconds: float) -> str:
    """`in 25h 12m`, `in 3d 4h`, `in 45s`, `now`, `3m 2s ago`: a delay as people say it.

    Minutes and seconds under an hour, hours and minutes under two days, then days, hours and
    minutes; truncated to the last unit shown, so a wait is never rounded up.
    """
    if abs(seconds) < 0.05:
        return "now"
    ahead = seconds > 0
    remaining = abs(seconds)
    if remaining < 10 and remaining != int(remaining):
        text = f"{remaining:.3g}s"
    else:
        whole = int(round(remaining, 3))
        if whole < 3600:
            parts = [(whole // 60, "m"), (whole % 60, "s")]
        elif whole < 2 * 86400:
            parts = [(whole // 3600, "h"), (whole % 3600 // 60, "m")]
        else:
            parts = [(whole // 86400, "d"), (whole % 86400 // 3600, "h"), (whole % 3600 // 60, "m")]
        text = " ".join(f"{value}{unit}" for value, unit in parts if value) or "0s"
    return f"in {text}" if ahead else f"{text} ago"


def format_seconds(value: float | None) -> str:
    """A duration for people: `12.3 ms`, `1.50 s`, `2 min 03 s`, `1 h 02 min`; negative means early."""
    if value is None:
        return "-"
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value < 1:
        return f"{sign}{value * 1000:.1f} ms"
    if value < 60:
        return f"{sign}{value:.2f} s"
    if value < 3600:
        return f"{sign}{int(value // 60)} min {int(value % 60):02d} s"
    return f"{sign}{int(value // 3600)} h {int(value % 3600 // 60):02d} min"
