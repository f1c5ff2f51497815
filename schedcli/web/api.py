"""The JSON API under /api: jobs, reports, articles, time expressions, workers, health.

Every route reads what it is given with the CLI's own readers (`job_request`, `parse_when`,
`parse_period`) and answers with the CLI's JSON (`status --json`, `list --json`, `when --json`);
an expected failure is `{"error": <the CLI's message>, "code": <its exit code>}` (see `errors`).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from schedcli.exceptions import BadInput
from schedcli.jobs.reading import WATCH_INTERVAL, JobReader, JobView
from schedcli.jobs.requests import job_request, loads
from schedcli.store import FINAL_STATES, PENDING_STATES, STATES, JobStore
from schedcli.timeparse import parse_period, parse_when
from schedcli.timetext import resolve_zone

router = APIRouter(prefix="/api")

JOB_FIELDS = frozenset({"task", "args", "kwargs", "in", "at", "key", "queue", "expires", "tz"})
REPORT_FIELDS = frozenset({"period", "format", "in", "at", "key", "tz"})
TIME_FIELDS = frozenset({"in", "at", "tz"})
PUBLISH_FIELDS = frozenset({"in", "at", "key", "tz"})
REPORT_FORMATS = ("html", "csv", "both")
LIST_LIMIT = 1000
SSE_KEEPALIVE = 15.0  # seconds between comments on a quiet event stream, so proxies keep it open


def json_response(data, status: int = 200) -> Response:
    """JSON as the CLI prints it (values the store holds that JSON lacks, shown as text)."""
    return Response(json.dumps(data, default=str, ensure_ascii=False), status_code=status,
                    media_type="application/json")


def context(request: Request):
    return request.app.state.context


async def read_object(request: Request, fields: frozenset, required: bool = True) -> dict:
    """The request body as a JSON object holding only `fields`; BadInput otherwise (an empty body is {} when
    not `required`)."""
    raw = await request.body()
    if not raw.strip() and not required:
        return {}
    try:
        body = loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"the request body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise BadInput('the request body must be a JSON object, e.g. {"task": "schedcli.tasks.echo", "in": "1h"}')
    unknown = set(body) - fields
    if unknown:
        raise BadInput(f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(fields))}")
    return body


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f'"{name}" must be a string, got {type(value).__name__}')
    return value


def zone_of(body: dict, settings) -> str:
    """The zone to read times in: the body's "tz", else the server's setting (like --tz)."""
    zone = _text(body, "tz") or settings.timezone
    resolve_zone(zone)  # an unknown zone fails here, with the CLI's message
    return zone


def when_of(body: dict, zone: str, now: float):
    """A `When` from "in" (relative only, like --in) or "at" (like --at); None when neither is given."""
    delay, moment = _text(body, "in"), _text(body, "at")
    if delay is not None and moment is not None:
        raise BadInput('give either "in" or "at", not both')
    now_dt = datetime.fromtimestamp(now, timezone.utc)
    if delay is not None:
        return parse_when(delay, now_dt, zone, relative_only=True)
    if moment is not None:
        return parse_when(moment, now_dt, zone)
    return None


async def send_job(request: Request, job_request_, queue: str | None = None, on_sent=None) -> Response:
    """Send one request through the shared publisher: 201 with the job, or 200 with the one holding its key."""
    result = await context(request).publisher.submit(job_request_, queue)
    if on_sent is not None and not result.existing:
        await run_in_threadpool(on_sent, result.job)
    return json_response(JobView(result.job).to_json(), 200 if result.existing else 201)


# -- sending ------------------------------------------------------------------------------------


@router.post("/jobs", status_code=201)
async def post_job(request: Request):
    """Send a task now or later: {"task", "args", "kwargs", "in" | "at", "key", "queue", "expires", "tz"}."""
    ctx = context(request)
    body = await read_object(request, JOB_FIELDS)
    task = body.get("task")
    if not isinstance(task, str) or not task:
        raise BadInput('"task" is required: the name of a task of the app, e.g. "schedcli.tasks.echo"')
    queue = _text(body, "queue")
    zone = zone_of(body, ctx.settings)
    now = time.time()
    when = when_of(body, zone, now)
    expires = None
    if _text(body, "expires") is not None:
        expires = parse_when(body["expires"], datetime.fromtimestamp(now, timezone.utc), zone)
    job = job_request(task, body.get("args", []), body.get("kwargs", {}), when=when, expires=expires,
                      key=body.get("key"), now=now)
    ctx.publisher.check_task(task, queue)
    return await send_job(request, job, queue)


@router.post("/reports", status_code=201)
async def post_report(request: Request):
    """Queue the jobs report: {"period": "7d", "format": "both" | "html" | "csv", "in" | "at", "key", "tz"}."""
    from schedcli.report import check_reports_folder

    ctx = context(request)
    body = await read_object(request, REPORT_FIELDS, required=False)
    period = _text(body, "period") or "7d"
    parse_period(period)
    output_format = _text(body, "format") or "both"
    if output_format not in REPORT_FORMATS:
        raise BadInput(f"unknown format {output_format!r}; choose one of {', '.join(REPORT_FORMATS)}")
    check_reports_folder(Path(ctx.settings.reports_dir))
    now = time.time()
    when = when_of(body, zone_of(body, ctx.settings), now)
    job = job_request("schedcli.tasks.generate_report", [period, output_format], {}, when=when,
                      key=body.get("key"), now=now)
    return await send_job(request, job)


@router.get("/articles")
def get_articles(request: Request):
    """The articles, as `article list --json` prints them."""
    with JobStore.open(context(request).settings.database_url) as store:
        return json_response([article.to_json() for article in store.articles.list()])


@router.post("/articles", status_code=201)
async def post_article(request: Request):
    """Add a draft article: {"title", "body"}; 201 with the article."""
    body = await read_object(request, frozenset({"title", "body"}))
    title = (_text(body, "title") or "").strip()
    if not title:
        raise BadInput("an article needs a title")
    text = _text(body, "body")

    def add():
        with JobStore.open(context(request).settings.database_url) as store:
            return store.articles.get(store.articles.add(title, text, time.time())).to_json()

    return json_response(await run_in_threadpool(add), 201)


@router.post("/articles/{article_id}/publish", status_code=201)
async def publish_article(request: Request, article_id: int):
    """Publish an article now or later: {"in" | "at", "key", "tz"}; 201 with its publish job."""
    from schedcli.articles import publish_request

    ctx = context(request)
    body = await read_object(request, PUBLISH_FIELDS, required=False)
    now = time.time()
    when = when_of(body, zone_of(body, ctx.settings), now)
    database_url = ctx.settings.database_url

    def build():
        with JobStore.open(database_url) as store:
            return publish_request(store, article_id, when=when, key=body.get("key"))

    def link(job):
        with JobStore.open(database_url) as store:
            store.articles.set_publish_job(article_id, job.id)

    return await send_job(request, await run_in_threadpool(build), on_sent=link)


# -- reading ------------------------------------------------------------------------------------


@router.get("/jobs")
def get_jobs(request: Request, state: list[str] = Query(default=[]), task: str | None = None,
             since: str | None = None, scheduled: bool = False, limit: int = 50):
    """Jobs as `list --json` gives them: waiting ones first (soonest due first), then the rest, newest first."""
    states = [part.strip().upper() for value in state for part in value.split(",") if part.strip()]
    for name in states:
        if name not in STATES:
            raise BadInput(f"unknown state {name!r}; valid states: {', '.join(STATES)}")
    if scheduled and any(name not in PENDING_STATES for name in states):
        raise BadInput(f"with scheduled=true, state can only be {', '.join(PENDING_STATES)}")
    if not 1 <= limit <= LIST_LIMIT:
        raise BadInput(f"limit must be between 1 and {LIST_LIMIT}")
    since_at = time.time() - parse_period(since) if since else None
    wanted = states or (PENDING_STATES if scheduled else STATES)
    waiting = [name for name in wanted if name in PENDING_STATES]
    others = [name for name in wanted if name not in PENDING_STATES]
    with JobStore.open(context(request).settings.database_url) as store:
        jobs = store.list_jobs(waiting, task=task, since=since_at, scheduled_only=True, limit=limit) if waiting else []
        if others and len(jobs) < limit:
            jobs += store.list_jobs(others, task=task, since=since_at, limit=limit - len(jobs))
    return json_response([job.to_json() for job in jobs])


def read_job(settings, job_id: str) -> JobView:
    with JobStore.open(settings.database_url) as store:
        return JobReader(settings, store).read(job_id)


@router.get("/jobs/{job_id}")
def get_job(request: Request, job_id: str):
    """One job as `status --json` prints it; a unique prefix of 8 or more characters will do."""
    return json_response(read_job(context(request).settings, job_id).to_json())


@router.get("/jobs/{job_id}/events")
async def job_events(request: Request, job_id: str):
    """Server-Sent Events: a `job` event (the job as `status --json`) each time it changes, `end` once it ended."""
    ctx = context(request)
    settings = ctx.settings
    first = await run_in_threadpool(read_job, settings, job_id)  # an unknown id is a 404, not an empty stream

    async def events():
        view, last, quiet_since = first, None, time.monotonic()
        while True:
            payload = view.to_json()
            if payload != last:
                yield f"event: job\ndata: {json.dumps(payload, default=str, ensure_ascii=False)}\n\n"
                last, quiet_since = payload, time.monotonic()
            elif time.monotonic() - quiet_since > SSE_KEEPALIVE:
                yield ": still waiting\n\n"
                quiet_since = time.monotonic()
            if view.job.state in FINAL_STATES:
                yield f"event: end\ndata: {json.dumps({'state': view.job.state})}\n\n"
                return
            # On shutdown the stream ends, or the server would wait for the job; EventSource reconnects.
            if ctx.stopping() or await request.is_disconnected():
                return
            await asyncio.sleep(WATCH_INTERVAL)
            view = await run_in_threadpool(read_job, settings, view.job.id)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# -- steering -----------------------------------------------------------------------------------

OUTCOME_STATUS = {1: 409, 2: 400, 3: 404}


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(request: Request, job_id: str):
    """Cancel a waiting job so it never runs; {"terminate": true} also stops a running one."""
    from schedcli.jobs.cancelling import Canceller

    ctx = context(request)
    body = await read_object(request, frozenset({"terminate"}), required=False)
    terminate = body.get("terminate", False)
    if not isinstance(terminate, bool):
        raise BadInput('"terminate" must be true or false')

    def cancel():
        with JobStore.open(ctx.settings.database_url) as store:
            return Canceller(ctx.settings, store, terminate=terminate).cancel(job_id)

    outcome = await run_in_threadpool(cancel)
    if not outcome.cancelled:
        reason = f"job {outcome.id} not cancelled: {outcome.reason}" if outcome.job is not None else outcome.reason
        return json_response({"error": reason, "code": outcome.exit_code, "state": outcome.state},
                             OUTCOME_STATUS.get(outcome.exit_code, 409))
    return json_response({**outcome.to_json(), "job": JobView(outcome.job).to_json() if outcome.job else None})


@router.post("/jobs/{job_id}/reschedule")
async def reschedule_job(request: Request, job_id: str):
    """Move a waiting job to another time: {"in" | "at", "tz"}; the new job, as `reschedule --json` prints it."""
    from schedcli.jobs.rescheduling import reschedule

    ctx = context(request)
    body = await read_object(request, TIME_FIELDS)
    now = time.time()
    when = when_of(body, zone_of(body, ctx.settings), now)
    if when is None:
        raise BadInput('give the new time as "in" or "at"')

    def move():
        with JobStore.open(ctx.settings.database_url) as store:
            return reschedule(ctx.settings, store, job_id, when, now=now)

    _, new = await run_in_threadpool(move)
    return json_response(JobView(new).to_json())


# -- time, workers, health ----------------------------------------------------------------------


@router.get("/when")
def get_when(request: Request, expr: str, tz: str | None = None, now: str | None = None):
    """What a time expression means, as `when --json` prints it: {"expression", "countdown", "eta", "timezone"}."""
    zone = resolve_zone(tz or context(request).settings.timezone)
    if now is None:
        moment = datetime.now(timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(now.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise BadInput(f"now {now!r} is not ISO 8601; try 2026-11-25T10:00:00 or 2026-11-25T10:00:00+01:00") \
                from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
    when = parse_when(expr, moment, zone)
    return json_response({"expression": expr, "countdown": when.countdown, "eta": when.eta.isoformat(),
                          "timezone": when.zone_name})


@router.get("/workers")
def get_workers(request: Request, timeout: float = 1.0):
    """The workers that answer, as `worker status --json` prints them."""
    from schedcli.worker.inspection import answering_workers

    if not 0 < timeout <= 10:
        raise BadInput("timeout must be more than 0 and at most 10 seconds")
    return json_response(answering_workers(context(request).celery_app(), timeout))


@router.get("/health")
def get_health(request: Request):
    """200 when RabbitMQ and the job store both answer, else 503; each check as `doctor --json` shows it."""
    from schedcli.doctor import connect, database_check

    settings = context(request).settings
    probe, broker = connect(settings)
    if probe is not None:
        probe.close()
    checks = [broker, database_check(settings.database_url)]
    healthy = all(check.level != "error" for check in checks)
    return json_response({"ok": healthy, "checks": [check.to_json() for check in checks]}, 200 if healthy else 503)


# -- schedules ----------------------------------------------------------------------------------

SCHEDULE_FIELDS = frozenset({"name", "every", "task", "args", "kwargs", "queue", "key_prefix", "expires", "catch_up",
                             "overlap", "start", "until", "replace", "tz"})


def schedule_view(store, schedule, now: float, count: int = 1) -> dict:
    """A schedule as `schedule list --json` prints it (`count` next runs; `show --json` gives 5)."""
    from schedcli.schedules.editing import schedule_json

    return schedule_json(schedule, now, store.schedules.last_run(schedule.name), count=count)


def viewed(settings, schedule, count: int = 1) -> dict:
    """`schedule_view` of a schedule just changed, read in a store opened for it (call it off the event loop)."""
    with JobStore.open(settings.database_url) as store:
        return schedule_view(store, schedule, time.time(), count)


@router.get("/schedules")
def get_schedules(request: Request):
    """The schedules, as `schedule list --json` prints them: next run, last run and its state, paused."""
    now = time.time()
    with JobStore.open(context(request).settings.database_url) as store:
        return json_response([schedule_view(store, schedule, now) for schedule in store.schedules.all()])


@router.get("/schedules/{name}")
def get_schedule(request: Request, name: str, count: int = 5):
    """One schedule as `schedule show --json` prints it: its next `count` runs, "sent_ahead" and "recent_runs"."""
    if not 1 <= count <= 1000:
        raise BadInput("count must be between 1 and 1000")
    now = time.time()
    with JobStore.open(context(request).settings.database_url) as store:
        row = schedule_view(store, store.schedules.get(name), now, count)
        row.update(sent_ahead=[job.to_json() for job in store.schedules.waiting(name)],
                   recent_runs=[job.to_json() for job in store.schedules.recent_runs(name)])
    return json_response(row)


@router.post("/schedules", status_code=201)
async def post_schedule(request: Request):
    """Add a schedule as `schedule add --json` does: {"name", "every", "task", "args", "kwargs", "queue", "key_prefix",
    "expires", "catch_up", "overlap", "start", "until", "replace", "tz"}; 201 with it (200 when it replaced one)."""
    from dataclasses import replace as with_values

    from schedcli.schedules.editing import add_schedule
    from schedcli.schedules.expressions import looks_recurring

    ctx = context(request)
    body = await read_object(request, SCHEDULE_FIELDS)
    name, task, every = _text(body, "name"), _text(body, "task"), (_text(body, "every") or "").strip()
    if not name:
        raise BadInput('"name" is required: the schedule\'s name, e.g. "weekly-report"')
    if not task:
        raise BadInput('"task" is required: the name of a task of the app, e.g. "schedcli.tasks.echo"')
    if not every:
        raise BadInput('"every" is required: when it runs, e.g. "monday 9am", "15m" or "0 9 * * 1-5"')
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise BadInput('"replace" must be true or false')
    zone = zone_of(body, ctx.settings)
    now = time.time()
    now_dt = datetime.fromtimestamp(now, timezone.utc)
    moments = {field: parse_when(_text(body, field), now_dt, zone).eta.timestamp()
               for field in ("start", "until") if _text(body, field) is not None}
    expires = _text(body, "expires")
    expires_after = None if expires is None else parse_when(expires, now_dt, zone, relative_only=True).countdown
    settings = with_values(ctx.settings, timezone=zone)  # an expression without a zone is read in this one

    def add():
        change = add_schedule(settings, name, every if looks_recurring(every) else f"every {every}", task,
                            body.get("args", []), body.get("kwargs", {}), queue=_text(body, "queue"),
                            expires_after=expires_after, catch_up=_text(body, "catch_up") or "last",
                            overlap=_text(body, "overlap") or "allow", start=moments.get("start"),
                            until=moments.get("until"), key_prefix=_text(body, "key_prefix"), replace=replace,
                            now=now)
        return change.schedule.revision, viewed(ctx.settings, change.schedule, count=5)

    revision, row = await run_in_threadpool(add)
    return json_response(row, 200 if revision > 1 else 201)


@router.delete("/schedules/{name}")
async def delete_schedule(request: Request, name: str):
    """Remove a schedule and cancel what it sent ahead (as `schedule remove`); its past runs keep its name."""
    from schedcli.schedules.editing import remove_schedule

    cancelled = await run_in_threadpool(remove_schedule, context(request).settings, name)
    return json_response({"name": name, "removed": True, "cancelled": cancelled})


@router.post("/schedules/{name}/pause")
async def pause_schedule(request: Request, name: str):
    """Pause a schedule (as `schedule pause`): no run starts after this answers; the schedule, with "cancelled"."""
    from schedcli.schedules.editing import pause_schedule as pause

    settings = context(request).settings

    def change():
        done = pause(settings, name)
        return {**viewed(settings, done.schedule), "cancelled": done.cancelled}

    return json_response(await run_in_threadpool(change))


@router.post("/schedules/{name}/resume")
async def resume_schedule(request: Request, name: str):
    """Resume a schedule from its next run (as `schedule resume`); the schedule, with "sent" (occurrences sent)."""
    from schedcli.schedules.editing import resume_schedule as resume

    settings = context(request).settings

    def change():
        done = resume(settings, name)
        return {**viewed(settings, done.schedule), "sent": done.top_up.sent if done.top_up else 0}

    return json_response(await run_in_threadpool(change))


@router.post("/schedules/{name}/run", status_code=201)
async def run_schedule(request: Request, name: str):
    """Run a schedule's task once now, besides its occurrences (as `schedule run`); 201 with the job."""
    from schedcli.schedules.editing import run_request

    ctx = context(request)

    def read():
        with JobStore.open(ctx.settings.database_url) as store:
            return store.schedules.get(name)

    schedule = await run_in_threadpool(read)
    ctx.publisher.check_task(schedule.task, schedule.queue)
    return await send_job(request, run_request(schedule), schedule.queue)
