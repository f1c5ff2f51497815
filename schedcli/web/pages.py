"""The dashboard: server-rendered pages over the same core as the API, with a little plain JavaScript.

Every piece of job data reaches the page through Jinja's autoescaping, after `visible` made terminal
control characters readable, so arguments, results and tracebacks holding `<script>`, HTML or
escapes show as text. The pages also forbid inline scripts (Content-Security-Policy), so markup
that got through would still not run. State changes go through the API with the page's CSRF token.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schedcli.exceptions import BadInput, UnknownJob
from schedcli.store import FINAL_STATES, PENDING_STATES, STATES, JobStore
from schedcli.timeparse import parse_period
from schedcli.timetext import format_delay, resolve_zone
from schedcli.web.security import SESSION_COOKIE

HERE = Path(__file__).parent
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A report is our own self-contained HTML page; it is still shown sandboxed: no scripts, no forms.
REPORT_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
REPORT_NAME = re.compile(r"[A-Za-z0-9._-]+\.(html|csv)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

NEXT_RUNS = 3  # next runs shown per schedule on its page
router = APIRouter(include_in_schema=False)


def visible(value) -> str:
    """Text with control characters written out (ESC as `\\x1b`); any other value as JSON first."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), value)


def shorten(value, width: int = 60) -> str:
    text = visible(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))
    return text if len(text) <= width else text[:width - 1] + "…"


templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                        trim_blocks=True, lstrip_blocks=True)
templates.filters["visible"] = visible
templates.filters["shorten"] = shorten


def render(request: Request, name: str, status: int = 200, **values) -> HTMLResponse:
    context = request.app.state.context
    zone = resolve_zone(context.settings.timezone)

    def local(epoch):
        if epoch is None:
            return ""
        return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    html = templates.get_template(name).render(
        csrf=context.access.csrf, login=context.access.token is not None, local=local, now=time.time(),
        zone=context.settings.timezone, format_delay=format_delay, states=STATES, **values)
    return HTMLResponse(html, status, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store",
                                               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def report_files(reports_dir: str) -> list[dict]:
    folder = Path(reports_dir)
    if not folder.is_dir():
        return []
    files = [path for path in folder.iterdir() if path.is_file() and REPORT_NAME.fullmatch(path.name)]
    files.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    return [{"name": path.name, "modified": path.stat().st_mtime, "html": path.suffix == ".html"} for path in files[:20]]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, state: str | None = None, task: str | None = None, since: str | None = None):
    """Scheduled jobs soonest first, recent jobs (filtered), failed ones, workers, reports."""
    settings = request.app.state.context.settings
    state = (state or "").strip().upper() or None
    task = (task or "").strip() or None
    since = (since or "").strip() or None
    problem = None
    if state is not None and state not in STATES:
        problem, state = f"unknown state {state!r}; valid states: {', '.join(STATES)}", None
    since_at = None
    if since is not None:
        try:
            since_at = time.time() - parse_period(since)
        except BadInput as exc:
            problem, since = str(exc), None
    with JobStore.open(settings.database_url) as store:
        scheduled = store.list_jobs(list(PENDING_STATES), scheduled_only=True, limit=100)
        recent = store.list_jobs([state] if state else None, task=task, since=since_at, limit=50)
        failed = store.list_jobs(["FAILURE"], limit=20)
    return render(request, "index.html", scheduled=scheduled, recent=recent, failed=failed,
                  reports=report_files(settings.reports_dir), filters={"state": state, "task": task, "since": since},
                  problem=problem)


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request):
    """Every schedule with its next runs (countdowns), last run, the runs sent ahead, and pause/resume/run."""
    from schedcli.schedules.editing import describe, next_runs

    now = time.time()
    with JobStore.open(request.app.state.context.settings.database_url) as store:
        rows = [{"schedule": schedule, "described": describe(schedule), "next": next_runs(schedule, now, NEXT_RUNS),
                 "last_run": store.schedules.last_run(schedule.name),
                 "sent_ahead": len(store.schedules.waiting(schedule.name, limit=1000))}
                for schedule in store.schedules.all()]
    return render(request, "schedules.html", schedules=rows)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str):
    """One job: arguments, state, live progress, result or traceback, and what can be done with it."""
    from schedcli.web.api import read_job

    try:
        view = read_job(request.app.state.context.settings, job_id)
    except (BadInput, UnknownJob) as exc:
        return render(request, "missing.html", 404 if isinstance(exc, UnknownJob) else 400, message=str(exc))
    job = view.job
    return render(request, "job.html", job=job, note=view.note, final=job.state in FINAL_STATES,
                  waiting=job.state in PENDING_STATES)


@router.get("/reports/{name}")
def report_file(request: Request, name: str):
    """A file the report job wrote, shown in place (sandboxed) or downloaded (CSV)."""
    if not REPORT_NAME.fullmatch(name):
        return Response("no such report", 404, media_type="text/plain")
    path = Path(request.app.state.context.settings.reports_dir) / name
    if not path.is_file():
        return Response("no such report", 404, media_type="text/plain")
    media_type = "text/html; charset=utf-8" if name.endswith(".html") else "text/csv; charset=utf-8"
    return FileResponse(path, media_type=media_type, headers={
        "Content-Security-Policy": REPORT_POLICY, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    if request.app.state.context.access.token is None:
        return RedirectResponse("/", 303)
    return render(request, "login.html", next=_local_path(next), wrong=False)


@router.post("/login")
async def login(request: Request):
    """Check the token from the form in constant time; set the session cookie (HttpOnly, SameSite=Strict)."""
    access = request.app.state.context.access
    if access.token is None:
        return RedirectResponse("/", 303)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    given = (form.get("token") or [""])[0]
    target = _local_path((form.get("next") or ["/"])[0])
    if not access.token_matches(given):
        return render(request, "login.html", 401, next=target, wrong=True)
    response = RedirectResponse(target, 303)
    response.set_cookie(SESSION_COOKIE, access.session, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


def _local_path(target: str) -> str:
    """Only a path on this server: never `//elsewhere` or `https://elsewhere` (an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def swagger_ui_folder() -> Path | None:
    """Where the swagger-ui-bundle-v2 package keeps Swagger UI's files; None when it is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    folder = Path(str(swagger_ui_path))
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    """The OpenAPI page (Swagger UI), from files this server serves itself: no CDN, and no inline script."""
    return render(request, "docs.html", swagger=swagger_ui_folder() is not None)


@router.get("/static/swagger-ui/{name}")
def swagger_ui_file(name: str):
    files = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"}
    folder = swagger_ui_folder()
    if name not in files or folder is None:
        return Response("not found", 404, media_type="text/plain")
    return FileResponse(folder / name, media_type=files[name], headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/{name}")
def static_file(name: str):
    files = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8",
             "docs.js": "text/javascript; charset=utf-8"}
    if name not in files:
        return Response("not found", 404, media_type="text/plain")
    return FileResponse(HERE / "static" / name, media_type=files[name], headers={"Cache-Control": "no-cache"})


