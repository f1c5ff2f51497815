"""The heavy report over schedcli's own data: what ran, how late it started, what failed, what was published.

`build_report` streams the job rows of a period once (the store reads them with `fetchmany`) and keeps
only tallies and one float per started job, so a million rows fit in a few tens of megabytes. It writes
`<job id>.csv` and `<job id>.html` into the reports folder, each atomically, and returns the headline
numbers. Pure: no Click, Rich nor Celery; progress goes to the `progress(current, total, step)` callback
the caller passes (the `generate_report` task feeds it to the job's PROGRESS state).
"""

from __future__ import annotations

import bisect
import csv
import html
import io
import math
import os
import re
import tempfile
from array import array
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from schedcli.exceptions import BadInput, ReportsFolderError
from schedcli.store import STATES, iso
from schedcli.timeparse import PERIOD_MAX
from schedcli.timetext import format_seconds

Progress = Callable[[int, int, str], None]

FORMATS = ("csv", "html")
FORMAT_CHOICES = {"csv": {"csv"}, "html": {"html"}, "both": {"csv", "html"}}
TOP_FAILURES = 20
EXAMPLE_MESSAGE_CHARS = 300
PROGRESS_STEPS = 20  # one report every ~5% of the rows
CHART_MAX_BARS = 336  # two weeks of hours; longer periods draw several hours per bar
# Start-lateness histogram buckets: upper bounds in seconds, and their labels.
LATENESS_BUCKETS = ((0.0, "early"), (0.01, "< 10 ms"), (0.1, "10-100 ms"), (1.0, "0.1-1 s"),
                    (10.0, "1-10 s"), (60.0, "10 s-1 min"), (600.0, "1-10 min"), (math.inf, "10 min or more"))

_SAFE_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")

# A job belongs to the period when it was created or finished in it. Through the indexes SQLite reads
# the table in index order, a page at random per row: past ~5% of the table one sequential scan wins
# (1M rows, all in the period: 10 s through the indexes, 2.4 s scanning; 6%: even; 1%: 0.1 s vs 0.3 s).
# `+column` keeps an index out of the plan, in SQLite and PostgreSQL alike.


def parse_formats(text: str) -> set[str]:
    """`csv`, `html` or `both` -> the set of formats to write; anything else is `BadInput`."""
    try:
        return set(FORMAT_CHOICES[text])
    except (KeyError, TypeError):
        raise BadInput(f"bad report format {text!r}: use csv, html or both") from None


def report_paths(reports_dir: Path, job_id: str, formats: Collection[str]) -> list[Path]:
    """`<reports_dir>/<job_id>.<format>` for each format; a job id that is not a plain file name is refused."""
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise BadInput(f"bad report formats {sorted(unknown) or []}: use csv, html or both")
    if not isinstance(job_id, str) or not _SAFE_JOB_ID.fullmatch(job_id):
        raise BadInput(f"report job id {job_id!r} is not a safe file name (letters, digits, '.', '_', '-')")
    folder = Path(reports_dir).resolve()
    paths = []
    for fmt in sorted(formats):
        path = (folder / f"{job_id}.{fmt}").resolve()
        # resolve() follows a symlink planted at the target: refuse it rather than write outside.
        if path.parent != folder:
            raise BadInput(f"report file for job {job_id!r} would land outside the reports folder {folder}")
        paths.append(path)
    return paths


def check_reports_folder(reports_dir: Path) -> None:
    """ReportsFolderError unless the reports folder is writable, or could be created in a writable folder.

    Creates nothing: `report run` checks before sending, so a job bound to fail is never sent.
    """
    folder = Path(reports_dir).resolve()
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ReportsFolderError(f"cannot create the reports folder {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        problem = "is not writable" if existing == folder else f"cannot be created: {existing} is not writable"
        raise ReportsFolderError(f"the reports folder {folder} {problem}")


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p * len(sorted_values) / 100))  # p * n first: exact for whole p
    return sorted_values[rank - 1]


@dataclass
class Distribution:
    """Count, p50/p95/p99, max and a bucketed histogram of a set of durations in seconds."""

    count: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None
    histogram: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def of(cls, values: array) -> Distribution:
        ordered = sorted(values)  # about 32 MB for a million floats, freed on return
        below = [bisect.bisect_left(ordered, bound) for bound, _ in LATENESS_BUCKETS[:-1]] + [len(ordered)]
        counts = [b - a for a, b in zip([0, *below[:-1]], below)]
        return cls(
            count=len(ordered), p50=percentile(ordered, 50), p95=percentile(ordered, 95),
            p99=percentile(ordered, 99), max=ordered[-1] if ordered else None,
            histogram=[(label, n) for (_, label), n in zip(LATENESS_BUCKETS, counts)],
        )

    def figures(self) -> dict[str, float | None]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99, "max": self.max}


@dataclass
class Failure:
    """One kind of failure: a task and an error type, how often, and its latest message."""

    task: str
    error_type: str
    count: int = 0
    example: str = ""
    example_at: float = -math.inf


@dataclass
class ReportData:
    """Everything the report shows, gathered in one pass over the rows."""

    start: float
    end: float
    first_hour: float
    jobs: int = 0
    by_task_state: dict[tuple[str, str], int] = field(default_factory=dict)
    by_schedule_state: dict[tuple[str, str], int] = field(default_factory=dict)  # runs of recurring schedules
    lateness: Distribution = field(default_factory=Distribution)
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    created_per_hour: list[int] = field(default_factory=list)
    started_per_hour: list[int] = field(default_factory=list)
    articles_published: int = 0
    article_lateness: Distribution = field(default_factory=Distribution)

    @property
    def states(self) -> list[str]:
        seen = {state for _, state in self.by_task_state}
        return [s for s in STATES if s in seen] + sorted(seen - set(STATES))

    def state_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (_, state), n in self.by_task_state.items():
            totals[state] = totals.get(state, 0) + n
        return {state: totals[state] for state in self.states}


class _Throttled:
    """Calls `progress` about every 5% of `total`, with `current` never going down."""

    def __init__(self, progress: Progress, total: int):
        self.progress, self.total, self.current = progress, total, 0
        self.every = max(1, total // PROGRESS_STEPS)
        self.next_at = 0

    def at(self, current: int, step: str, force: bool = False) -> None:
        self.current = max(self.current, min(current, self.total))
        if force or self.current >= self.next_at:
            self.progress(self.current, self.total, step)
            self.next_at = self.current + self.every


def build_report(
    store,
    *,
    job_id: str,
    period_seconds: float,
    formats: set[str],
    reports_dir: Path,
    now: float,
    progress: Progress,
) -> dict:
    """Report on the jobs created or finished in the `period_seconds` before `now`; write its files.

    `store` is a `JobStore` (only its `reporting` queries are used). Files are `<job_id>.csv` and
    `<job_id>.html` in `reports_dir`, replaced atomically, so running the same job again rewrites
    the same files. Returns the paths and the headline numbers, JSON-serializable.
    """
    if not 0 < period_seconds <= PERIOD_MAX:
        raise BadInput(f"bad report period of {period_seconds} s: longer than zero and at most ten years")
    paths = report_paths(reports_dir, job_id, formats)
    folder = paths[0].parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportsFolderError(f"cannot create the reports folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportsFolderError(f"the reports folder {folder} is not writable")

    start = now - period_seconds
    job_count = store.reporting.count_jobs(start, now)
    article_count = store.reporting.count_published_articles(start, now)
    ticks = _Throttled(progress, job_count + article_count + 1 + len(paths))
    ticks.at(0, "counting", force=True)

    data, lateness = _scan_jobs(store, start, now, ticks)
    _scan_articles(store, data, ticks, done_before=job_count)
    ticks.at(job_count + article_count, "lateness", force=True)
    data.lateness = Distribution.of(lateness)
    ticks.at(job_count + article_count + 1, "lateness", force=True)

    for i, path in enumerate(paths, start=1):
        ticks.at(ticks.current, f"writing {path.suffix[1:]}", force=True)
        text = render_csv(data) if path.suffix == ".csv" else render_html(data, job_id)
        _write_atomically(path, text)
        ticks.at(job_count + article_count + 1 + i, f"writing {path.suffix[1:]}", force=True)

    return {
        "paths": [str(p) for p in paths],
        "period_start": iso(start),
        "period_end": iso(now),
        "jobs": data.jobs,
        "by_state": data.state_totals(),
        "failures": data.failure_count,
        "started": data.lateness.count,
        **{f"lateness_{name}": value for name, value in data.lateness.figures().items()},
        "articles_published": data.articles_published,
        **{f"article_lateness_{name}": value for name, value in data.article_lateness.figures().items()},
    }


def _scan_jobs(store, start: float, end: float, ticks: _Throttled) -> tuple[ReportData, array]:
    """Tally the period's jobs in one streamed pass; returns the tallies and every start lateness."""
    first_hour = math.floor(start / 3600) * 3600
    hours = max(1, math.ceil((end - first_hour) / 3600))
    data = ReportData(start=start, end=end, first_hour=first_hour,
                      created_per_hour=[0] * hours, started_per_hour=[0] * hours)
    lateness = array("d")
    by_task_state = data.by_task_state
    created_per_hour, started_per_hour = data.created_per_hour, data.started_per_hour
    failures: dict[tuple[str, str], Failure] = {}
    append = lateness.append
    rows = store.reporting.job_rows(start, end)
    seen = 0
    ticks.at(0, "jobs", force=True)
    next_tick = ticks.next_at
    by_schedule_state = data.by_schedule_state
    for task, state, created_at, eta, started_at, finished_at, error_type, error_message, schedule in rows:
        seen += 1
        key = (task, state)
        by_task_state[key] = by_task_state.get(key, 0) + 1
        if schedule is not None:
            key = (schedule, state)
            by_schedule_state[key] = by_schedule_state.get(key, 0) + 1
        hour = int((created_at - first_hour) // 3600)
        if 0 <= hour < hours:
            created_per_hour[hour] += 1
        if started_at is not None:
            append(started_at - (created_at if eta is None else eta))
            hour = int((started_at - first_hour) // 3600)
            if 0 <= hour < hours:
                started_per_hour[hour] += 1
        if state == "FAILURE":
            failure_key = (task, error_type or "unknown error")
            failure = failures.get(failure_key)
            if failure is None:
                failure = failures[failure_key] = Failure(task, failure_key[1])
            failure.count += 1
            when = finished_at if finished_at is not None else created_at
            if when >= failure.example_at:
                failure.example, failure.example_at = error_message or "", when
        if seen >= next_tick:
            ticks.at(seen, "jobs")
            next_tick = ticks.next_at
    data.jobs = seen
    data.failure_count = sum(f.count for f in failures.values())
    data.failures = sorted(failures.values(), key=lambda f: (-f.count, f.task, f.error_type))[:TOP_FAILURES]
    return data, lateness


def _scan_articles(store, data: ReportData, ticks: _Throttled, done_before: int) -> None:
    late = array("d")
    seen = 0
    ticks.at(done_before, "articles", force=True)
    rows = store.reporting.published_article_rows(data.start, data.end)
    for publish_at, published_at in rows:
        seen += 1
        if publish_at is not None:
            late.append(published_at - publish_at)
        ticks.at(done_before + seen, "articles")
    data.articles_published = seen
    data.article_lateness = Distribution.of(late)


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ReportsFolderError(f"cannot write into the reports folder {path.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a report is meant to be read by others
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise ReportsFolderError(f"cannot write the report {path}: {exc.strerror or exc}") from None


def _seconds_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _text_cell(text: str | None) -> str:
    """Job text as a CSV cell a spreadsheet shows rather than evaluates (no leading =, +, -, @)."""
    text = text or ""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(data: ReportData) -> str:
    """The report as CSV: sections one after another, each with its own header row, blank line between.

    The first cell of every row names its section, so a spreadsheet filter (or `csv` reader) can pick
    one: summary, jobs_by_task_state, start_lateness, failures, jobs_per_hour, article_lateness.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    summary = [
        ("period_start", iso(data.start)), ("period_end", iso(data.end)), ("jobs", data.jobs),
        ("failures", data.failure_count), ("started", data.lateness.count),
        *((f"lateness_{name}_seconds", _seconds_cell(v)) for name, v in data.lateness.figures().items()),
        ("articles_published", data.articles_published),
    ]
    sections = [
        (("section", "figure", "value"), [("summary", *row) for row in summary]),
        (("section", "task", "state", "jobs"),
         [("jobs_by_task_state", _text_cell(task), state, n)
          for (task, state), n in sorted(data.by_task_state.items())]),
        (("section", "figure", "value"),
         [("start_lateness", "jobs_started", data.lateness.count)]
         + [("start_lateness", f"{name}_seconds", _seconds_cell(v)) for name, v in data.lateness.figures().items()]
         + [("start_lateness", f"jobs {label}", n) for label, n in data.lateness.histogram]),
        (("section", "task", "error_type", "count", "example_message"),
         [("failures", _text_cell(f.task), _text_cell(f.error_type), f.count, _text_cell(_shorten(f.example)))
          for f in data.failures]),
        (("section", "hour_utc", "jobs_created", "jobs_started"),
         [("jobs_per_hour", iso(data.first_hour + i * 3600), created, started)
          for i, (created, started) in enumerate(zip(data.created_per_hour, data.started_per_hour))]),
        (("section", "figure", "value"),
         [("article_lateness", "published", data.articles_published)]
         + [("article_lateness", f"{name}_seconds", _seconds_cell(v))
            for name, v in data.article_lateness.figures().items()]),
    ]
    if data.by_schedule_state:  # only in stores that have schedules, so other reports read as before
        sections.append((("section", "schedule", "state", "runs"),
                         [("runs_by_schedule", _text_cell(name), state, n)
                          for (name, state), n in sorted(data.by_schedule_state.items())]))
    for i, (header, rows) in enumerate(sections):
        if i:
            writer.writerow(())
        writer.writerow(header)
        writer.writerows(rows)
    return out.getvalue()


def _shorten(text: str) -> str:
    return text if len(text) <= EXAMPLE_MESSAGE_CHARS else text[: EXAMPLE_MESSAGE_CHARS - 1] + "\u2026"


_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #5b6475; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { border: 1px solid #d8dde6; border-radius: 6px; padding: .6rem .9rem; min-width: 7rem; }
.card b { display: block; font-size: 1.35rem; } .card span { color: #5b6475; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e3e7ee; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.msg { font-family: ui-monospace, monospace; font-size: .8rem; white-space: pre-wrap; word-break: break-word; }
svg { width: 100%; height: auto; } svg text { font: 11px system-ui, sans-serif; fill: #5b6475; }
.created { fill: none; stroke: #d9822b; stroke-width: 1.5; } .started { fill: #4a7fd4; } .late { fill: #7a5cc4; }
.empty { color: #5b6475; font-style: italic; }
"""


def render_html(data: ReportData, job_id: str) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, nothing fetched, all job text escaped."""
    e = html.escape
    lat = data.lateness
    cards = [
        (f"{data.jobs:,}", "jobs"), (f"{data.failure_count:,}", "failures"),
        (format_seconds(lat.p50), "start lateness p50"), (format_seconds(lat.p95), "p95"),
        (format_seconds(lat.p99), "p99"), (format_seconds(lat.max), "max"),
        (f"{data.articles_published:,}", "articles published"),
    ]
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        # Even if some text slipped through unescaped, the page can run no script and fetch nothing.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>schedcli report {e(job_id)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        "<h1>schedcli report</h1>\n",
        f"<p class=\"meta\">Jobs created or finished from {e(iso(data.start))} to {e(iso(data.end))} "
        f"(UTC). Report job {e(job_id)}.</p>\n<div class=\"cards\">",
        *(f"<div class=\"card\"><b>{e(value)}</b><span>{e(label)}</span></div>" for value, label in cards),
        "</div>\n<h2>Jobs per hour</h2>\n", _hours_chart(data),
        "<h2>Start lateness</h2>\n<p class=\"meta\">When a job started against the time asked "
        "(its ETA, else when it was sent); negative is early.</p>\n",
        _table(("", "p50", "p95", "p99", "max", "jobs started"),
               [("all jobs", *(format_seconds(v) for v in lat.figures().values()), f"{lat.count:,}")]),
        _lateness_chart(lat),
        "<h2>Jobs by task and state</h2>\n", _task_state_table(data),
        f"<h2>Failures</h2>\n<p class=\"meta\">{data.failure_count:,} failed; the most frequent errors, "
        "each with its latest message.</p>\n",
        _table(("task", "error", "count", "latest message"),
               [(f.task, f.error_type, f"{f.count:,}", _shorten(f.example)) for f in data.failures],
               numeric={2}, message={3}),
        *(("<h2>Runs by schedule</h2>\n", _table(("schedule", "state", "runs"), [
            (name, state, f"{n:,}") for (name, state), n in sorted(data.by_schedule_state.items())], numeric={2}))
          if data.by_schedule_state else ()),
        "<h2>Articles</h2>\n",
        _table(("", "published", "p50 late", "p95 late", "p99 late", "max late"),
               [("articles", f"{data.articles_published:,}",
                 *(format_seconds(v) for v in data.article_lateness.figures().values()))]),
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None,
           message: set[int] | None = None) -> str:
    if not rows:
        return "<p class=\"empty\">None.</p>\n"
    numeric = numeric if numeric is not None else set(range(1, len(header)))
    message = message or set()

    def cls(i: int, cell: str = "td") -> str:
        return " class=\"n\"" if i in numeric else " class=\"msg\"" if i in message and cell == "td" else ""

    head = "".join(f"<th{cls(i, 'th')}>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(str(cell))}</td>" for i, cell in enumerate(row)) + "</tr>\n"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"


def _task_state_table(data: ReportData) -> str:
    states = data.states
    tasks: dict[str, dict[str, int]] = {}
    for (task, state), n in data.by_task_state.items():
        tasks.setdefault(task, {})[state] = n
    ordered = sorted(tasks.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    rows = [(task, *(f"{counts.get(s, 0):,}" for s in states), f"{sum(counts.values()):,}")
            for task, counts in ordered]
    return _table(("task", *states, "total"), rows)


def _hours_chart(data: ReportData) -> str:
    """Bars of jobs started and a line of jobs created, per hour (or per few hours on long periods)."""
    per_bar = max(1, math.ceil(len(data.started_per_hour) / CHART_MAX_BARS))

    def grouped(series: list[int]) -> list[int]:
        return [sum(series[i:i + per_bar]) for i in range(0, len(series), per_bar)]

    started, created = grouped(data.started_per_hour), grouped(data.created_per_hour)
    width, height, left, bottom, top = 900, 230, 48, 28, 22
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([*started, *created, 1])
    step = plot_w / len(started)
    unit = "hour" if per_bar == 1 else f"{per_bar} hours"

    def y(value: int) -> float:
        return top + plot_h - value / peak * plot_h

    bars = []
    for i, n in enumerate(started):
        label = f"{iso(data.first_hour + i * per_bar * 3600)}: {n:,} started, {created[i]:,} created"
        bars.append(f"<rect class=\"started\" x=\"{left + i * step:.1f}\" y=\"{y(n):.1f}\" "
                    f"width=\"{max(step - 1, 0.5):.1f}\" height=\"{top + plot_h - y(n):.1f}\">"
                    f"<title>{html.escape(label)}</title></rect>")
    line = " ".join(f"{left + (i + 0.5) * step:.1f},{y(n):.1f}" for i, n in enumerate(created))
    ticks = []
    days = sorted({i for i in range(len(started))
                   if (data.first_hour + i * per_bar * 3600) % 86400 < per_bar * 3600})
    for i in days[:: max(1, math.ceil(len(days) / 14))]:
        day = datetime.fromtimestamp(data.first_hour + i * per_bar * 3600, timezone.utc).strftime("%b %d")
        ticks.append(f"<text x=\"{left + i * step:.1f}\" y=\"{height - 8}\">{day}</text>")
    return (
        f"<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"jobs per {unit}\">"
        f"<text x=\"{left}\" y=\"14\">jobs per {unit} (UTC): bars started, line created; peak {peak:,}</text>"
        f"<text x=\"4\" y=\"{top + 10}\">{peak:,}</text><text x=\"4\" y=\"{top + plot_h}\">0</text>"
        f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{width - 10}\" y2=\"{top + plot_h}\" stroke=\"#c5ccd8\"/>"
        + "".join(bars)
        + f"<polyline class=\"created\" points=\"{line}\"/>" + "".join(ticks) + "</svg>\n"
    )


def _lateness_chart(lat: Distribution) -> str:
    """Horizontal bars: how many jobs started within each lateness bucket."""
    if not lat.count:
        return ""
    width, row_h, left = 900, 22, 110
    peak = max(n for _, n in lat.histogram) or 1
    rows = []
    for i, (label, n) in enumerate(lat.histogram):
        y = 8 + i * row_h
        bar = (width - left - 90) * n / peak
        rows.append(f"<text x=\"4\" y=\"{y + 14}\">{html.escape(label)}</text>"
                    f"<rect class=\"late\" x=\"{left}\" y=\"{y + 3}\" width=\"{bar:.1f}\" height=\"{row_h - 6}\"/>"
                    f"<text x=\"{left + bar + 6:.1f}\" y=\"{y + 14}\">{n:,}</text>")
    height = 16 + len(lat.histogram) * row_h
    return (f"<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"jobs by start lateness\">"
            + "".join(rows) + "</svg>\n")
