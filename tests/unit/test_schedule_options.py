"""`--in` / `--at` through a tiny Click command, as every scheduling command uses them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import click
import pytest
from click.testing import CliRunner

from schedcli.cli.application import Application
from schedcli.cli.time_options import schedule_options


@click.command()
@click.argument("name")
@schedule_options
@click.pass_obj
def tiny(application, name, when):
    """Print what the command received."""
    shown = None if when is None else {"countdown": when.countdown, "eta": when.eta.isoformat(), "zone": when.zone_name}
    click.echo(json.dumps({"name": name, "when": shown}))


def run(*args, zone="Europe/Berlin"):
    obj = Application({"timezone": zone}) if zone else None
    return CliRunner().invoke(tiny, ["job", *args], obj=obj, catch_exceptions=False)


def received(result) -> dict | None:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["when"]


@pytest.mark.parametrize("delay, seconds", [
    ("0.5s", 0.5), ("in 2 days", 172800), ("1h30m", 5400), ("1h", 3600), ("+20m", 1200), ("90 minutes", 5400),
])
def test_in_takes_a_delay_and_passes_its_countdown(delay, seconds):
    before = datetime.now(timezone.utc)
    when = received(run("--in", delay))
    assert when["countdown"] == seconds
    eta = datetime.fromisoformat(when["eta"])
    assert before + timedelta(seconds=seconds) <= eta <= datetime.now(timezone.utc) + timedelta(seconds=seconds)


@pytest.mark.parametrize("moment", ["tomorrow 12:00", "friday 9am", "2030-01-01", "14:30"])
def test_in_refuses_an_absolute_time_with_exit_2(moment):
    result = run("--in", moment)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Invalid value for '--in': {moment!r} is not a delay; try '1h', '1h30m' or 'in 2 days'" in result.stderr


def test_at_takes_an_absolute_time_read_in_the_applications_zone():
    when = received(run("--at", "tomorrow 12:00", zone="America/New_York"))
    assert when["countdown"] is None
    assert when["zone"] == "America/New_York"
    eta = datetime.fromisoformat(when["eta"])
    assert (eta.hour, eta.minute) == (12, 0) and eta > datetime.now(timezone.utc)


def test_at_takes_a_relative_expression_too():
    assert received(run("--at", "in 1h"))["countdown"] == 3600


def test_bad_at_is_exit_2_naming_the_option():
    result = run("--at", "tomorrow 25:00")
    assert result.exit_code == 2
    assert "Invalid value for '--at': 'tomorrow 25:00' has no such time of day" in result.stderr


def test_in_and_at_together_are_a_usage_error():
    result = run("--in", "1h", "--at", "tomorrow 12:00")
    assert result.exit_code == 2
    assert "use either --in or --at" in result.stderr


def test_neither_option_passes_none():
    assert received(run()) is None


def test_without_an_application_the_zone_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("SCHEDCLI_TZ", "Asia/Tokyo")
    assert received(run("--at", "tomorrow 9:00", zone=None))["zone"] == "Asia/Tokyo"


def test_help_documents_both_options():
    result = CliRunner().invoke(tiny, ["--help"])
    assert "--in DELAY" in result.output and "--at TIME" in result.output
