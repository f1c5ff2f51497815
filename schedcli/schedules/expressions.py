"""`--every` expressions: text + zone -> `Recurrence` (an interval, or a cron line in a zone).

Words are read by a small grammar of our own; every calendar form ("every weekday 9am", "every last
day of the month 23:00") becomes a five-field cron line, and cron lines, ours and the user's, are
evaluated by cronsim, which follows Debian cron's DST rules (see `occurrences`). Intervals ("every
15m") count elapsed seconds. Pure: no Click, no Celery. docs/schedules.md is the user's reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from schedcli.exceptions import TimeExpressionError
from schedcli.timetext import resolve_zone, zone_name

MIN_INTERVAL = 1  # seconds; smaller intervals cannot be sent ahead and run on time (see docs/schedules.md)
_EXAMPLES = "try 'every 15m', 'every weekday 9am', 'every monday 9:00 Europe/Berlin' or '0 9 * * 1-5'"

# Cron's shorthands, as Debian cron defines them.
SHORTHANDS = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}
_CRON_FIELD = r"[0-9A-Za-z*/,\-?#]+"
_CRON_LINE = re.compile(rf"{_CRON_FIELD}(?:\s+{_CRON_FIELD}){{4}}")
_EVERY_WORDS = ("every", "каждый", "каждые", "каждую", "каждое")

_ZONE_AT_END = re.compile(
    r"\s+(?:in\s+)?(?P<zone>UTC|GMT|Z|[+-]\d\d(?::?\d\d)?|[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+)$", re.IGNORECASE
)

_RUSSIAN_PHRASES = (("будний день", "weekday"), ("будням", "weekday"), ("в полдень", "at noon"),
                    ("в полночь", "at midnight"))
_RUSSIAN = {
    "каждый": "every", "каждые": "every", "каждую": "every", "каждое": "every", "в": "at", "во": "at",
    "день": "day", "дня": "pm", "утра": "am", "ночи": "am", "вечера": "pm",
    "час": "hour", "часа": "hours", "часов": "hours", "минуту": "minute", "минуты": "minutes", "минут": "minutes",
    "секунду": "second", "секунды": "seconds", "секунд": "seconds",
    "понедельник": "monday", "вторник": "tuesday", "среду": "wednesday", "среда": "wednesday",
    "четверг": "thursday", "пятницу": "friday", "пятница": "friday", "субботу": "saturday",
    "суббота": "saturday", "воскресенье": "sunday",
}
_CYRILLIC_WORD = re.compile("[а-яё]+")

_UNITS = {}
for _seconds, _words in ((1, "s sec secs second seconds"), (60, "m min mins minute minutes"),
                         (3600, "h hr hrs hour hours"), (86400, "d day days"), (604800, "w wk wks week weeks")):
    _UNITS.update(dict.fromkeys(_words.split(), _seconds))
_INTERVAL_PART = re.compile(r"\s*(\d+)\s*([a-z]+)\s*(?:,|and)?")

# Cron numbers the weekdays from Sunday (0); Monday is 1.
_WEEKDAY = re.compile(r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
                      r"|sat(?:urday)?|sun(?:day)?")
_WEEKDAY_NUMBERS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
_WEEKDAY_LIST = re.compile(rf"(?:{_WEEKDAY.pattern})s?(?:\s*(?:,|and|&)\s*(?:{_WEEKDAY.pattern})s?)*")
_TIME = re.compile(r"(?:at\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d\d))?(?::(?P<second>\d\d))?"
                   r"\s*(?:(?P<ampm>[ap])\.?m\.?)?")
_ORDINAL = r"(?P<dom>\d{1,2})(?:st|nd|rd|th)?"
_MONTH_DAY = (
    re.compile(rf"month\s+on\s+(?:the\s+)?(?:day\s+)?{_ORDINAL}"),
    re.compile(rf"(?:the\s+)?{_ORDINAL}\s+(?:day\s+)?of\s+(?:the|every|each)\s+month"),
)
_LAST_DAY = (re.compile(r"last\s+day\s+of\s+(?:the\s+|every\s+|each\s+)?month"),
             re.compile(r"month\s+on\s+the\s+last\s+day"))


@dataclass(frozen=True)
class Recurrence:
    """When a schedule runs: every `seconds` of elapsed time, or at the times of a `cron` line in `zone`.

    `expression` is the text as given without its zone (what the store keeps); `described` says it in words.
    """

    expression: str
    zone: tzinfo
    seconds: int | None = None
    cron: str | None = None

    @property
    def kind(self) -> str:
        return "interval" if self.seconds is not None else "cron"

    @property
    def zone_name(self) -> str:
        return zone_name(self.zone)

    @property
    def described(self) -> str:
        if self.seconds is not None:
            return f"every {_say_seconds(self.seconds)} (elapsed time)"
        from cronsim import CronSim

        words = CronSim(self.cron, datetime(2000, 1, 1, tzinfo=timezone.utc)).explain()
        return f"{words} ({self.zone_name}; cron {self.cron})"


def _say_seconds(seconds: int) -> str:
    for size, unit in ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            count = seconds // size
            return f"{unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def looks_recurring(text: str) -> bool:
    """Whether `schedcli when` should read `text` as a recurrence: "every ...", a cron line, `@daily`..."""
    words = text.strip().lower().split()
    if not words:
        return False
    if words[0] in _EVERY_WORDS or words[0] in SHORTHANDS:
        return True
    try:
        rest, _ = _split_zone(text.strip())
    except TimeExpressionError:
        return False
    fields = rest.split()
    # Minute and hour are numbers, steps or `*` in any cron line; "next friday at 9 am" has five words too.
    return len(fields) == 5 and all(re.fullmatch(r"[\d*/,\-]+", field) for field in fields[:2])


def _split_zone(text: str) -> tuple[str, tzinfo | None]:
    match = _ZONE_AT_END.search(text)
    if not match:
        return text, None
    return text[: match.start()], resolve_zone(match.group("zone"))


def parse_recurrence(text: str, zone: str | tzinfo) -> Recurrence:
    """What `--every TEXT` means for someone in `zone` (a zone at the end of the text wins).

    Raises `TimeExpressionError` (exit 2) for anything it cannot read.
    """
    original = " ".join(str(text).split())
    if not original:
        raise TimeExpressionError(f"empty recurrence; {_EXAMPLES}")
    rest, explicit_zone = _split_zone(original)
    zone = explicit_zone or resolve_zone(zone)
    lowered = rest.lower()
    if lowered in SHORTHANDS:
        return Recurrence(lowered, zone, cron=_checked_cron(original, SHORTHANDS[lowered]))
    if _CRON_LINE.fullmatch(rest) and not lowered.startswith(_EVERY_WORDS):
        return Recurrence(rest, zone, cron=_checked_cron(original, rest))
    words = _normalize(lowered)
    if not words.startswith("every "):
        raise TimeExpressionError(f"cannot read {original!r} as a recurrence; {_EXAMPLES}")
    body = words[len("every "):].strip()
    seconds = _interval(original, body)
    if seconds is not None:
        return Recurrence(rest, zone, seconds=seconds)
    return Recurrence(rest, zone, cron=_checked_cron(original, _calendar(original, body)))


def _normalize(text: str) -> str:
    for phrase, english in _RUSSIAN_PHRASES:
        text = text.replace(phrase, english)
    text = _CYRILLIC_WORD.sub(lambda match: _RUSSIAN.get(match.group(), match.group()), text)
    text = re.sub(r"\bnoon\b|\bmidday\b", "12:00", text)
    return " ".join(re.sub(r"\bmidnight\b", "00:00", text).split())


def _interval(original: str, body: str) -> int | None:
    """Seconds of `15m`, `2 hours`, `1h30m`, `hour`; None when `body` is not an interval."""
    if body in ("second", "minute", "hour"):
        return _UNITS[body]
    total, position = 0, 0
    while position < len(body):
        match = _INTERVAL_PART.match(body, position)
        if not match or match.group(2) not in _UNITS:
            return None
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not position:
        return None
    if total < MIN_INTERVAL:
        raise TimeExpressionError(f"{original!r}: the smallest interval is {MIN_INTERVAL} s; try 'every 2s'")
    return total


def _clock(original: str, text: str) -> tuple[int, int]:
    """(hour, minute) of `9am`, `at 14:30`, `9:15 pm`; TimeExpressionError when it is not a time of day."""
    match = _TIME.fullmatch(text.strip())
    if not match or (match.group("minute") is None and match.group("ampm") is None and not text.strip().startswith("at")):
        raise TimeExpressionError(f"cannot read a time of day in {original!r}; write it as 9:00, 9am or 14:30")
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if match.group("second") not in (None, "00"):
        raise TimeExpressionError(f"{original!r}: calendar schedules run on whole minutes; for seconds use an "
                                  "interval such as 'every 30s'")
    if match.group("ampm"):
        if not 1 <= hour <= 12:
            raise TimeExpressionError(f"{original!r}: with am/pm the hour goes from 1 to 12; try '9am' or '21:15'")
        hour = hour % 12 + (12 if match.group("ampm") == "p" else 0)
    if hour > 23 or minute > 59:
        raise TimeExpressionError(f"{original!r} has no such time of day ({hour:02d}:{minute:02d}); try '14:30'")
    return hour, minute


def _calendar(original: str, body: str) -> str:
    """The cron line of a calendar body: `day at 9:00`, `weekday 9am`, `mon,thu 14:30`, `month on the 1st 6:00`."""
    day_fields = None  # (day of month, day of week)
    rest = body
    for pattern, fields in ((re.compile(r"(?:day|night)\b"), ("*", "*")),
                            (re.compile(r"weekdays?\b|workday\b|business day\b"), ("*", "1-5")),
                            (re.compile(r"weekend(?:\s+day)?\b"), ("*", "0,6"))):
        match = pattern.match(rest)
        if match:
            day_fields, rest = fields, rest[match.end():]
            break
    if day_fields is None:
        for pattern in _LAST_DAY:
            match = pattern.match(rest)
            if match:
                day_fields, rest = ("L", "*"), rest[match.end():]
                break
    if day_fields is None:
        for pattern in _MONTH_DAY:
            match = pattern.match(rest)
            if match:
                dom = int(match.group("dom"))
                if not 1 <= dom <= 31:
                    raise TimeExpressionError(f"{original!r}: a month has days 1 to 31")
                day_fields, rest = (str(dom), "*"), rest[match.end():]
                break
    if day_fields is None:
        match = _WEEKDAY_LIST.match(rest)
        if match and (match.end() == len(rest) or not rest[match.end()].isalpha()):
            days = sorted({_WEEKDAY_NUMBERS[name[:3]] for name in _WEEKDAY.findall(match.group())},
                          key=lambda number: (number + 6) % 7)  # Monday first, as people list them
            day_fields, rest = ("*", ",".join(map(str, days))), rest[match.end():]
    if day_fields is None:
        raise TimeExpressionError(f"cannot read {original!r} as a recurrence; {_EXAMPLES}")
    rest = rest.strip().removeprefix(",").strip()
    if not rest:
        raise TimeExpressionError(f"{original!r} needs a time of day; try '{original} at 9:00'")
    hour, minute = _clock(original, rest)
    return f"{minute} {hour} {day_fields[0]} * {day_fields[1]}"


def _checked_cron(original: str, line: str) -> str:
    from cronsim import CronSim, CronSimError

    try:
        CronSim(line, datetime(2000, 1, 1, tzinfo=timezone.utc))
    except CronSimError as exc:
        raise TimeExpressionError(f"{original!r} is not a cron line ({exc}); write five fields, like "
                                  "'0 9 * * 1-5' or '*/5 * * * *'") from None
    return line
