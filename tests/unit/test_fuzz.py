"""Fuzzing what people type: time expressions through `schedcli when`, arguments through `call`. Whatever the
text, the answer is a result or a one-line usage error (exit 2), never a traceback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import free_port
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schedcli.cli import cli
from schedcli.exceptions import BadInput

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Pieces of the time language, so that examples come near the grammar as well as far from it.
TIME_WORDS = ["in", "at", "on", "next", "now", "today", "tomorrow", "day after tomorrow", "noon", "midnight", "friday",
              "thu", "Dec", "24", "December", "2026", "2026-12-01", "T08:00:00", "+01:00", "Z", "UTC", "14:30", "9",
              "9am", "12pm", "13pm", "25:00", "0.5", "1.5h", "90", "minutes", "m", "h", "d", "w", "s", "an", "hour",
              "+20m", "-5m", "ago", "Europe/Berlin", "America/New_York", "Mars/Olympus", "CEST", "через", "часа",
              "завтра", "в", "пятницу", "утра", "полчаса", "Feb 29", "Feb 30", "2026-03-29 02:30", ",", ":", "/",
              "268435455s", "1e9", "nan", "inf", "\x1b[2J", "\n", "\t", "\u202e", "0", "-0", "99999999999999999999"]
time_texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(TIME_WORDS), max_size=6).map(" ".join),
    st.lists(st.sampled_from(TIME_WORDS), max_size=6).map("".join),
)


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


def refused_in_one_line(result) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr


@FUZZ
@given(expression=time_texts, zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]))
@example(expression="in 268435455s", zone="UTC")
@example(expression="2026-03-29 02:30", zone="Europe/Berlin")
@example(expression="\x00", zone="UTC")
def test_when_reads_any_text_as_a_moment_or_refuses_it_in_one_line(expression, zone):
    result = CliRunner().invoke(cli, ["when", "--now", "2026-11-25T10:00:00", "--tz", zone, "--json", "--",
                                      expression])
    no_traceback(result)
    if result.exit_code == 0:
        assert set(json.loads(result.stdout)) == {"expression", "countdown", "eta", "timezone"}
    else:
        refused_in_one_line(result)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)
argument_texts = st.one_of(st.text(max_size=30), json_values.map(json.dumps),
                           st.sampled_from(["[" * 100_000 + "]" * 100_000, '{"a": ' * 5000 + "1" + "}" * 5000,
                                            "1" * 5000, "NaN", "-Infinity", "1e999", '"\\ud800"', "[1,]"]))
keys = st.none() | st.text(max_size=210)


@FUZZ
@given(task_args=st.lists(argument_texts, max_size=3), args_json=st.none() | argument_texts,
       kwargs_json=st.none() | argument_texts, key=keys)
def test_call_arguments_become_a_job_request_or_bad_input(task_args, args_json, kwargs_json, key):
    from schedcli.jobs.requests import arguments, job_request, read_arg

    for text in task_args:
        read_arg(text)  # never fails: what is not JSON is a plain string
    try:
        args, kwargs = arguments(task_args, args_json, kwargs_json)
        request = job_request("schedcli.tasks.echo", args, kwargs, key=key)
    except BadInput as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert (request.args, request.kwargs, request.key) == (args, kwargs, key)
    json.dumps([request.args, request.kwargs])  # what the publisher will send


@pytest.fixture(scope="module")
def broker_down():
    return f"amqp://guest:guest@127.0.0.1:{free_port()}//"


@FUZZ
@given(task_args=st.lists(argument_texts, max_size=3), args_json=st.none() | argument_texts,
       kwargs_json=st.none() | argument_texts, key=keys)
def test_call_with_any_arguments_is_bad_usage_or_reaches_the_broker(broker_down, database_url, task_args, args_json,
                                                                    kwargs_json, key):
    """Against a broker that is down: arguments the core refuses are exit 2; the others get as far as RabbitMQ
    (exit 69). Nothing else, never a traceback."""
    from schedcli.jobs.requests import arguments, job_request

    try:
        job_request("schedcli.tasks.echo", *arguments(task_args, args_json, kwargs_json), key=key)
        expected = 69
    except BadInput:
        expected = 2
    options = [f"--args={args_json}"] * (args_json is not None) + [f"--kwargs={kwargs_json}"] * (
        kwargs_json is not None) + [f"--key={key}"] * (key is not None)
    result = CliRunner().invoke(cli, ["--broker", broker_down, "call", "schedcli.tasks.echo", *options, "--",
                                      *task_args])
    no_traceback(result)
    assert result.exit_code == expected, result.output
    if expected == 2:
        refused_in_one_line(result)
