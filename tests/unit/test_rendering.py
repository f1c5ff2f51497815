"""How `status` and `list` draw jobs: exact plain text, untrusted job data never read as markup or
terminal codes, plain output when not a terminal or NO_COLOR, long values cut in tables only."""

from __future__ import annotations

import json
import re

import pytest
from helpers import make_job

from schedcli.cli.rendering import render_job, render_job_table, render_outcome
from schedcli.store import RESULT_LIMIT, TRUNCATED, Job, capped_result

NOW = 1_800_000_000.0  # Fri 15 Jan 2027 11:00:00 MSK
ZONE = "Europe/Moscow"
HOSTILE = "no [red]x[/red] \x1b[2J"


def failed_job() -> Job:
    traceback = ('Traceback (most recent call last):\n  File "hookproj.py", line 27, in boom\n'
                 '    raise ValueError(message)\nValueError: no [red]x[/red] \x1b[2J\n')
    return make_job(state="FAILURE", started_at=NOW + 90000.25, finished_at=NOW + 90001.75, worker="w0@box",
                    error={"type": "ValueError", "message": HOSTILE, "traceback": traceback})


def test_a_failed_job_shows_its_error_and_traceback_literally(capsys):
    render_job(failed_job(), ZONE, now=NOW + 90010)
    assert capsys.readouterr().out == (
        'id        3f2c9a1e-6d1b-4f0e-9c7a-2b5d8e1f0a3c\n'
        'state     FAILURE\n'
        'call      hookproj.boom("no [red]x[/red] \\u001b[2J")\n'
        'due       Sat 16 Jan 12:00:00 MSK\n'
        'sent      Fri 15 Jan 10:59:00 MSK\n'
        'started   Sat 16 Jan 12:00:00 MSK (250.0 ms late)\n'
        'finished  Sat 16 Jan 12:00:01 MSK\n'
        'runtime   1.50 s\n'
        'worker    w0@box\n'
        'queue     hookproj\n'
        'app       hookproj:app\n'
        'error     ValueError: no [red]x[/red] \\x1b[2J\n'
        'traceback:\n'
        'Traceback (most recent call last):\n'
        '  File "hookproj.py", line 27, in boom\n'
        '    raise ValueError(message)\n'
        'ValueError: no [red]x[/red] \\x1b[2J\n'
    )


def test_a_scheduled_job_shows_when_it_is_due_in_the_users_zone(capsys):
    job = make_job(task="hookproj.add", args=[2, 3], kwargs={"note": "hi"}, key="launch",
                   expires=NOW + 93600)
    render_job(job, ZONE, now=NOW)
    assert capsys.readouterr().out == (
        'id       3f2c9a1e-6d1b-4f0e-9c7a-2b5d8e1f0a3c\n'
        'state    SCHEDULED\n'
        'call     hookproj.add(2, 3, note="hi")\n'
        'due      Sat 16 Jan 12:00:00 MSK (in 25h)\n'
        'sent     Fri 15 Jan 10:59:00 MSK\n'
        'expires  Sat 16 Jan 13:00:00 MSK\n'
        'key      launch\n'
        'queue    hookproj\n'
        'app      hookproj:app\n'
    )


def test_a_succeeded_job_shows_its_result_as_pretty_json_whole(capsys):
    long_text = "y" * 500
    job = make_job(state="SUCCESS", eta=None, started_at=NOW - 59.99, finished_at=NOW - 59.5, worker="w0@box",
                   result={"markup": "[red]x[/red]", "clear": "\x1b[2J", "long": long_text},
                   rescheduled_from="0b4d1c2e-0000-4000-8000-000000000000")
    render_job(job, ZONE, now=NOW)
    out = capsys.readouterr().out
    assert out.endswith(
        'rescheduled from  0b4d1c2e-0000-4000-8000-000000000000\n'
        'result:\n'
        '{\n'
        '  "markup": "[red]x[/red]",\n'
        '  "clear": "\\u001b[2J",\n'
        f'  "long": "{long_text}"\n'
        '}\n'
    )
    assert 'due               at once\n' in out
    assert 'started           Fri 15 Jan 10:59:00 MSK (10.0 ms late)\n' in out


def test_a_waited_for_result_and_traceback_are_never_cut_at_the_terminal_width(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "40")
    long_path = "/reports/" + "y" * 100 + ".csv"
    render_outcome(make_job(state="SUCCESS", result={"paths": [long_path]}))
    assert json.loads(capsys.readouterr().out) == {"paths": [long_path]}
    render_outcome(make_job(state="FAILURE", error={"type": "OSError", "message": long_path, "traceback": long_path}))
    assert capsys.readouterr().err == f"FAILURE\nOSError: {long_path}\n{long_path}\n"


def test_a_queued_job_says_how_long_it_has_waited(capsys):
    render_job(make_job(state="QUEUED", eta=None), ZONE, now=NOW)
    out = capsys.readouterr().out
    assert 'due    at once\nsent   Fri 15 Jan 10:59:00 MSK (1m ago)\n' in out


def test_a_running_job_shows_its_progress_and_a_retried_one_its_next_try(capsys):
    running = make_job(state="PROGRESS", eta=None, started_at=NOW - 30, worker="w1@box",
                       progress={"current": 1, "total": 4, "step": "[bold]rows\x1b[2J"})
    render_job(running, ZONE, now=NOW)
    out = capsys.readouterr().out
    assert 'runtime   30.00 s so far\n' in out
    assert 'progress  1/4 (25%) [bold]rows\\x1b[2J\n' in out
    retrying = make_job(state="RETRY", eta=None, started_at=NOW - 2, retries=1, next_retry_at=NOW + 5,
                        error={"type": "OSError", "message": "not yet", "traceback": None})
    render_job(retrying, ZONE, now=NOW)
    out = capsys.readouterr().out
    assert 'retries  1, next try Fri 15 Jan 11:00:05 MSK (in 5s)\n' in out
    assert 'error    OSError: not yet\n' in out


def test_a_cut_result_says_it_shows_the_start_only(capsys):
    import json

    result = json.loads(capped_result("z" * (RESULT_LIMIT * 2)))
    assert result[TRUNCATED]
    render_job(make_job(state="SUCCESS", eta=None, started_at=NOW, finished_at=NOW + 1, result=result), ZONE,
               now=NOW)
    out = capsys.readouterr().out
    assert f"result (its start only: the whole was {RESULT_LIMIT * 2 + 2} bytes of JSON):\n\"zzz" in out


def table_jobs() -> list[Job]:
    return [
        make_job(id="aaaaaaaa-1111-4000-8000-000000000001", task="hookproj.add", args=[2, 3], state="SCHEDULED",
                 eta=NOW + 3600),
        make_job(id="bbbbbbbb-2222-4000-8000-000000000002", args=[HOSTILE, "w" * 80], state="FAILURE",
                 started_at=NOW - 10, finished_at=NOW - 8.5, eta=None, task="x\nevil[red]task[/red]"),
    ]


def test_the_table_shortens_long_values_and_shows_data_literally(capsys):
    render_job_table(table_jobs(), ZONE, now=NOW)
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        'id        task                    args                                      state      '
        'when (Europe/Moscow)     runtime',
        'aaaaaaaa  hookproj.add            2, 3                                      SCHEDULED  '
        '15 Jan 12:00:00 (in 1h)',
        'bbbbbbbb  x\\nevil[red]task[/red]  "no [red]x[/red] \\u001b[2J", "wwwwwwwww…  FAILURE    '
        '15 Jan 10:59:51           1.50 s',
    ]


def test_no_jobs_is_said_on_stderr_and_stdout_stays_empty(capsys):
    render_job_table([], ZONE, now=NOW)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "No jobs.\n")


@pytest.fixture
def terminal(monkeypatch):
    """stdout counts as a colour terminal."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")


def test_on_a_terminal_job_data_is_neither_markup_nor_terminal_codes(terminal, capsys):
    render_job(failed_job(), ZONE, now=NOW + 90010)
    out = capsys.readouterr().out
    assert "\u256d" in out and "\x1b[" in out  # a panel, in colour
    codes = set(re.findall(r"\x1b\[[0-9;]*[A-Za-z]", out))
    assert all(code.endswith("m") for code in codes), codes  # colours only: nothing clears or moves
    text = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "ValueError: no [red]x[/red] \\x1b[2J" in text
    assert "\x1b[31mx" not in out


def test_with_no_color_a_terminal_gets_plain_text_without_boxes(monkeypatch, capsys):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    render_job(failed_job(), ZONE, now=NOW + 90010)
    render_job_table(table_jobs(), ZONE, now=NOW)
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert not re.search("[\u2500-\u257f]", out), out  # no box-drawing characters
    assert out.startswith("id        3f2c9a1e-6d1b-4f0e-9c7a-2b5d8e1f0a3c\nstate     FAILURE\n")
