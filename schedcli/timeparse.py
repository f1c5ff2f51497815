"""Natural time expressions: text + now + zone -> `When` (a countdown, or an eta).

A relative expression ("in 1h30m", "now + 20 minutes", "через 2 часа") becomes a countdown in
elapsed seconds, or, when it counts calendar months or years ("in 1 month"), an eta. An absolute
one ("tomorrow 12:00", "4pm + 3 days", "25.12.2026 10:00", "Dec 24 18:00 Europe/Berlin") an aware
eta. A small grammar of our own reads at(1)'s timespec, clock times, day words, weekdays, numeric
and month-name dates and the Russian forms; only month-name dates it does not read ("friday, dec 25
2026 9am", "Dec 24th") go to dateutil, which is imported then and only then (start-up time of
`--in 1h` matters).

Pure: no Click, no Celery. docs/time-expressions.md is the user's reference.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

# The longest delay Celery's native delayed delivery on RabbitMQ can hold (28 bits of seconds).
from schedcli.amqp.delays import MAX_DELAY_SECONDS as MAX_DELAY
from schedcli.exceptions import BadInput, TimeExpressionError
from schedcli.timetext import resolve_zone, zone_name

_EXAMPLES = "try 'in 90m', 'tomorrow 12:00' or '2026-12-01 08:00'"
_DELAY_EXAMPLES = "try '1h', '1h30m' or 'in 2 days'"


@dataclass(frozen=True)
class When:
    """What an expression means: `countdown` seconds (None for an absolute time) and the aware `eta`.

    `calendar_delay` is True for a delay in calendar months or years ("in 1 month"): its length
    depends on the dates it spans, so it is an eta (countdown None), though the text is relative.
    """

    countdown: float | None
    eta: datetime
    calendar_delay: bool = False

    @property
    def zone_name(self) -> str:
        """The name of the zone `eta` is expressed in: an IANA name, `UTC` or `UTC+05:30`."""
        return zone_name(self.eta.tzinfo)


# --- relative expressions ------------------------------------------------------------------------

# Each unit word names an amount of one of the three kinds a span keeps apart (see `_Span`).
_UNITS: dict[str, tuple[str, int]] = {}
for _kind, _amount, _words in (
    ("seconds", 1, "s sec secs second seconds с сек секунда секунду секунды секунд"),
    ("seconds", 60, "m min mins minute minutes мин минута минуту минуты минут"),
    ("seconds", 1800, "полчаса"),
    ("seconds", 3600, "h hr hrs hour hours ч час часа часов"),
    ("days", 1, "d day days д день дня дней сутки суток"),
    ("days", 7, "w wk wks week weeks нед неделя неделю недели недель"),
    ("months", 1, "month months мес месяц месяца месяцев"),
    ("months", 12, "y yr yrs year years год года лет"),
):
    _UNITS.update(dict.fromkeys(_words.split(), (_kind, _amount)))
# Abbreviations need a number ("5m"); full words may stand alone ("через час", "in an hour").
_ABBREVIATIONS = frozenset("s sec secs m min mins h hr hrs d w wk wks y yr yrs с сек мин ч д нед мес".split())


@dataclass(frozen=True)
class _Span:
    """A duration as written: calendar months (a year is 12), days (a week is 7) and elapsed seconds.

    Kept apart because they mean different things after a named moment: `4pm + 3 days` is 16:00 on
    the calendar three days later, whatever DST does, while hours and minutes are always elapsed.
    """

    months: float = 0.0
    days: float = 0.0
    seconds: float = 0.0

    @property
    def elapsed(self) -> float:
        """Days and seconds as elapsed seconds, as a delay from now counts them (`in 1 day` is 86400 s)."""
        return self.days * 86400 + self.seconds


_RELATIVE = re.compile(
    r"(?:(?:in|через)\s+|(?:now|сейчас)\s*(?=[+-]))?(?P<sign>[+-])?\s*(?P<body>.+?)(?P<ago>\s+(?:ago|назад))?"
)
# at(1)'s `next week`: now plus one unit.
_NEXT_UNIT = re.compile(r"next\s+(?P<unit>minute|hour|day|week|month|year)")
# One number-and-unit; the unit is looked up in _UNITS (cheaper to compile than an alternation).
_PART = re.compile(
    r"(?:(?P<number>\d+(?:[.,]\d+)?)|(?P<article>an?|one)\s)?\s*(?P<unit>[^\W\d_]+)\s*(?:(?:,|and|и)\s*)?"
)


def _duration(body: str) -> _Span | None:
    """What `1h30m`, `1 hour 30 minutes`, `2.5h`, `1 month`, `через час` name; None when not a duration."""
    amounts = {"months": 0.0, "days": 0.0, "seconds": 0.0}
    position = 0
    while position < len(body):
        match = _PART.match(body, position)
        if not match:
            return None
        number, unit = match.group("number"), match.group("unit")
        if unit not in _UNITS:
            return None
        if number is None and match.group("article") is None and unit in _ABBREVIATIONS:
            return None
        kind, amount = _UNITS[unit]
        amounts[kind] += float(number.replace(",", ".")) * amount if number else amount
        position = match.end()
    return _Span(**amounts) if position else None


def _relative(original: str, text: str) -> _Span | None:
    """The delay `text` (lower case) names, or None when it is not a relative expression."""
    if text in ("now", "сейчас"):
        return _Span()
    next_unit = _NEXT_UNIT.fullmatch(text)
    if next_unit:
        return _duration(next_unit.group("unit"))
    match = _RELATIVE.fullmatch(text)
    span = _duration(match.group("body")) if match else None
    if span is None:
        return None
    if match.group("sign") == "-":
        raise TimeExpressionError(f"{original!r} is a negative delay; {_DELAY_EXAMPLES}")
    if match.group("ago"):
        raise TimeExpressionError(f"{original!r} is in the past; {_DELAY_EXAMPLES}")
    return span


# --- absolute expressions ------------------------------------------------------------------------

_RUSSIAN = {
    "сейчас": "now", "сегодня": "today", "завтра": "tomorrow", "послезавтра": "day after tomorrow",
    "в": "at", "во": "at", "полдень": "noon", "полночь": "midnight", "утром": "morning", "вечером": "evening",
    "утра": "am", "ночи": "am", "дня": "pm", "вечера": "pm",
    "следующий": "next", "следующую": "next", "следующее": "next", "следующая": "next",
    "понедельник": "monday", "вторник": "tuesday", "среда": "wednesday", "среду": "wednesday",
    "четверг": "thursday", "пятница": "friday", "пятницу": "friday", "суббота": "saturday",
    "субботу": "saturday", "воскресенье": "sunday",
    # month names in the genitive, as a date says them: "25 декабря"
    "января": "january", "февраля": "february", "марта": "march", "апреля": "april", "мая": "may",
    "июня": "june", "июля": "july", "августа": "august", "сентября": "september", "октября": "october",
    "ноября": "november", "декабря": "december",
}
_CYRILLIC_WORD = re.compile("[а-яё]+")
_TIME_WORDS = {
    "noon": "12:00", "midday": "12:00", "midnight": "00:00", "teatime": "16:00", "morning": "09:00",
    "evening": "19:00",
}
_TIME_WORD = re.compile(rf"\b(?:{'|'.join(_TIME_WORDS)})\b")

# A zone at the end: `... Europe/Berlin`, `... in America/New_York`, `... UTC`, `... +05:30`,
# or an offset glued to a clock time, as ISO 8601 writes it: `08:00:00+01:00`, `12:00Z`.
_ZONE_WORD = re.compile(
    r"\s+(?:in\s+)?(?P<zone>UTC|GMT|Z|[+-]\d\d(?::?\d\d)?|[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+)$", re.IGNORECASE
)
_ZONE_GLUED = re.compile(r"(?<=:\d\d)(?:[.,]\d+)?(?P<zone>[+-]\d\d(?::?\d\d)?|Z)$", re.IGNORECASE)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"""(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?
    |sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"""
_DAY = rf"""(?:
    (?P<word>today|tomorrow|day\ after\ tomorrow)
  | (?:(?P<next>next|this)\s+)?(?P<weekday>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?
        |thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)
  | (?P<iso_year>\d{{4}}|\d\d)-(?P<iso_month>\d\d)-(?P<iso_day>\d\d)
  | (?P<dotted_day>\d{{1,2}})\.(?P<dotted_month>\d{{1,2}})\.(?P<dotted_year>\d{{4}}|\d\d)
  | (?P<named_month>{_MONTH})\.?\s*(?P<day_of_named>\d{{1,2}})(?:,?\s+(?P<year_of_named>\d{{4}}))?
  | (?P<day_before_name>\d{{1,2}})\s*(?P<month_after_day>{_MONTH})\.?(?:,?\s+(?P<year_after_name>\d{{4}})(?:\s+года)?)?
)"""
# `1030` is at(1)'s four-digit HHMM; a lone one- or two-digit number needs `at`, am/pm or minutes.
_TIME = r"""(?:
    (?P<at>at\s+)?
    (?:(?P<hhmm_hour>\d\d)(?P<hhmm_minute>\d\d)
      | (?P<hour>\d{1,2})(?::(?P<minute>\d\d)(?::(?P<second>\d\d)(?:[.,](?P<fraction>\d{1,6}))?)?)?)
    (?:\s*(?P<ampm>[ap])\.?m\.?)?
)"""
_DAY_FIRST = re.compile(rf"(?:(?:on|at)\s+)?{_DAY}(?:(?:t|\s*,\s*|\s+){_TIME})?", re.VERBOSE)
_TIME_FIRST = re.compile(rf"{_TIME}(?:\s+(?:on\s+)?{_DAY})?", re.VERBOSE)
# `TIME + N unit`, `DATE TIME + N unit`: the last `+` starts the increment.
_INCREMENT = re.compile(r"(?P<base>.*\S)\s*\+\s*(?P<span>[^+]+)")
_AMPM_HOUR = re.compile(r"(?<![\d:])(\d+)(?::\d\d)*\s*[ap]\.?m\b")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
_SLASHED_DATE = re.compile(r"\d\s*/\s*\d")
_DAY_WORDS = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}


@dataclass(frozen=True)
class _Named:
    """What an absolute expression names, before it is placed after `now`."""

    clock: time | None = None
    day_offset: int | None = None  # today 0, tomorrow 1, day after tomorrow 2
    weekday: int | None = None  # Monday 0
    next_week: bool = False
    year: int | None = None
    month: int | None = None
    day: int | None = None


def _split_zone(text: str) -> tuple[str, tzinfo | None]:
    """The text without its trailing zone, and that zone (None when the text names none)."""
    match = _ZONE_GLUED.search(text)
    rest = text[: match.start("zone")] if match else text  # keeps the fraction of a second stepped over
    if not match:
        match = _ZONE_WORD.search(text)
        rest = text[: match.start()] if match else text
    if not match:
        return text, None
    try:
        return rest, resolve_zone(match.group("zone"))
    except TimeExpressionError as exc:
        problem, _, advice = str(exc).partition("; ")
        raise TimeExpressionError(f"{problem} in {text!r}; {advice}") from None


def _normalize(text: str) -> str:
    text = " ".join(text.lower().split())
    text = _CYRILLIC_WORD.sub(lambda match: _RUSSIAN.get(match.group(), match.group()), text)
    return _TIME_WORD.sub(lambda match: _TIME_WORDS[match.group()], text)


def _clock(original: str, hour: int, minute: int = 0, second: int = 0, micro: int = 0, ampm: str | None = None) -> time:
    if ampm:
        if not 1 <= hour <= 12:
            raise TimeExpressionError(
                f"{original!r}: with am/pm the hour goes from 1 to 12; try '9am', '9:15pm' or '21:15'"
            )
        hour = hour % 12 + (12 if ampm == "p" else 0)
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        raise TimeExpressionError(
            f"{original!r} has no such time of day ({hour:02d}:{minute:02d}); try '14:30', '9am' or 'noon'"
        ) from None


def _fast_absolute(original: str, text: str) -> _Named | None:
    """Day words, weekdays, numeric and month-name dates, clock times, by our own grammar; None for anything else."""
    match = _DAY_FIRST.fullmatch(text) or _TIME_FIRST.fullmatch(text)
    if not match:
        return None
    groups = match.groupdict()
    clock = None
    if groups["hhmm_hour"] is not None:
        clock = _clock(original, int(groups["hhmm_hour"]), int(groups["hhmm_minute"]), ampm=groups["ampm"])
    elif groups["hour"] is not None:
        if groups["minute"] is None and groups["ampm"] is None and groups["at"] is None:
            return None  # a bare number ("tomorrow 9") is not a time
        clock = _clock(
            original, int(groups["hour"]), int(groups["minute"] or 0), int(groups["second"] or 0),
            int((groups["fraction"] or "0").ljust(6, "0")), groups["ampm"],
        )
    if groups["word"]:
        return _Named(clock, day_offset=_DAY_WORDS[groups["word"]])
    if groups["weekday"]:
        return _Named(clock, weekday=_WEEKDAYS.index(groups["weekday"][:3]), next_week=groups["next"] == "next")
    if groups["iso_year"]:
        return _Named(clock, year=_full_year(groups["iso_year"]), month=int(groups["iso_month"]),
                      day=int(groups["iso_day"]))
    if groups["dotted_year"]:
        return _Named(clock, year=_full_year(groups["dotted_year"]), month=int(groups["dotted_month"]),
                      day=int(groups["dotted_day"]))
    if groups["named_month"]:
        year = groups["year_of_named"]
        return _Named(clock, year=year and int(year), month=_MONTHS.index(groups["named_month"][:3]) + 1,
                      day=int(groups["day_of_named"]))
    if groups["month_after_day"]:
        year = groups["year_after_name"]
        return _Named(clock, year=year and int(year), month=_MONTHS.index(groups["month_after_day"][:3]) + 1,
                      day=int(groups["day_before_name"]))
    return _Named(clock)


def _full_year(digits: str) -> int:
    """`26` is 2026: a two-digit year (as at(1) takes it) can only mean this century for a future moment."""
    return int(digits) + (2000 if len(digits) == 2 else 0)


def _dateutil_absolute(original: str, text: str) -> tuple[_Named, tzinfo | None]:
    """`friday, dec 25 2026 9am`, `Dec 24th`: month-name dates the own grammar does not read, read by dateutil."""
    from dateutil.parser import parser

    for match in _AMPM_HOUR.finditer(text):  # dateutil would read "13pm" as 13:00
        _clock(original, int(match.group(1)), ampm="a")
    try:
        # `_parse` (which pandas uses too) reports which fields the text gave; `parse()` would fill
        # the missing ones from a default and hide whether the year was written.
        result, _ = parser()._parse(text)
    except (ValueError, OverflowError):
        result = None
    if result is None or result.month is None or result.day is None:
        raise TimeExpressionError(f"cannot read {original!r} as a time; {_EXAMPLES}")
    zone = None
    if result.tzoffset is not None:
        zone = timezone(timedelta(seconds=result.tzoffset)) if result.tzoffset else timezone.utc
    elif result.tzname:
        raise TimeExpressionError(
            f"unknown time zone {result.tzname!r} in {original!r}; use an IANA name such as "
            "'Europe/Berlin', 'America/New_York' or 'UTC', or an offset such as +01:00"
        )
    clock = None
    if result.hour is not None:
        clock = _clock(original, result.hour, result.minute or 0, result.second or 0, result.microsecond or 0)
    if result.year is not None and not 1 <= result.year <= 9999:
        raise TimeExpressionError(f"{original!r} names year {result.year}; {_EXAMPLES}")
    named = _Named(clock, weekday=result.weekday, year=result.year, month=result.month, day=result.day)
    return named, zone


# --- placing a named moment after now ------------------------------------------------------------


def _localize(day: date, clock: time, zone: tzinfo) -> tuple[datetime, bool]:
    """`day` at `clock` in `zone` (the first of two, in a fold) and whether that wall time is skipped."""
    local = datetime.combine(day, clock, zone)
    naive = local.replace(tzinfo=None)
    skipped = local.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive
    return local, skipped


def _gap_error(original: str, local: datetime, zone: tzinfo, *, moved: bool = False) -> TimeExpressionError:
    """Name the gap: the wall-clock times the zone skips when its clocks jump forward.

    `moved`: the skipped time is where a calendar shift (`+ 1 day`, `in 1 month`) landed, not what the text wrote.
    """
    before, after = local.replace(fold=0).utcoffset(), local.replace(fold=1).utcoffset()
    naive = local.replace(tzinfo=None)
    low, high = naive - after, naive - before  # the jump happened at a UTC instant between these
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.replace(tzinfo=timezone.utc).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    jump = high.replace(microsecond=0)
    start, end, skip = jump + before, jump + after, after - before
    if moved:
        subject, later, earlier = f"{original!r} lands on {naive:%Y-%m-%d %H:%M}, which", naive + skip, naive - skip
        advice = f"try '{later:%Y-%m-%d %H:%M}' or '{earlier:%Y-%m-%d %H:%M}'"
    else:
        subject, advice = repr(original), f"try '{naive + skip:%H:%M}' or '{naive - skip:%H:%M}' that day"
    return TimeExpressionError(
        f"{subject} does not exist in {zone_name(zone)}: on {start:%Y-%m-%d} clocks jump from "
        f"{start:%H:%M} to {end:%H:%M} (daylight saving); {advice}"
    )


def _place(original: str, named: _Named, now: datetime, zone: tzinfo) -> datetime:
    """The moment `named` means for someone in `zone` at `now` (UTC); refuses the past and DST gaps."""
    today = now.astimezone(zone).date()
    clock = named.clock or time(0)
    if named.month is not None:
        return _place_date(original, named, now, zone, today, clock)
    if named.day_offset is not None:
        local, skipped = _localize(today + timedelta(days=named.day_offset), clock, zone)
        if local < now:
            raise TimeExpressionError(
                f"{original!r} has already passed ({local:%Y-%m-%d %H:%M %Z}); try 'tomorrow {clock:%H:%M}', "
                f"'{clock:%H:%M}' (its next occurrence) or 'in 1h'"
            )
    elif named.weekday is not None:
        ahead = (named.weekday - today.weekday()) % 7
        if named.next_week:  # the first such weekday strictly after today
            local, skipped = _localize(today + timedelta(days=ahead or 7), clock, zone)
        else:
            local, skipped = _localize(today + timedelta(days=ahead), clock, zone)
            if local <= now:
                local, skipped = _localize(today + timedelta(days=ahead + 7), clock, zone)
    else:  # a clock time alone: its next occurrence
        local, skipped = _localize(today, clock, zone)
        if local <= now:
            local, skipped = _localize(today + timedelta(days=1), clock, zone)
    if skipped:
        raise _gap_error(original, local, zone)
    return local


def _place_date(original: str, named: _Named, now: datetime, zone: tzinfo, today: date, clock: time) -> datetime:
    try:
        date(2000 if named.year is None else named.year, named.month, named.day)  # 2000: a leap year
    except ValueError:
        raise TimeExpressionError(
            f"{original!r} is not a date of the calendar; try '2026-12-01', 'Dec 24 18:00' or '24 December 2026 6pm'"
        ) from None
    if named.year is not None:
        local, skipped = _localize(date(named.year, named.month, named.day), clock, zone)
        if local < now:
            raise TimeExpressionError(
                f"{original!r} is in the past ({local:%Y-%m-%d %H:%M %Z}); try 'tomorrow 12:00', 'in 1h' or a later date"
            )
    else:  # its next occurrence; 29 February waits for a leap year (at most 8 years, past the limit anyway)
        for year in range(today.year, today.year + 9):
            try:
                local, skipped = _localize(date(year, named.month, named.day), clock, zone)
            except ValueError:
                continue
            if local > now:
                break
        else:
            raise _limit_error(original, now, zone)
    if skipped:
        raise _gap_error(original, local, zone)
    if named.weekday is not None and local.weekday() != named.weekday:
        raise TimeExpressionError(
            f"{original!r} does not match: {local:%Y-%m-%d} is a {local:%A}; "
            f"try '{local:%b} {local.day} {local.year}' or '{local:%A}, {local:%b} {local.day} {local.year}'"
        )
    return local


# --- calendar arithmetic -------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    """`day` so many calendar months later, kept within the month: 31 Jan + 1 month is 28 (or 29) Feb."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _shift(original: str, start: datetime, span: _Span, now: datetime, zone: tzinfo) -> datetime:
    """`start` (in `zone`) moved by `span`: months and whole days on the calendar, keeping the wall-clock
    time (a DST gap there is an error, a fold means the first), then the rest as elapsed seconds."""
    if span.months != int(span.months):
        raise TimeExpressionError(
            f"{original!r}: months and years count in whole numbers; "
            "try 'in 1 month 15 days', 'in 6 weeks' or 'in 1 year 6 months'"
        )
    if span.months > 12 * 9 or span.elapsed > MAX_DELAY:  # beyond the limit anyway: spare the calendar an overflow
        raise _limit_error(original, now, zone)
    whole_days = int(span.days)
    local = start
    if span.months or whole_days:
        day = _add_months(start.date(), int(span.months)) + timedelta(days=whole_days)
        local, skipped = _localize(day, start.time().replace(fold=0), zone)
        if skipped:
            raise _gap_error(original, local, zone, moved=True)
    rest = (span.days - whole_days) * 86400 + span.seconds
    return (local.astimezone(timezone.utc) + timedelta(seconds=rest)).astimezone(zone)


# --- the entry point -----------------------------------------------------------------------------


def parse_when(text: str, now: datetime, zone: str | tzinfo, *, relative_only: bool = False) -> When:
    """What `text` means at `now` for someone in `zone`: a countdown or an absolute eta.

    Relative text ("in 1h30m") gives `countdown` (elapsed seconds, whatever DST does meanwhile) and
    `eta = now + countdown` in `zone`; a delay in calendar months or years ("in 1 month") gives
    `countdown=None`, the eta on the same wall-clock time, and `calendar_delay=True`. Absolute text
    gives `countdown=None` and `eta` in `zone`, or in the zone or offset the text names; `+ N unit`
    after it moves it (days and longer on the calendar, hours and shorter elapsed).
    `relative_only` (for `--in`) refuses absolute text.
    Raises `TimeExpressionError` for anything unreadable, past, skipped by DST or beyond `MAX_DELAY`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    zone = resolve_zone(zone)
    original = text.strip()
    text = " ".join(original.lower().split())
    if not text:
        raise TimeExpressionError(f"empty time expression; {_DELAY_EXAMPLES if relative_only else _EXAMPLES}")
    now_utc = now.astimezone(timezone.utc)

    span = _relative(original, text)
    if span is not None:
        return _after_now(original, span, now_utc, zone)
    if relative_only:
        raise TimeExpressionError(f"{original!r} is not a delay; {_DELAY_EXAMPLES} (a moment goes to --at)")

    rest, explicit_zone = _split_zone(" ".join(original.split()))  # one space: the zone search stays linear
    text = " ".join(rest.lower().split())
    increment = _INCREMENT.fullmatch(text)
    # the increment is read before the Russian words become English ones: "3 дня" are days, not "3 pm"
    span = _duration(increment.group("span")) if increment else None
    text = _normalize(increment.group("base") if span else text)
    named = _fast_absolute(original, text) if text else None
    if named is None:
        if _SLASHED_DATE.search(text):
            raise TimeExpressionError(
                f"cannot read {original!r} as a time: a date with slashes may be day-first or month-first; "
                "try '2026-12-25', '25.12.2026' or 'Dec 25 2026'"
            )
        if not _MONTH_NAME.search(text):
            raise TimeExpressionError(f"cannot read {original!r} as a time; {_EXAMPLES}")
        named, text_zone = _dateutil_absolute(original, text)
        if explicit_zone is not None and text_zone is not None:
            raise TimeExpressionError(f"{original!r} names two zones; keep one")
        explicit_zone = explicit_zone or text_zone
    zone = explicit_zone or zone
    eta = _place(original, named, now_utc, zone)
    if span:
        eta = _shift(original, eta, span, now_utc, zone)
    if (eta - now_utc).total_seconds() > MAX_DELAY:
        raise _limit_error(original, now_utc, zone)
    return When(None, eta)


def _after_now(original: str, span: _Span, now: datetime, zone: tzinfo) -> When:
    """A delay from `now`: a countdown of elapsed seconds, or, with calendar months, an eta."""
    if not span.months:
        if span.elapsed > MAX_DELAY:
            raise _limit_error(original, now, zone)
        return When(span.elapsed, (now + timedelta(seconds=span.elapsed)).astimezone(zone))
    eta = _shift(original, now.astimezone(zone), _Span(months=span.months, seconds=span.elapsed), now, zone)
    if (eta - now).total_seconds() > MAX_DELAY:
        raise _limit_error(original, now, zone)
    return When(None, eta, calendar_delay=True)


def _limit_error(original: str, now: datetime, zone: tzinfo) -> TimeExpressionError:
    latest = (now + timedelta(seconds=MAX_DELAY)).astimezone(zone)
    return TimeExpressionError(
        f"{original!r} is too far ahead: the scheduler holds delays up to 2**28-1 = {MAX_DELAY} s "
        f"(about 8.5 years, until {latest:%Y-%m-%d}); try 'in 30 days', 'in 52 weeks' or an earlier date"
    )


# Spans (`report run --period`, `list --since`): the durations `--in` reads, `7d`, `1d 12h`, `90 minutes`.
PERIOD_MAX = 520 * 604800  # ten years: bounds the per-hour tallies


def parse_period(text: str) -> float:
    """`7d`, `24h`, `2 weeks`, `90 minutes`, `1d 12h`, `2 дня` -> seconds; anything else is `BadInput`.

    The same grammar as a delay (`--in`), without its `in`: a span looks back as far as a delay looks ahead.
    Calendar months and years are refused: a span is a fixed number of seconds.
    """
    span = _duration(" ".join(text.lower().split())) if isinstance(text, str) else None
    if span is None:
        raise BadInput(f"bad period {text!r}: give a number and a unit, like 7d, 24h, 2w or '90 minutes'")
    if span.months:
        raise BadInput(
            f"bad period {text!r}: months and years have no fixed length; give days or weeks, like 30d or 52w"
        )
    if not 0 < span.elapsed <= PERIOD_MAX:
        raise BadInput(f"bad period {text!r}: it must be longer than zero and at most 520w (ten years)")
    return span.elapsed
