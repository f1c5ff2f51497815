"""Figure 1: how fast a person gets the prompt back: `schedcli --help` and `schedcli when` against `celery --help`."""

from __future__ import annotations

from bench.harness import Bench, Row, Target, celery, schedcli

TARGET_RATIO = 0.4


def run(bench: Bench) -> list[Row]:
    times = bench.median_times({
        "help": schedcli("--help"),
        "when": schedcli("when", "tomorrow 12:00"),
        "celery": celery("--help"),
    }, repeats=bench.size(15, 5))
    target = Target(TARGET_RATIO, on_ratio=True)
    return [
        Row("1 start-up: schedcli --help", times["help"] * 1000, times["celery"] * 1000, "ms", target,
            "celery --help"),
        Row("1 start-up: schedcli when 'tomorrow 12:00'", times["when"] * 1000, times["celery"] * 1000, "ms",
            target, "celery --help"),
    ]
