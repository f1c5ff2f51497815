"""Turn what a user typed (ARGs, --args/--kwargs JSON, a JSON-lines file) into job requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from dataclasses import dataclass, field

from schedcli.amqp.delays import MAX_DELAY_SECONDS
from schedcli.exceptions import BadInput, SchedcliError

MAX_MESSAGE_BYTES = 1024 * 1024  # args + kwargs of one job, as JSON


def _json_encoder():
    """json.dumps(value, ensure_ascii=False) for values read from JSON, in a third of its time: a bulk send
    encodes every job's args and kwargs. `json` makes its C encoder anew for each call; this one is made once,
    with no check for circular values (a value parsed from JSON has none; one made in Python would end in
    RecursionError rather than ValueError)."""
    from json.encoder import c_make_encoder, encode_basestring

    plain = json.JSONEncoder(ensure_ascii=False)
    if c_make_encoder is None:  # a Python without json's C speedups
        return plain.encode
    encode = c_make_encoder(None, plain.default, encode_basestring, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


_to_json = _json_encoder()


@dataclass
class JobRequest:
    """One job to send. `eta`/`expires` are epoch seconds UTC; None means now / never."""

    task: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    eta: float | None = None
    expires: float | None = None
    key: str | None = None
    line: int | None = None  # the input line, for a bulk file
    schedule: str | None = None  # the recurring schedule it is sent for (schedcli.schedules)
    occurrence: int | None = None  # that schedule's occurrence, epoch seconds; None for a manual run
    schedule_revision: int | None = None  # the schedule's revision the occurrence was computed at
    retry_of: str | None = None  # the finished job this one retries
    # args and kwargs as JSON text, from the size check: the store records it and the message carries it as is.
    payload_json: tuple[str, str] | None = field(default=None, repr=False, compare=False)


def check_payload(args, kwargs) -> tuple[str, str]:
    """BadInput unless args is a list, kwargs an object, and both together fit in a message. Returns both as
    JSON text."""
    if not isinstance(args, list):
        raise BadInput(f"args must be a JSON array, got {type(args).__name__}: e.g. --args '[42, \"x\"]'")
    if not isinstance(kwargs, dict):
        raise BadInput(f"kwargs must be a JSON object, got {type(kwargs).__name__}: e.g. --kwargs '{{\"a\": 1}}'")
    args_json, kwargs_json = _to_json(args), _to_json(kwargs)
    # As the JSON array [args, kwargs], which the size was always reckoned on.
    size = len("[, ]") + len(args_json) + len(kwargs_json)
    try:
        if not (args_json.isascii() and kwargs_json.isascii()):
            size = len("[, ]") + len(args_json.encode("utf-8")) + len(kwargs_json.encode("utf-8"))
    except UnicodeEncodeError:  # bytes of a file that are not UTF-8, or a JSON escape like "\ud800"
        raise BadInput("args and kwargs hold text that is not UTF-8: a stray byte, or half a surrogate pair "
                       "like \\ud800") from None
    if size > MAX_MESSAGE_BYTES:
        raise BadInput(f"args and kwargs are {size:,} bytes as JSON; the limit is {MAX_MESSAGE_BYTES:,} bytes")
    return args_json, kwargs_json


def check_eta(eta: float | None, now: float) -> None:
    if eta is not None and eta - now > MAX_DELAY_SECONDS:
        raise BadInput(f"a job can be scheduled at most {MAX_DELAY_SECONDS:,} s (about 8.5 years) ahead")


_scan_json_value = json.JSONDecoder().scan_once
_JSON_WHITESPACE = " \t\n\r"


def loads(text: str):
    """`json.loads`; JSON nested deeper than Python can follow is a ValueError, as other bad JSON is."""
    try:
        try:  # json.loads' own scanner, without its wrapping: a bulk send reads every line with it
            value, end = _scan_json_value(text, 0)
            if end == len(text) or not text[end:].strip(_JSON_WHITESPACE):
                return value
        except (StopIteration, ValueError):
            pass
        return json.loads(text)  # leading space, extra data or bad JSON: json's own answer or error
    except RecursionError:
        raise ValueError("nested too deeply") from None


def is_unicode(text: str) -> bool:
    """False for text holding half a surrogate pair (a JSON escape like "\\ud800"), which no database stores."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_arg(text: str):
    """An ARG as JSON when it parses as JSON, otherwise the plain string."""
    try:
        return loads(text)
    except ValueError:
        return text


def parse_json_option(text: str | None, option: str, expected: type, example: str):
    if text is None:
        return expected()
    try:
        value = loads(text)
    except ValueError as exc:
        raise BadInput(f"{option} is not JSON ({exc}); e.g. {option} '{example}'") from None
    if not isinstance(value, expected):
        kind = "array" if expected is list else "object"
        raise BadInput(f"{option} must be a JSON {kind}, got {type(value).__name__}; e.g. {option} '{example}'")
    return value


def arguments(task_args: Iterable[str], args_json: str | None, kwargs_json: str | None) -> tuple[list, dict]:
    """Positional ARGs or --args (not both), and --kwargs."""
    task_args = list(task_args)
    if task_args and args_json is not None:
        raise BadInput("give the arguments either as ARGs or as --args JSON, not both")
    args = [read_arg(text) for text in task_args] if task_args else parse_json_option(
        args_json, "--args", list, '[42, "x"]')
    kwargs = parse_json_option(kwargs_json, "--kwargs", dict, '{"a": 1}')
    return args, kwargs


def eta_of(when, now: float) -> float | None:
    """Epoch seconds for a parsed time; None for `now` (countdown 0) or no time at all."""
    if when is None:
        return None
    if when.countdown is not None:
        return now + when.countdown if when.countdown > 0 else None
    return when.eta.timestamp()


def job_request(task: str, args: list, kwargs: dict, *, when=None, expires=None, key: str | None = None,
                line: int | None = None, now: float | None = None) -> JobRequest:
    now = time.time() if now is None else now
    payload_json = check_payload(args, kwargs)
    eta = eta_of(when, now)
    check_eta(eta, now)
    expires_at = eta_of(expires, now)
    if expires_at is not None and eta is not None and expires_at <= eta:
        raise BadInput("--expires must come after the time the job is due")
    if key is not None and (not isinstance(key, str) or not key or len(key) > 200 or not is_unicode(key)):
        raise BadInput("a key must be a non-empty string of at most 200 characters")
    return JobRequest(task=task, args=args, kwargs=kwargs, eta=eta, expires=expires_at, key=key, line=line,
                      payload_json=payload_json)


LINE_FIELDS = {"args", "kwargs", "in", "at", "key"}
PARSED_TIMES_KEPT = 10_000  # distinct time texts of a bulk file remembered at once


def read_job_lines(lines: Iterable[str], task: str, zone: str, expires=None,
                   now: float | None = None) -> Iterator[tuple[int, JobRequest | None, str | None]]:
    """(line number, request, None) for each good line, (line number, None, reason) for each bad one."""
    from datetime import datetime, timezone

    from schedcli.timeparse import parse_when

    now = time.time() if now is None else now
    now_dt = datetime.fromtimestamp(now, timezone.utc)
    # Every line is read at the same `now`, in the same zone: a time text seen before means the same time.
    parsed_times: dict[tuple[str, str], object] = {}

    def parse(field: str, text: str):
        if (field, text) not in parsed_times:
            if len(parsed_times) >= PARSED_TIMES_KEPT:
                parsed_times.clear()
            parsed_times[field, text] = parse_when(text, now_dt, zone, relative_only=field == "in")
        return parsed_times[field, text]

    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            try:
                spec = loads(text)
            except ValueError as exc:
                raise BadInput(f"not JSON ({exc})") from None
            if not isinstance(spec, dict):
                raise BadInput('each line must be a JSON object like {"args": [42], "in": "1h"}')
            unknown = set(spec) - LINE_FIELDS
            if unknown:
                raise BadInput(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(LINE_FIELDS))}")
            if "in" in spec and "at" in spec:
                raise BadInput('give either "in" or "at", not both')
            when = None
            if "in" in spec:
                when = parse("in", str(spec["in"]))
            elif "at" in spec:
                when = parse("at", str(spec["at"]))
            yield number, job_request(task, spec.get("args", []), spec.get("kwargs", {}), when=when,
                                      expires=expires, key=spec.get("key"), line=number, now=now), None
        except SchedcliError as exc:
            yield number, None, str(exc)
