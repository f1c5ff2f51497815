"""`schedcli doctor`: check RabbitMQ, the delay topology, the app's queues, the job store and the workers."""

from __future__ import annotations

import click

LEVEL_STYLES = {"ok": "green", "warning": "yellow", "error": "bold red"}


@click.command("doctor")
@click.option("--timeout", default=1.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait for workers to answer.")
@click.option("--fix", is_flag=True,
              help="Send again, under their own ids, jobs a killed sender left unconfirmed (each runs once).")
@click.option("--json", "as_json", is_flag=True,
              help='Print one JSON object: {"ok", "checks": [{"check", "ok", "level", "detail", "fix"}]}.')
@click.pass_obj
def command(application, timeout, fix, as_json):
    """Check RabbitMQ, the delay topology, the database and workers, and say how to fix what is not right.

    Checks RabbitMQ (reachable, version), quorum queues, Celery's delay levels, that the app's
    queues let RabbitMQ hold delayed jobs (quorum queue, topic exchange), RabbitMQ's
    consumer_timeout (readable when RabbitMQ runs on this machine), the job store and its schema
    version, jobs a killed sender left unconfirmed, and which workers answer. Exits 0 when no check is at error level (warnings are
    shown, not fatal), 1 otherwise.

    \b
    Example:
        schedcli doctor
        schedcli --app myproj.celery:app doctor
        schedcli doctor --json | jq '.checks[] | select(.ok | not)'
    """
    from schedcli.doctor import diagnose, healthy

    checks = diagnose(application.settings, worker_timeout=timeout, fix=fix)
    ok = healthy(checks)
    if as_json:
        import json

        click.echo(json.dumps({"ok": ok, "checks": [check.to_json() for check in checks]}, indent=2))
    else:
        _render(checks)
    if not ok:
        raise SystemExit(1)


def _render(checks) -> None:
    from rich.table import Table
    from rich.text import Text

    from schedcli.cli.rendering import console, safe_text, visible

    out = console()
    # A fix may span lines (settings to copy): its later lines are indented under its item.
    fixes = [(check, check.fix.replace("\n", "\n  ")) for check in checks if check.fix]
    if not out.is_terminal:  # plain columns, one line per check, for grep and logs
        width = max(len(check.check) for check in checks)
        for check in checks:
            click.echo(f"{check.check:<{width}}  {check.level:<7}  {visible(check.detail)}")
        if fixes:
            click.echo("\nTo fix:")
            for check, fix in fixes:
                click.echo(f"- {check.check}: {visible(fix)}")
        return
    table = Table("check", "status", "detail")
    for check in checks:
        table.add_row(check.check, Text(check.level, style=LEVEL_STYLES[check.level]), safe_text(check.detail))
    out.print(table)
    if fixes:
        out.print("To fix:")
        for check, fix in fixes:
            out.print(Text.assemble((f"- {check.check}: ", LEVEL_STYLES[check.level]), safe_text(fix)))
