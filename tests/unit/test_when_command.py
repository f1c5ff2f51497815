"""`schedcli when`: the human view, the exact --json contract, --now/--tz, and one-line errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from helpers import run_schedcli

NOW = ["--now", "2026-11-25T10:48:00", "--tz", "Europe/Berlin"]


def test_human_view_shows_the_moment_in_the_zone_and_in_utc_and_how_long_until_it(cli_runner):
    result = cli_runner("when", "tomorrow 12:00", *NOW)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "means          a fixed moment (eta)",
        "Europe/Berlin  Thu 2026-11-26 12:00:00 +01:00 CET",
        "UTC            Thu 2026-11-26 11:00:00",
        "when           in 25h 12m",
    ]


def test_human_view_of_a_relative_expression_shows_the_countdown(cli_runner):
    result = cli_runner("when", "in 90m", *NOW)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "means          a countdown of 5400 s",
        "Europe/Berlin  Wed 2026-11-25 12:18:00 +01:00 CET",
        "UTC            Wed 2026-11-25 11:18:00",
        "when           in 1h 30m",
    ]


def test_a_delay_in_calendar_months_is_shown_as_a_fixed_moment_and_says_why(cli_runner):
    result = cli_runner("when", "in 1 month", *NOW)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("means          a fixed moment (eta): months and years are calendar units, "
                        "their length depends on the dates")
    assert "Fri 2026-12-25 10:48:00" in lines[1]
    assert json.loads(cli_runner("when", "in 1 month", *NOW, "--json").stdout)["countdown"] is None


def test_human_view_counts_elapsed_time_across_a_dst_change(cli_runner):
    # Berlin springs forward that night: 25 hours on the wall clock are 24 elapsed
    result = cli_runner("when", "tomorrow 13:00", "--now", "2026-03-28T12:00:00", "--tz", "Europe/Berlin")
    assert result.stdout.splitlines()[-1] == "when           in 24h"


def test_json_of_an_absolute_expression_matches_the_contract_exactly(cli_runner):
    result = cli_runner("when", "friday 9am", "--now", "2026-11-25T10:00:00", "--tz", "Europe/Berlin", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "expression": "friday 9am", "countdown": None, "eta": "2026-11-27T09:00:00+01:00", "timezone": "Europe/Berlin",
    }
    assert result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_json_of_a_relative_expression_gives_the_countdown_and_now_plus_countdown(cli_runner):
    result = cli_runner("when", "in 90m", "--json", *NOW)
    assert json.loads(result.stdout) == {
        "expression": "in 90m", "countdown": 5400.0, "eta": "2026-11-25T12:18:00+01:00", "timezone": "Europe/Berlin",
    }


def test_json_names_the_zone_given_in_the_text(cli_runner):
    result = cli_runner("when", "2026-12-01 08:00 America/New_York", "--json", *NOW)
    data = json.loads(result.stdout)
    assert (data["eta"], data["timezone"]) == ("2026-12-01T08:00:00-05:00", "America/New_York")


def test_without_now_the_current_time_is_used(cli_runner):
    before = datetime.now(timezone.utc)
    result = cli_runner("when", "in 1h", "--json")
    eta = datetime.fromisoformat(json.loads(result.stdout)["eta"])
    assert before + timedelta(hours=1) <= eta <= datetime.now(timezone.utc) + timedelta(hours=1)


def test_now_with_an_offset_is_that_instant_whatever_the_zone(cli_runner):
    result = cli_runner("when", "tomorrow 9am", "--now", "2026-11-25T23:30:00Z", "--tz", "America/New_York", "--json")
    # 23:30 UTC is 18:30 in New York: tomorrow there is 26 November
    assert json.loads(result.stdout)["eta"] == "2026-11-26T09:00:00-05:00"


def test_now_without_an_offset_is_read_in_the_zone(cli_runner):
    result = cli_runner("when", "in 1h", "--now", "2026-11-25T10:00:00", "--tz", "Asia/Tokyo", "--json")
    assert json.loads(result.stdout)["eta"] == "2026-11-25T11:00:00+09:00"


def test_own_tz_overrides_the_global_tz_and_the_environment(cli_runner):
    args = ["when", "tomorrow 9:00", "--now", "2026-11-25T10:00:00+00:00", "--json"]
    own = cli_runner("--tz", "Asia/Tokyo", *args, "--tz", "Europe/Berlin", env={"SCHEDCLI_TZ": "America/New_York"})
    assert json.loads(own.stdout)["timezone"] == "Europe/Berlin"
    global_flag = cli_runner("--tz", "Asia/Tokyo", *args, env={"SCHEDCLI_TZ": "America/New_York"})
    assert json.loads(global_flag.stdout)["timezone"] == "Asia/Tokyo"
    environment = cli_runner(*args, env={"SCHEDCLI_TZ": "America/New_York"})
    assert json.loads(environment.stdout) == {
        "expression": "tomorrow 9:00", "countdown": None, "eta": "2026-11-26T09:00:00-05:00",
        "timezone": "America/New_York",
    }


AT = ["--now", "2026-03-28T10:00:00", "--tz", "Europe/Berlin"]


@pytest.mark.parametrize("args, reason", [
    (["tomorrow 25:00", *AT], "no such time of day"),
    (["xyz", *AT], "cannot read 'xyz' as a time; try"),
    (["today 9:00", *AT], "has already passed"),
    (["in 500 weeks", *AT], "268435455 s"),
    (["2026-03-29 02:30", *AT], "does not exist in Europe/Berlin"),
    (["12:00", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["12:00", "--now", "yesterday"], "--now 'yesterday' is not ISO 8601"),
])
def test_error_is_exit_2_with_one_line_on_stderr_and_nothing_on_stdout(cli_runner, args, reason):
    result = cli_runner("when", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: ") and reason in result.stderr


def test_when_in_a_real_process(tmp_path):
    result = run_schedcli("when", "через 2 часа", "--now", "2026-11-25T10:00:00+01:00", "--tz", "Europe/Berlin",
                          "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "expression": "через 2 часа", "countdown": 7200.0, "eta": "2026-11-25T12:00:00+01:00",
        "timezone": "Europe/Berlin",
    }
    assert result.stderr == ""


def test_error_in_a_real_process_is_one_line_without_traceback():
    result = run_schedcli("when", "Feb 30", "--tz", "UTC")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: 'Feb 30' is not a date of the calendar; try '2026-12-01', 'Dec 24 18:00' or '24 December 2026 6pm'\n"
    )
