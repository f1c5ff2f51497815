"""`schedcli when "every ..."`: a recurrence's next runs, as words and as --json."""

from __future__ import annotations

import json

import pytest


def test_when_every_json_lists_the_next_runs_with_offsets(cli_runner):
    result = cli_runner("when", "every monday 9am", "--now", "2026-10-20T10:00:00", "--tz", "Europe/Berlin",
                        "--count", "3", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "expression": "every monday 9am", "timezone": "Europe/Berlin",
        "recurrence": "At 09:00 on Monday (Europe/Berlin; cron 0 9 * * 1)",
        "next": ["2026-10-26T09:00:00+01:00", "2026-11-02T09:00:00+01:00", "2026-11-09T09:00:00+01:00"],
    }


def test_when_echoes_a_cron_line_in_words(cli_runner):
    result = cli_runner("when", "0 9 * * 1-5", "--now", "2026-11-27T10:00:00+00:00", "--count", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "means  At 09:00 on Monday through Friday (UTC; cron 0 9 * * 1-5)",
        "next   Mon 2026-11-30 09:00:00 +00:00 UTC  (in 2d 23h)",
        "next   Tue 2026-12-01 09:00:00 +00:00 UTC  (in 3d 23h)",
    ]


def test_when_defaults_to_five_runs_and_reads_russian(cli_runner):
    result = cli_runner("when", "каждые 15 минут", "--now", "2026-11-27T10:00:00+00:00", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["next"] == [f"2026-11-27T{10 + m // 60:02d}:{m % 60:02d}:00+00:00"
                                                 for m in (15, 30, 45, 60, 75)]


def test_a_bad_recurrence_is_one_line_and_exit_2(cli_runner):
    result = cli_runner("when", "every blursday 9am")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_one_off_expression_is_unchanged(cli_runner):
    result = cli_runner("when", "in 90m", "--json", "--now", "2026-11-27T10:00:00+00:00")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["countdown"] == 5400


@pytest.mark.parametrize("expression, zone, now, expected", [
    ("every day at 2:30", "Europe/Berlin", "2026-03-28T12:00:00", ["2026-03-29T03:00:00+02:00"]),
    ("every sunday 2:30", "Europe/Berlin", "2026-10-24T12:00:00", ["2026-10-25T02:30:00+02:00"]),
    ("every month on the 8th at 2:30", "America/New_York", "2026-03-01T00:00:00", ["2026-03-08T03:00:00-04:00"]),
    ("30 1 * * 0", "America/New_York", "2026-10-31T12:00:00", ["2026-11-01T01:30:00-04:00"]),
])
def test_when_applies_the_dst_rules_at_the_given_now(cli_runner, expression, zone, now, expected):
    result = cli_runner("when", expression, "--now", now, "--tz", zone, "--count", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["next"] == expected


def test_schedule_show_lists_the_next_runs(cli_runner, database_url):
    from schedcli.store import JobStore, Schedule

    with JobStore.open(database_url) as store:
        store.schedules.add(Schedule(name="weekly", recurrence="every monday 9am", timezone="UTC",
                                     task="schedcli.tasks.echo", args=[1], kwargs={}, queue=None, expires_after=None,
                                     catch_up="last", overlap="allow", start_at=0, until_at=None), False, 0)
    result = cli_runner("schedule", "show", "weekly", "--count", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "weekly"]
    assert lines[1].split(None, 1) == ["recurrence", "every monday 9am: At 09:00 on Monday (UTC; cron 0 9 * * 1)"]
    assert [line.split()[:2] for line in lines if line.startswith("next")] == [["next", "Mon"], ["next", "Mon"]]
