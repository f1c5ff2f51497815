"""bench/run: the performance suite prints each figure beside its baseline. No timed assertions here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_RUN = Path(__file__).resolve().parents[2] / "bench" / "run"


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH_RUN), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_quick_startup_figure_prints_the_table_and_writes_json(tmp_path):
    numbers = tmp_path / "bench.json"
    result = run_bench("--quick", "--only", "startup", "--json", str(numbers))
    assert result.returncode in (0, 1), result.stderr  # 1 only says a target was missed
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["figure", "schedcli", "baseline", "ratio", "target", "met"]
    rows = lines[2:lines.index("")]  # the header, a rule, the rows, a blank line, then the notes
    assert len(rows) == 2 and all(row.startswith("1 start-up:") for row in rows)
    for row in rows:
        assert " ms " in row and "x " in row and "ratio <= 0.4" in row
        assert row.rstrip().endswith(("yes", "NO"))
    assert "1 start-up: schedcli --help: baseline celery --help" in result.stdout
    saved = json.loads(numbers.read_text())
    assert [row["figure"] for row in saved["rows"]] == [
        "1 start-up: schedcli --help", "1 start-up: schedcli when 'tomorrow 12:00'"]
    for row in saved["rows"]:
        assert row["schedcli"] > 0 and row["baseline"] > 0 and row["unit"] == "ms"
        assert row["met"] == (row["ratio"] <= 0.4)


def test_unknown_figure_is_a_usage_error_naming_the_known_ones():
    result = run_bench("--only", "startup,warp")
    assert result.returncode == 2
    assert "unknown figure(s) warp; known: startup, send, store, bulk, timing, memory, report, parse" in result.stderr


def test_target_is_met_only_within_its_limit(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_RUN.parent.parent))
    from bench.harness import Row, Target

    fast = Row("x", 40.0, 200.0, "ms", Target(0.4, on_ratio=True))
    slow = Row("x", 90.0, 200.0, "ms", Target(0.4, on_ratio=True))
    assert (fast.ratio, fast.met) == (0.2, True)
    assert slow.met is False
    assert Row("x", 12_000.0, 1_000.0, "jobs/s", Target(10_000, at_least=True)).met is True
    assert Row("x", 3.0, None, "MB", None).met is None


def test_a_note_without_a_baseline_is_printed_alone(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_RUN.parent.parent))
    from bench.harness import Row
    from bench.suite import format_table

    notes = format_table([Row("12 memory", 96.0, None, "bytes", note="of the queues"),
                          Row("1 help", 40.0, 200.0, "ms", None, "celery --help", note="cold")]).splitlines()
    assert notes[-2:] == ["12 memory: of the queues", "1 help: baseline celery --help; cold"]
