"""`schedcli schedule`: recurring jobs (add, list, show, pause, resume, remove, run, tick)."""

from __future__ import annotations

import click

from schedcli.cli.time_options import DELAY, TIME_EXPRESSION


@click.group("schedule")
def command():
    """Recurring jobs: each occurrence is an ordinary job, sent ahead and run exactly once.

    Workers (`schedcli worker start`) keep every schedule's next runs sent ahead; see docs/schedules.md.

    \b
    Example:
        schedcli schedule add weekly-report --every "monday 9am Europe/Berlin" schedcli.tasks.generate_report 7d
        schedcli schedule list
        schedcli schedule pause weekly-report
    """


def _epoch(when):
    return None if when is None else when.eta.timestamp()


def every_text(every: str) -> str:
    """`--every "monday 9am"` reads as "every monday 9am"; cron lines and "every ..." stay as they are."""
    from schedcli.schedules.expressions import looks_recurring

    return every if looks_recurring(every) else f"every {every}"


def echo_change(change, verb: str, zone_name: str, as_json: bool) -> None:
    import time

    from schedcli.schedules.editing import describe, next_runs, schedule_json

    now = time.time()
    if as_json:
        import json

        click.echo(json.dumps(schedule_json(change.schedule, now), ensure_ascii=False))
        return
    from schedcli.cli.rendering import local_time

    schedule = change.schedule
    upcoming = next_runs(schedule, now, 1)
    next_text = f"next run {local_time(upcoming[0], zone_name)}" if upcoming else "no next run"
    sent = change.top_up.sent if change.top_up is not None else 0
    click.echo(f"{verb} schedule {schedule.name}: {describe(schedule)}; {next_text}")
    if sent or change.cancelled:
        click.echo(f"{sent} occurrence(s) sent ahead" + (f", {change.cancelled} cancelled" if change.cancelled else ""),
                   err=True)


@command.command("add")
@click.argument("name")
@click.argument("task")
@click.argument("task_args", metavar="[ARG]...", nargs=-1)
@click.option("--every", "every", required=True, metavar="EXPR",
              help='When it runs: "15m", "weekday 9am", "monday 9:00 Europe/Berlin", "0 9 * * 1-5", "@daily".')
@click.option("--args", "args_json", metavar="JSON", help="Positional arguments as a JSON array.")
@click.option("--kwargs", "kwargs_json", metavar="JSON", help="Keyword arguments as a JSON object.")
@click.option("--queue", metavar="QUEUE", help="Send to this queue instead of the app's route for the task.")
@click.option("--key-prefix", "key_prefix", metavar="PREFIX",
              help="Give each occurrence the job key PREFIX<its time, ISO 8601 UTC>, e.g. for `schedcli list`.")
@click.option("--expires", type=DELAY, metavar="DELAY", help="Drop a run not started this long after its time.")
@click.option("--catch-up", "catch_up", default="last", show_default=True, type=click.Choice(["none", "last", "all"]),
              help="Runs missed while no worker topped up (or while paused): skip, run the latest once, run each.")
@click.option("--overlap", default="allow", show_default=True, type=click.Choice(["allow", "skip"]),
              help="skip: a run whose previous run still runs is recorded SKIPPED, not run.")
@click.option("--start", type=TIME_EXPRESSION, metavar="AT", help="First possible run (default: now).")
@click.option("--until", type=TIME_EXPRESSION, metavar="AT", help="No run after this moment.")
@click.option("--horizon", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds of occurrences to send ahead now (workers keep to their own --horizon).")
@click.option("--replace", is_flag=True, help="Change the schedule of that name: what it sent ahead is cancelled.")
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
@click.pass_obj
def add(application, name, task, task_args, every, args_json, kwargs_json, queue, key_prefix, expires, catch_up, overlap, start,
        until, horizon, replace, as_json):
    """Add a recurring schedule NAME that runs TASK with ARGs; its first runs are sent ahead at once.

    \b
    Example:
        schedcli schedule add cleanup --every "day at 3:00" schedcli.tasks.echo nightly
        schedcli schedule add poll --every 15m schedcli.tasks.echo --catch-up none --overlap skip
        schedcli schedule add cleanup --every "0 4 * * *" schedcli.tasks.echo --replace
    """
    from schedcli.jobs import requests as jobinput
    from schedcli.schedules.editing import add_schedule

    args, kwargs = jobinput.arguments(task_args, args_json, kwargs_json)
    settings = application.settings
    change = add_schedule(settings, name, every_text(every), task, args, kwargs, queue=queue,
                          expires_after=None if expires is None else expires.countdown, catch_up=catch_up,
                          overlap=overlap, start=_epoch(start), until=_epoch(until), replace=replace,
                          key_prefix=key_prefix, horizon=horizon)
    echo_change(change, "Replaced" if change.schedule.revision > 1 else "Added", settings.timezone, as_json)


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per schedule.")
@click.pass_obj
def list_schedules(application, as_json):
    """List schedules: recurrence, zone, next run, last run and its state, paused.

    \b
    Example:
        schedcli schedule list
        schedcli schedule list --json
    """
    import time

    from schedcli.schedules.editing import schedule_json
    from schedcli.store import JobStore

    now = time.time()
    with JobStore.open(application.settings.database_url) as store:
        rows = [schedule_json(schedule, now, store.schedules.last_run(schedule.name), count=1)
                for schedule in store.schedules.all()]
    if as_json:
        import json

        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    from schedcli.cli.rendering import render_schedules

    render_schedules(rows, application.settings.timezone)


@command.command("show")
@click.argument("name")
@click.option("--count", default=5, show_default=True, type=click.IntRange(1, 1000), help="Next runs to show.")
@click.option("--json", "as_json", is_flag=True,
              help='Print one JSON object: the schedule, "sent_ahead" and "recent_runs" (job records).')
@click.pass_obj
def show(application, name, count, as_json):
    """Show one schedule: its next runs, the occurrences sent ahead, and its recent runs.

    \b
    Example:
        schedcli schedule show weekly-report
        schedcli schedule show weekly-report --json
    """
    import time

    from schedcli.schedules.editing import schedule_json
    from schedcli.store import JobStore

    now = time.time()
    with JobStore.open(application.settings.database_url) as store:
        schedule = store.schedules.get(name)
        row = schedule_json(schedule, now, store.schedules.last_run(name), count=count)
        waiting = store.schedules.waiting(name)
        recent = store.schedules.recent_runs(name)
    if as_json:
        import json

        row.update(sent_ahead=[job.to_json() for job in waiting], recent_runs=[job.to_json() for job in recent])
        click.echo(json.dumps(row, ensure_ascii=False))
        return
    from schedcli.cli.rendering import render_schedule

    render_schedule(row, waiting, recent, application.settings.timezone)


@command.command("pause")
@click.argument("name")
@click.pass_obj
def pause(application, name):
    """Pause NAME: no run after this returns, not even of occurrences already sent ahead.

    \b
    Example:
        schedcli schedule pause weekly-report
    """
    from schedcli.schedules.editing import pause_schedule

    change = pause_schedule(application.settings, name)
    click.echo(f"Paused schedule {name}; {change.cancelled} occurrence(s) sent ahead cancelled")


@command.command("resume")
@click.argument("name")
@click.option("--horizon", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds of occurrences to send ahead now (workers keep to their own --horizon).")
@click.pass_obj
def resume(application, name, horizon):
    """Resume NAME from its next run; runs missed while paused follow its --catch-up policy.

    \b
    Example:
        schedcli schedule resume weekly-report
    """
    from schedcli.schedules.editing import resume_schedule

    change = resume_schedule(application.settings, name, horizon=horizon)
    echo_change(change, "Resumed", application.settings.timezone, False)


@command.command("remove")
@click.argument("name")
@click.pass_obj
def remove(application, name):
    """Remove NAME and cancel what it sent ahead; its past runs keep its name.

    \b
    Example:
        schedcli schedule remove weekly-report
    """
    from schedcli.schedules.editing import remove_schedule

    cancelled = remove_schedule(application.settings, name)
    click.echo(f"Removed schedule {name}; {cancelled} occurrence(s) sent ahead cancelled")


@command.command("run")
@click.argument("name")
@click.option("-q", "--quiet", is_flag=True, help="Print only the job id.")
@click.pass_obj
def run(application, name, quiet):
    """Run NAME's task once now, besides its occurrences (the job shows as the schedule's).

    \b
    Example:
        schedcli schedule run weekly-report -q
    """
    from schedcli.schedules.editing import run_schedule_now

    job = run_schedule_now(application.settings, name)
    if quiet:
        click.echo(job.id)
        return
    from schedcli.cli.rendering import render_sent

    render_sent(job, application.settings.timezone)


@command.command("tick")
@click.option("--horizon", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds ahead to send occurrences (and always the next one).")
@click.option("--json", "as_json", is_flag=True, help="Print what the top-up did as JSON.")
@click.pass_obj
def tick(application, horizon, as_json):
    """Top up every active schedule once, as each worker does on its own (for cron-driven setups and tests).

    \b
    Example:
        schedcli schedule tick
        */5 * * * * schedcli schedule tick    # from cron, where no worker runs all the time
    """
    from dataclasses import asdict

    from schedcli.schedules.topup import top_up

    summary = top_up(application.settings, horizon=horizon)
    if as_json:
        import json

        click.echo(json.dumps(asdict(summary), ensure_ascii=False))
    else:
        click.echo(f"Topped up {summary.schedules} schedule(s): {summary.sent} occurrence(s) sent "
                   f"({summary.caught_up} caught up), {summary.already_sent} already sent, "
                   f"{summary.missed_skipped} missed and skipped")
    for problem in summary.problems:
        click.echo(problem, err=True)
    if summary.problems:
        raise SystemExit(1)
