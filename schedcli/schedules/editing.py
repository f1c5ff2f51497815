"""Adding, replacing, pausing, resuming, removing and running schedules, each checked before anything is stored.

Every bad input (an unknown task, a bad expression, a taken name without `replace`) fails before the
store or RabbitMQ is touched. Adding a schedule sends its first occurrences ahead at once, so it runs
even before any worker tops it up.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from schedcli.exceptions import BadInput, BrokerUnavailable
from schedcli.jobs.requests import JobRequest, check_payload
from schedcli.jobs.sending import Dispatcher
from schedcli.schedules.expressions import parse_recurrence
from schedcli.schedules.topup import HORIZON, TopUp, top_up
from schedcli.settings import Settings
from schedcli.store import Job, JobStore, Schedule

CATCH_UP_POLICIES = ("none", "last", "all")
OVERLAP_POLICIES = ("allow", "skip")
_NAME = re.compile(r"[\w.:@+-]{1,100}")


@dataclass
class Change:
    """What a change did: the schedule as stored, occurrences cancelled, and the top-up that followed (if any)."""

    schedule: Schedule
    cancelled: int = 0
    top_up: TopUp | None = None


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadInput(f"bad schedule name {name!r}: use 1 to 100 letters, digits and . _ - : @ +")
    return name


def add_schedule(settings: Settings, name: str, every: str, task: str, args: list, kwargs: dict, *,
                 queue: str | None = None, expires_after: float | None = None, catch_up: str = "last",
                 overlap: str = "allow", start: float | None = None, until: float | None = None,
                 key_prefix: str | None = None, replace: bool = False, now: float | None = None,
                 horizon: float = HORIZON) -> Change:
    """Store a schedule (or with `replace` change one) and send its first occurrences ahead."""
    now = time.time() if now is None else now
    check_name(name)
    recurrence = parse_recurrence(every, settings.timezone)
    if catch_up not in CATCH_UP_POLICIES or overlap not in OVERLAP_POLICIES:
        raise BadInput(f"--catch-up is one of {', '.join(CATCH_UP_POLICIES)}; --overlap one of "
                       f"{', '.join(OVERLAP_POLICIES)}")
    check_payload(args, kwargs)
    Dispatcher(settings, queue=queue).route(task)  # an unknown task fails here, before anything is stored
    if start is None:
        start_at = math.ceil(now) + (recurrence.seconds or 0)  # an interval runs first one interval from now
    else:
        start_at = math.ceil(start)
    until_at = None if until is None else math.floor(until)
    if until_at is not None and until_at <= start_at:
        raise BadInput("--until must come after the schedule starts")
    if key_prefix is not None and (not key_prefix or len(key_prefix) > 150):
        raise BadInput("--key-prefix must be 1 to 150 characters (the occurrence's time is added to it)")
    if expires_after is not None and expires_after <= 0:
        raise BadInput("--expires must be a delay longer than zero")
    schedule = Schedule(name=name, recurrence=recurrence.expression, timezone=recurrence.zone_name, task=task,
                        args=args, kwargs=kwargs, queue=queue, expires_after=expires_after, catch_up=catch_up,
                        overlap=overlap, start_at=start_at, until_at=until_at, app=settings.app, key_prefix=key_prefix)
    with JobStore.open(settings.database_url) as store:
        schedule, cancelled = store.schedules.add(schedule, replace, now)
        try:
            summary = top_up(settings, now=now, horizon=horizon, only=schedule)
        except BrokerUnavailable:
            if schedule.revision == 1:  # a new schedule RabbitMQ never saw: not stored either
                store.schedules.remove(name, now)
            raise
        return Change(store.schedules.get(name), cancelled, summary)


def pause_schedule(settings: Settings, name: str, now: float | None = None) -> Change:
    """Pause: no occurrence runs after this returns, those sent ahead included (they are cancelled)."""
    now = time.time() if now is None else now
    with JobStore.open(settings.database_url) as store:
        schedule, cancelled = store.schedules.pause(name, now)
    return Change(schedule, cancelled)


def resume_schedule(settings: Settings, name: str, now: float | None = None, horizon: float = HORIZON) -> Change:
    """Resume: send from the next occurrence on; what was missed while paused follows the catch-up policy."""
    now = time.time() if now is None else now
    with JobStore.open(settings.database_url) as store:
        schedule = store.schedules.resume(name, now)
    summary = top_up(settings, now=now, horizon=horizon, only=schedule)
    return Change(schedule, 0, summary)


def remove_schedule(settings: Settings, name: str, now: float | None = None) -> int:
    """Delete the schedule and cancel its occurrences sent ahead; how many were cancelled."""
    now = time.time() if now is None else now
    with JobStore.open(settings.database_url) as store:
        return store.schedules.remove(name, now)


def run_request(schedule: Schedule) -> JobRequest:
    """The job of one run of `schedule` now, outside its occurrences (it shows as the schedule's)."""
    return JobRequest(task=schedule.task, args=list(schedule.args), kwargs=dict(schedule.kwargs),
                      schedule=schedule.name)


def run_schedule_now(settings: Settings, name: str) -> Job:
    """Send one run of the schedule's task now, outside its occurrences (it shows as the schedule's)."""
    with JobStore.open(settings.database_url) as store:
        schedule = store.schedules.get(name)
    [result] = Dispatcher(settings, queue=schedule.queue).send([run_request(schedule)])
    if result.error:
        raise BrokerUnavailable(f"job not sent: {result.error}")
    return result.job


def next_runs(schedule: Schedule, now: float, count: int = 5) -> list[int]:
    """The schedule's next `count` occurrences after `now` (none when paused or past its --until)."""
    if schedule.paused:
        return []
    from schedcli.schedules.occurrences import occurrences_after

    recurrence = parse_recurrence(schedule.recurrence, schedule.timezone)
    found = []
    for occurrence in occurrences_after(recurrence, now, schedule.start_at):
        if schedule.until_at is not None and occurrence > schedule.until_at or len(found) >= count:
            break
        found.append(occurrence)
    return found


def describe(schedule: Schedule) -> str:
    return parse_recurrence(schedule.recurrence, schedule.timezone).described


def schedule_json(schedule: Schedule, now: float, last_run: Job | None = None, count: int = 5) -> dict:
    """A schedule as `schedule list --json` / `show --json` print it; times ISO 8601 in UTC."""
    from schedcli.store import iso

    return {
        "name": schedule.name, "recurrence": schedule.recurrence, "described": describe(schedule),
        "timezone": schedule.timezone, "task": schedule.task, "args": schedule.args, "kwargs": schedule.kwargs,
        "queue": schedule.queue, "expires_after": schedule.expires_after, "catch_up": schedule.catch_up,
        "overlap": schedule.overlap, "app": schedule.app, "key_prefix": schedule.key_prefix,
        "start": iso(schedule.start_at), "until": iso(schedule.until_at),
        "paused": schedule.paused, "next": [iso(epoch) for epoch in next_runs(schedule, now, count)],
        "last_run": None if last_run is None else {
            "id": last_run.id, "state": last_run.state, "occurrence": iso(last_run.occurrence),
            "started_at": iso(last_run.started_at)},
    }
