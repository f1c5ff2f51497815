"""Rich views for the terminal; plain text when stdout is not a terminal or NO_COLOR is set.

Job data is untrusted: it is always passed to Rich as `Text`, never parsed as markup, and
terminal control characters in it are made visible.
"""

from __future__ import annotations

import json
import re

from rich.console import Console
from rich.table import Table
from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def console(stderr: bool = False) -> Console:
    """One console per stream; markup off so nothing from job data is interpreted."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=False)


def visible(value: str) -> str:
    """Make control characters visible: ESC becomes `\\x1b`, so data cannot drive the terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), value)


def safe_text(value, style: str = "") -> Text:
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return Text(visible(value), style=style)


def render_workers(workers: list[dict]) -> None:
    out = console()
    if not workers:
        console(stderr=True).print("No worker answered. Start one with: schedcli worker start")
        return
    table = Table("worker", "concurrency", "running")
    for worker in workers:
        table.add_row(safe_text(worker["hostname"]), str(worker["concurrency"]), str(worker["active"]))
    out.print(table)


def render_settings(rows: list[tuple[str, str | None, str]]) -> None:
    table = Table("setting", "value", "from")
    for name, value, source in rows:
        table.add_row(name, safe_text("" if value is None else value), safe_text(source))
    console().print(table)


def local_time(epoch: float, zone_name: str) -> str:
    """`Thu 26 Nov 12:00 CET` in the user's zone."""
    from datetime import datetime

    from schedcli.timetext import resolve_zone

    return datetime.fromtimestamp(epoch, resolve_zone(zone_name)).strftime("%a %d %b %H:%M:%S %Z")


def describe_due(job, zone_name: str, now: float | None = None) -> str:
    """When a job is due, as `Thu 26 Nov 12:00 UTC (in 1d 1h 59m)`, or `now`."""
    import time

    from schedcli.timetext import format_delay

    if job.eta is None:
        return "now"
    now = time.time() if now is None else now
    return f"{local_time(job.eta, zone_name)} ({format_delay(job.eta - now)})"


def call_text(job) -> str:
    """`task(arg, key=value)` with the arguments as JSON, control characters made visible."""
    parts = [json.dumps(arg, ensure_ascii=False) for arg in job.args]
    parts += [f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in job.kwargs.items()]
    return visible(f"{job.task}({', '.join(parts)})")


def render_sent(job, zone_name: str, existing: bool = False) -> None:
    out = console()
    verb = "Already exists (same key):" if existing else ("Scheduled" if job.eta else "Queued")
    out.print(Text(f"{verb} {call_text(job)}"))
    out.print(Text(f"  due  {describe_due(job, zone_name)}"))
    out.print(Text(f"  id   {job.id}"))


def follow_job_live(views, show: bool = True):
    """Show the job `views` follow (`JobReader.follow`) with a progress bar (a spinner until PROGRESS arrives)
    until it ends; return the final job."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn

    job = None
    # The step comes from the task: never markup. A bar only for numbers a bar can show.
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                        TaskProgressColumn(), console=console(stderr=True), transient=True, disable=not show)
    with progress:
        bar = progress.add_task("waiting", total=None)
        for view in views:
            job = view.job
            description = job.state.lower()
            total = completed = None
            if job.progress:
                current, of = job.progress.get("current"), job.progress.get("total")
                if _is_number(current) and _is_number(of) and of > 0:
                    total, completed = of, current
                description = visible(str(job.progress.get("step") or "running"))
            progress.update(bar, description=description, total=total, completed=completed or 0)
    return job


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render_outcome(job) -> None:
    """The result (pretty JSON) on stdout, or the error and its traceback on stderr; never cut into lines at the
    terminal's width, so a result piped on stays JSON."""
    if job.state == "SUCCESS":
        console().print(safe_text(json.dumps(job.result, indent=2, ensure_ascii=False)), soft_wrap=True)
        return
    err = console(stderr=True)
    err.print(Text(f"{job.state}", style="bold red"))
    if job.error:
        err.print(safe_text(f"{job.error.get('type')}: {job.error.get('message')}"), soft_wrap=True)
        if job.error.get("traceback"):
            err.print(safe_text(job.error["traceback"]), soft_wrap=True)


# -- jobs: `status`, `list`, `cancel`, `reschedule` ---------------------------------------------

STATE_STYLES = {
    "SENDING": "dim", "SCHEDULED": "cyan", "QUEUED": "cyan", "STARTED": "yellow", "PROGRESS": "yellow",
    "RETRY": "magenta", "SUCCESS": "green", "FAILURE": "bold red", "CANCELLED": "red", "EXPIRED": "red",
    "SKIPPED": "yellow",
}
_RUNNING = ("STARTED", "PROGRESS")
_ENDED = {"SUCCESS": "finished", "FAILURE": "finished", "CANCELLED": "cancelled", "EXPIRED": "expired",
          "SKIPPED": "skipped"}
CELL_WIDTH = 40  # characters of a task name or of arguments shown in a table cell


def is_plain(out: Console) -> bool:
    """No colour and no box characters: the stream is not a terminal, or NO_COLOR is set."""
    return out.no_color or not out.is_terminal


def one_line(value: str) -> str:
    """`visible`, with newlines and tabs escaped too: for table cells."""
    return visible(value).replace("\n", "\\n").replace("\t", "\\t")


def shorten(value: str, width: int = CELL_WIDTH) -> str:
    return value if len(value) <= width else value[: width - 1] + "\u2026"


def _state_text(state: str, plain: bool) -> Text:
    """The state in its colour; unstyled when plain (NO_COLOR drops colours, not bold)."""
    return safe_text(state, "" if plain else STATE_STYLES.get(state, ""))


def arguments_text(job) -> str:
    """`1, "x", key=2`: a job's arguments as JSON."""
    parts = [json.dumps(arg, ensure_ascii=False) for arg in job.args]
    parts += [f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in job.kwargs.items()]
    return ", ".join(parts)


def _progress_cell(progress: dict, plain: bool):
    """`1/2 (50%) step`, after a bar on a terminal; any value may come from a task, so nothing is trusted."""
    from rich.progress_bar import ProgressBar

    current, total, step = progress.get("current"), progress.get("total"), progress.get("step")
    numeric = _is_number(current) and _is_number(total)
    text = f"{current}/{total}" if total is not None else f"{current}"
    if numeric and total > 0:
        text += f" ({current / total:.0%})"
    if step:
        text += f" {step}"
    label = safe_text(text)
    if plain or not numeric or total <= 0:
        return label
    cell = Table.grid(padding=(0, 1))
    cell.add_row(ProgressBar(total=total, completed=current, width=30), label)
    return cell


def _job_rows(job, zone_name: str, now: float, note: str | None, plain: bool) -> list[tuple[str, object]]:
    from schedcli.timetext import format_delay, format_seconds

    def at(epoch: float) -> str:
        return local_time(epoch, zone_name)

    rows = [("id", safe_text(job.id)), ("state", _state_text(job.state, plain))]
    if note:
        rows.append(("source", safe_text(note)))
    rows.append(("call", Text(call_text(job))))
    waiting = job.started_at is None and job.state not in _ENDED
    if job.eta is None:
        rows.append(("due", Text("at once")))
    else:
        rows.append(("due", Text(f"{at(job.eta)} ({format_delay(job.eta - now)})" if waiting else at(job.eta))))
    rows.append(("sent", Text(f"{at(job.created_at)} ({format_delay(job.created_at - now)})" if waiting and
                              job.eta is None else at(job.created_at))))
    if job.expires is not None:
        rows.append(("expires", Text(at(job.expires))))
    if job.started_at is not None:
        late = job.started_at - (job.eta if job.eta is not None else job.created_at)
        lateness = f"{format_seconds(abs(late))} {'late' if late >= 0 else 'early'}"
        rows.append(("started", Text(f"{at(job.started_at)} ({lateness})")))
    if job.finished_at is not None:
        rows.append((_ENDED.get(job.state, "finished"), Text(at(job.finished_at))))
    if job.runtime is not None:
        rows.append(("runtime", Text(format_seconds(job.runtime))))
    elif job.state in _RUNNING and job.started_at is not None:
        rows.append(("runtime", Text(f"{format_seconds(now - job.started_at)} so far")))
    if job.worker:
        rows.append(("worker", safe_text(job.worker)))
    if job.retries:
        retries = str(job.retries)
        if job.state == "RETRY" and job.next_retry_at is not None:
            retries += f", next try {at(job.next_retry_at)} ({format_delay(job.next_retry_at - now)})"
        rows.append(("retries", Text(retries)))
    if job.progress and job.state in _RUNNING:
        rows.append(("progress", _progress_cell(job.progress, plain)))
    for label, value in (("key", job.key), ("queue", job.queue), ("app", job.app),
                         ("rescheduled to", job.rescheduled_to), ("rescheduled from", job.rescheduled_from),
                         ("retry of", job.retry_of), ("retried as", job.retried_as)):
        if value:
            rows.append((label, safe_text(value)))
    if job.schedule:
        occurrence = f", occurrence {at(job.occurrence)}" if job.occurrence is not None else ", run by hand"
        rows.append(("schedule", safe_text(f"{job.schedule}{occurrence}")))
    if job.error:
        rows.append(("error", safe_text(f"{job.error.get('type')}: {job.error.get('message')}")))
    return rows


def _job_blocks(job) -> list[tuple[str, Text]]:
    """The long parts shown whole under the fields: the result as pretty JSON, the traceback."""
    from schedcli.store import TRUNCATED

    blocks = []
    if job.state == "SUCCESS":
        result = job.result
        if isinstance(result, dict) and result.get(TRUNCATED):
            blocks.append((f"result (its start only: the whole was {result.get('size')} bytes of JSON)",
                           safe_text(str(result.get("head")))))
        else:
            blocks.append(("result", safe_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))))
    if job.error and job.error.get("traceback"):
        blocks.append(("traceback", safe_text(str(job.error["traceback"]).rstrip("\n"))))
    return blocks


def job_view(job, zone_name: str, *, note: str | None = None, now: float | None = None, plain: bool = False):
    """One job, everything known about it: a panel, or `label  value` lines when `plain`."""
    import time

    from rich.console import Group
    from rich.panel import Panel

    now = time.time() if now is None else now
    rows = _job_rows(job, zone_name, now, note, plain)
    blocks = _job_blocks(job)
    if plain:
        width = max(len(label) for label, _ in rows)
        lines = [Text(f"{label:<{width}}  ").append_text(value) for label, value in rows]
        for title, body in blocks:
            lines += [Text(f"{title}:"), body]
        return Group(*lines)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    parts = [grid]
    for title, body in blocks:
        parts += [Text(""), Text(title, style="bold"), body]
    return Panel(Group(*parts), border_style=STATE_STYLES.get(job.state, ""), expand=False)


def render_job(job, zone_name: str, note: str | None = None, now: float | None = None) -> None:
    out = console()
    plain = is_plain(out)
    # Plain lines are never wrapped: a traceback or a result piped to a file stays whole and greppable.
    out.print(job_view(job, zone_name, note=note, now=now, plain=plain), soft_wrap=plain)


def render_job_live(views, zone_name: str):
    """Draw each view `views` yields (objects with `job` and `note`), redrawn in place on a terminal;
    elsewhere only the last is printed. Returns the last."""
    from rich.live import Live

    out = console()
    if not out.is_terminal:
        for view in views:
            pass
        render_job(view.job, zone_name, note=view.note)
        return view
    plain = is_plain(out)
    view = next(views)
    with Live(job_view(view.job, zone_name, note=view.note, plain=plain), console=out, auto_refresh=False) as live:
        for view in views:
            live.update(job_view(view.job, zone_name, note=view.note, plain=plain), refresh=True)
    return view


def _when_cell(job, zone_name: str, now: float) -> str:
    """When a waiting job is due, when a running one started, when a finished one ended."""
    from datetime import datetime

    from schedcli.timetext import format_delay, resolve_zone

    zone = resolve_zone(zone_name)

    def at(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, zone).strftime("%d %b %H:%M:%S")

    if job.state in _ENDED and job.finished_at is not None:
        return at(job.finished_at)
    if job.state in _RUNNING and job.started_at is not None:
        return at(job.started_at)
    return f"{at(job.due_at)} ({format_delay(job.due_at - now)})"


def job_table(jobs, zone_name: str, *, now: float | None = None, plain: bool = False,
              unconfirmed: set[str] = frozenset()) -> Table:
    """One row per job: id prefix, task, arguments (shortened), state, when, runtime. A job of `unconfirmed`
    (SENDING, its sender gone) says so in its state."""
    import time

    from rich import box

    from schedcli.timetext import format_seconds

    now = time.time() if now is None else now
    table = Table(box=None if plain else box.SIMPLE_HEAD, header_style="" if plain else "bold", pad_edge=False)
    # On a narrow terminal the task and arguments give way first: Rich narrows only wrappable columns before
    # cutting every column alike, so those two are wrappable while their cells never wrap but end in `…`.
    table.add_column("id", no_wrap=True)
    table.add_column("task")
    table.add_column("args")
    table.add_column("state", no_wrap=True)
    table.add_column(f"when ({zone_name})", no_wrap=True)
    table.add_column("runtime", no_wrap=True, justify="right")
    scheduled = any(job.schedule for job in jobs)  # the column appears only when some job is a schedule's
    if scheduled:
        table.add_column("schedule", no_wrap=True)
    for job in jobs:
        cells = [
            Text(one_line(job.id)[:8]),
            Text(shorten(one_line(job.task)), no_wrap=True, overflow="ellipsis"),
            Text(shorten(one_line(arguments_text(job))), no_wrap=True, overflow="ellipsis"),
            _state_text("SENDING, unconfirmed: sender gone" if job.id in unconfirmed else job.state, plain),
            Text(_when_cell(job, zone_name, now)),
            Text(format_seconds(job.runtime) if job.runtime is not None else ""),
        ]
        if scheduled:
            cells.append(Text(shorten(one_line(job.schedule or "")), no_wrap=True, overflow="ellipsis"))
        table.add_row(*cells)
    return table


def render_job_table(jobs, zone_name: str, now: float | None = None, unconfirmed: set[str] = frozenset()) -> None:
    if not jobs:
        console(stderr=True).print("No jobs.")
        return
    out = console()
    if not out.is_terminal:
        out.width = 10_000  # piped: rows are never cut to a guessed width (cells are already shortened)
    out.print(job_table(jobs, zone_name, now=now, plain=is_plain(out), unconfirmed=unconfirmed))


def render_cancelled(outcomes) -> None:
    """One line per job asked for (objects with `id`, `cancelled`, `reason`, `job`): the cancelled ones on
    stdout, the others with the reason on stderr."""
    out, err = console(), console(stderr=True)
    for outcome in outcomes:
        if outcome.cancelled:
            line = f"Cancelled {outcome.id}  {call_text(outcome.job)}"
            out.print(safe_text(line + (f" ({outcome.reason})" if outcome.reason else "")), soft_wrap=True)
        else:
            err.print(safe_text(f"Not cancelled {outcome.id}: {outcome.reason}"), soft_wrap=True)


def render_retried(outcomes, zone_name: str) -> None:
    """One line per job asked for: the new job on stdout, or why not on stderr."""
    out, err = console(), console(stderr=True)
    for outcome in outcomes:
        if outcome.new is not None:
            due = describe_due(outcome.new, zone_name)
            out.print(safe_text(f"Retried {outcome.id} as {outcome.new.id}  {call_text(outcome.new)}, due {due}"),
                      soft_wrap=True)
        else:
            err.print(safe_text(f"Not retried {outcome.id}: {outcome.reason}"), soft_wrap=True)
    if not outcomes:
        err.print("No job to retry.")


def render_rescheduled(old, new, zone_name: str) -> None:
    lines = [f"Rescheduled {call_text(new)}", f"  due  {describe_due(new, zone_name)}", f"  id   {new.id}",
             f"  was  {old.id} (now cancelled)"]
    console().print(safe_text("\n".join(lines)), soft_wrap=True)


# -- schedules: `schedule list`, `schedule show` ------------------------------------------------

def render_schedules(rows: list[dict], zone_name: str) -> None:
    """One row per schedule (`schedule_json` dicts): name, recurrence, zone, next run, last run, paused."""
    if not rows:
        console(stderr=True).print("No schedules. Add one with: schedcli schedule add NAME --every EXPR TASK")
        return
    from datetime import datetime

    from rich import box

    out = console()
    if not out.is_terminal:
        out.width = 10_000
    plain = is_plain(out)
    table = Table(box=None if plain else box.SIMPLE_HEAD, header_style="" if plain else "bold", pad_edge=False)
    for column in ("name", "recurrence", "zone", f"next run ({zone_name})", "last run", "paused"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        upcoming = row["next"][0] if row["next"] else None
        next_text = "-" if upcoming is None else local_time(datetime.fromisoformat(upcoming).timestamp(), zone_name)
        last = row["last_run"]
        last_text = "-"
        if last is not None:
            when = last["occurrence"] or last["started_at"]
            shown = local_time(datetime.fromisoformat(when).timestamp(), zone_name) if when else ""
            last_text = f"{shown} {last['state']}".strip()
        table.add_row(safe_text(one_line(row["name"])), safe_text(one_line(row["recurrence"])),
                      safe_text(row["timezone"]), Text(next_text), Text(last_text), Text("yes" if row["paused"] else "no"))
    out.print(table)


def render_schedule(row: dict, waiting, recent, zone_name: str) -> None:
    """`schedule show`: the schedule, its next runs, what is sent ahead, and its recent runs."""
    from datetime import datetime

    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    call = f"{row['task']}({', '.join(json.dumps(a, ensure_ascii=False) for a in row['args'])})"
    for label, value in (("name", row["name"]), ("recurrence", f"{row['recurrence']}: {row['described']}"),
                         ("call", call), ("catch-up", row["catch_up"]), ("overlap", row["overlap"]),
                         ("queue", row["queue"]), ("paused", "yes" if row["paused"] else "no"),
                         ("until", row["until"])):
        if value is not None:
            grid.add_row(label, safe_text(value))
    for moment in row["next"]:
        grid.add_row("next", Text(local_time(datetime.fromisoformat(moment).timestamp(), zone_name)))
    out.print(grid)
    if waiting:
        out.print(f"Sent ahead ({len(waiting)} shown):")
        out.print(job_table(waiting, zone_name, plain=is_plain(out)))
    if recent:
        out.print("Recent runs:")
        out.print(job_table(recent, zone_name, plain=is_plain(out)))
