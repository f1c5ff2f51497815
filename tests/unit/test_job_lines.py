"""Reading a bulk file's lines into job requests (`call --from-file`): times parsed once per distinct text."""

from __future__ import annotations

import json

import pytest

from schedcli.jobs import requests
from schedcli.jobs.requests import read_job_lines

NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def read(*specs: dict) -> list[tuple[int, object, str | None]]:
    return list(read_job_lines([json.dumps(spec) for spec in specs], "schedcli.tasks.echo", "UTC", now=NOW))


def test_lines_with_the_same_time_text_are_due_at_the_same_time():
    read_lines = read(*({"args": [n], "in": "90s"} for n in range(3)), {"args": [3], "in": "2m"})
    assert [request.eta for _, request, _ in read_lines] == [NOW + 90] * 3 + [NOW + 120]
    assert [request.args for _, request, _ in read_lines] == [[0], [1], [2], [3]]


def test_a_text_read_as_at_is_still_refused_as_in():
    (_, at_request, _), (number, in_request, problem) = read({"at": "2027-01-16 12:00"}, {"in": "2027-01-16 12:00"})
    assert at_request.eta == NOW + 28 * 3600
    assert (number, in_request) == (2, None) and problem


def test_past_the_number_of_texts_kept_every_time_is_still_right(monkeypatch):
    monkeypatch.setattr(requests, "PARSED_TIMES_KEPT", 3)
    delays = [5, 6, 7, 8, 5, 9, 6]
    read_lines = read(*({"in": f"{delay}s"} for delay in delays))
    assert [request.eta for _, request, _ in read_lines] == [NOW + delay for delay in delays]


@pytest.mark.parametrize("spec", [{"in": "soon"}, {"in": "2027-01-16 12:00"}])
def test_a_bad_time_is_reported_on_every_line_that_has_it(spec):
    assert [(number, request) for number, request, _ in read(spec, spec)] == [(1, None), (2, None)]


@pytest.mark.parametrize("text", ['{"args": [1], "in": "1h"}\n', '  {"args": [1]}', '[1, 2]\r\n', '{"a": 1} x',
                                  '{"a": 1}\x0b', '{"a":', "nul", "", '"\\ud800"', "1e400", "NaN", '{"a": 1}{}'])
def test_a_line_is_read_as_json_loads_reads_it_with_its_error(text):
    """`requests.loads` calls json's scanner itself (the bulk send's hot path): same values, same errors."""
    try:
        expected = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            requests.loads(text)
        assert str(raised.value) == str(exc)
    else:
        assert repr(requests.loads(text)) == repr(expected)


def test_json_nested_deeper_than_python_goes_is_bad_json():
    with pytest.raises(ValueError, match="nested too deeply"):
        requests.loads("[" * 100_000)


@pytest.mark.parametrize("value", [[1, "é", {"a": [1.5, None, True]}], {}, ['x"\\\n\t'], [float("nan"), 1e400],
                                   {"k": "\U0001d11e"}, {"b": 1, "a": 2}])
def test_args_are_encoded_as_json_dumps_encodes_them(value):
    assert requests.check_payload([value], {}) == (json.dumps([value], ensure_ascii=False), "{}")
