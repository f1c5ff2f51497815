"""Topping up: keep each active schedule's next occurrences sent ahead, as ordinary delayed jobs.

Every `schedcli worker start` does it on a timer of its own (a thread started by a worker bootstep),
and `schedcli schedule tick` does it once by hand. There is no leader: each occurrence is recorded
with its (schedule, occurrence), which the store's unique index admits once, so any number of
senders may top up at the same moment and each occurrence is still sent once (a sender whose insert
did nothing publishes nothing). Whoever records an occurrence publishes it; it then waits in
RabbitMQ, not in any process.

A schedule is topped up when what it sent ahead ends within the horizon: every occurrence after its
cursor up to `now + horizon` is sent, and the first one after that too, so the next run is always
in RabbitMQ already. Occurrences before `now` that nobody sent (every worker was down for longer
than the horizon, or the schedule was paused) are handled by its catch-up policy: `none` skips them,
`last` runs the most recent one once, now, and `all` runs each (at most MAX_CATCH_UP), now.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

from schedcli.exceptions import BrokerUnavailable, DatabaseError, SchedcliError
from schedcli.jobs.requests import JobRequest
from schedcli.jobs.sending import SCHEDULE_CHANGED, Dispatcher
from schedcli.schedules.expressions import parse_recurrence
from schedcli.schedules.occurrences import occurrences_after, occurrences_before
from schedcli.settings import Settings
from schedcli.store import JobStore, Schedule, iso
from schedcli.store.schedules import FINISHED

HORIZON = 600.0  # seconds sent ahead beyond now (and always the next occurrence)
TOP_UP_EVERY = 30.0  # seconds between a worker's top-ups; must stay below the horizon
MAX_CATCH_UP = 100  # `--catch-up all` runs at most this many missed occurrences, the latest ones
MAX_STEPS = 100_000  # missed occurrences of a cron line counted one by one (a minutely one down for 70 days)
PAGE = 500  # schedules read and sent at a time: a worker's memory does not grow with their number

logger = logging.getLogger(__name__)


@dataclass
class TopUp:
    """What one top-up did."""

    schedules: int = 0
    sent: int = 0
    already_sent: int = 0  # another sender had recorded these occurrences: not sent again
    caught_up: int = 0  # missed occurrences run now (catch-up last/all)
    missed_skipped: int = 0  # missed occurrences not run (catch-up none, or older than `last`)
    problems: list[str] = field(default_factory=list)


def plan(schedule: Schedule, now: float, horizon: float) -> tuple[list[JobRequest], int, int]:
    """The jobs to send for `schedule` at `now`, the cursor to move it to, and how many missed ones are skipped."""
    recurrence = parse_recurrence(schedule.recurrence, schedule.timezone)
    cursor = schedule.sent_until if schedule.sent_until is not None else schedule.start_at - 1
    keep = {"all": MAX_CATCH_UP, "last": 1}.get(schedule.catch_up, 0)
    missed, missed_count = _missed(recurrence, schedule, cursor, now, keep)
    requests = [_request(schedule, occurrence, None, now) for occurrence in missed]
    new_cursor = max([cursor, *missed]) if missed_count else cursor
    if missed_count and not missed:  # catch-up none: move past what was missed all the same
        new_cursor = max(cursor, math.ceil(now) - 1)
    for occurrence in occurrences_after(recurrence, max(cursor, math.ceil(now) - 1), schedule.start_at):
        if schedule.until_at is not None and occurrence > schedule.until_at:
            new_cursor = FINISHED
            break
        requests.append(_request(schedule, occurrence, float(occurrence), now))
        new_cursor = occurrence
        if occurrence > now + horizon:
            break
    return requests, new_cursor, missed_count - len(missed)


def _missed(recurrence, schedule: Schedule, cursor: float, now: float, keep: int) -> tuple[list[int], int]:
    """The latest `keep` occurrences after `cursor` and before `now` that nobody sent, oldest first, and how
    many there were (at least; a long outage of a cron line is not walked to its start)."""
    limit = now if schedule.until_at is None else min(now, schedule.until_at + 1)
    latest: list[int] = []
    for occurrence in occurrences_before(recurrence, limit, schedule.start_at):
        if occurrence <= cursor or len(latest) >= max(keep, 1):
            break
        latest.append(occurrence)
    if not latest:
        return [], 0
    if recurrence.seconds is not None:  # counted, not walked
        first = next(occurrences_after(recurrence, cursor, schedule.start_at))
        count = (latest[0] - first) // recurrence.seconds + 1
    else:
        count = len(latest)
        for occurrence in occurrences_after(recurrence, cursor, schedule.start_at):
            if occurrence >= latest[-1] or count >= MAX_STEPS:
                break
            count += 1
    return latest[::-1][-keep:] if keep else [], count


def _request(schedule: Schedule, occurrence: int, eta: float | None, now: float) -> JobRequest:
    """One occurrence as a job: due at `eta` (None: a catch-up, now); `--expires` counts from when it is due."""
    expires = None
    if schedule.expires_after is not None:
        expires = (now if eta is None else eta) + schedule.expires_after
    key = None if schedule.key_prefix is None else f"{schedule.key_prefix}{iso(occurrence)}"
    return JobRequest(task=schedule.task, args=list(schedule.args), kwargs=dict(schedule.kwargs), eta=eta,
                      expires=expires, key=key, schedule=schedule.name, occurrence=occurrence,
                      schedule_revision=schedule.revision)


def top_up(settings: Settings, *, now: float | None = None, horizon: float = HORIZON,
           only: Schedule | None = None) -> TopUp:
    """Send the occurrences due within `horizon` of every active schedule of the settings' app (or of `only`).

    A worker tops up only the schedules of its own app: their tasks are the ones it can route.

    Raises BrokerUnavailable when RabbitMQ cannot be reached (nothing is recorded then).
    """
    summary = TopUp()
    with JobStore.open(settings.database_url) as store:
        after = ""
        while True:
            now_page = time.time() if now is None else now
            if only is not None:
                page = [only]
            else:
                page = store.schedules.due(settings.app, now_page + horizon, after, PAGE)
            if not page:
                break
            _top_up_page(settings, store, page, now_page, horizon, summary)
            if only is not None or len(page) < PAGE:
                break
            after = page[-1].name
    return summary


def _top_up_page(settings: Settings, store: JobStore, page: list[Schedule], now: float, horizon: float,
                 summary: TopUp) -> None:
    by_queue: dict[str | None, list[tuple[Schedule, list[JobRequest], int]]] = {}
    dispatchers: dict[str | None, Dispatcher] = {}
    for schedule in page:
        summary.schedules += 1
        dispatcher = dispatchers.get(schedule.queue) or dispatchers.setdefault(
            schedule.queue, Dispatcher(settings, queue=schedule.queue))
        try:
            dispatcher.route(schedule.task)  # a task this app lacks fails its schedule only
            requests, cursor, skipped = plan(schedule, now, horizon)
        except SchedcliError as exc:
            summary.problems.append(f"schedule {schedule.name}: {exc}")
            continue
        summary.missed_skipped += skipped
        summary.caught_up += sum(request.eta is None for request in requests)
        by_queue.setdefault(schedule.queue, []).append((schedule, requests, cursor))
    cursors = []
    for queue, planned in by_queue.items():
        requests = [request for _, schedule_requests, _ in planned for request in schedule_requests]
        results = dispatchers[queue].send(requests) if requests else []
        failed = set()
        for result in results:
            if result.error:
                failed.add(result.request.schedule)
                if result.error != SCHEDULE_CHANGED:  # a pause or change is no problem, just a race lost
                    summary.problems.append(f"schedule {result.request.schedule}: {result.error}")
            elif result.existing:
                summary.already_sent += 1
            else:
                summary.sent += 1
        cursors += [(schedule.name, schedule.revision, cursor) for schedule, _, cursor in planned
                    if schedule.name not in failed and cursor is not None]
    store.schedules.advance(cursors)


# -- in the worker ------------------------------------------------------------------------------

def install_top_up(celery_app, settings: Settings, every: float = TOP_UP_EVERY, horizon: float = HORIZON) -> None:
    """Make `celery_app`'s worker top up every `every` seconds, on a thread of its own, while it runs."""
    from celery import bootsteps

    if every >= horizon:
        raise ValueError("the top-up interval must be shorter than the horizon")

    class ScheduleTopUp(bootsteps.StartStopStep):
        """Tops up the schedules on a thread beside the worker's loop, so sending never delays a job."""

        requires = ("celery.worker.components:Pool",)

        def __init__(self, worker, **kwargs):
            super().__init__(worker, **kwargs)
            self.stopping = threading.Event()
            self.thread = None

        def start(self, worker):
            self.thread = threading.Thread(target=self.run, name="schedcli-top-up", daemon=True)
            self.thread.start()

        def stop(self, worker):
            self.stopping.set()
            if self.thread is not None:
                self.thread.join(10)

        def run(self):
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    summary = top_up(settings, horizon=horizon)
                except (BrokerUnavailable, DatabaseError) as exc:
                    logger.warning("Schedules not topped up: %s", exc)
                except Exception:  # never let a bad schedule stop the worker's top-ups
                    logger.exception("Schedules not topped up")
                else:
                    for problem in summary.problems:
                        logger.warning("Schedule top-up: %s", problem)
                    if summary.sent or summary.caught_up:
                        logger.info("Schedules topped up: %d occurrence(s) sent (%d caught up), %d already sent",
                                    summary.sent, summary.caught_up, summary.already_sent)
                self.stopping.wait(max(0.0, every - (time.monotonic() - started)))

    celery_app.steps["worker"].add(ScheduleTopUp)
