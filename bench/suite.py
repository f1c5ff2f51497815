"""Run the figures of issue 7 and print each beside its baseline from the same run.

    bench/run [--quick] [--only startup,send,...] [--json FILE] [--no-write-docs]

Needs RabbitMQ on 127.0.0.1:5672 (guest/guest, or SCHEDCLI_BENCH_BROKER_URL) and `rabbitmqctl`:
each figure that crosses the broker gets a vhost of its own, deleted after. Exits 0 when every
target is met, 1 otherwise.

A full run (every figure, not --quick) also writes its table, the machine and the date into
docs/performance.md, between the markers FIGURES_START and FIGURES_END; the hand-written text
around them is kept. --no-write-docs leaves the file alone; --quick and --only never touch it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench import bulk, lateness, memory, million, prune_bench, schedules_topup, serve_bench, single_send, startup, store_reads
from bench.harness import REPO, Bench, Row, Target, rabbitmqctl, scratch_folder

PARSE_TARGET_US = 1000.0
REPORT_TARGET_SECONDS = 60.0
REPORT_TARGET_MB = 200.0

PERFORMANCE_DOC = REPO / "docs" / "performance.md"
FIGURES_START = "<!-- figures: written by bench/run after a full run; edit outside these markers -->"
FIGURES_END = "<!-- end of figures -->"


def report_figure(bench: Bench) -> list[Row]:
    """Figure 7: the report job over 1,000,000 rows (bench/report_bench.py), against a bare read of them."""
    from bench.report_bench import measure

    rows = bench.size(1_000_000, 100_000)
    m = measure(rows)
    label = f"7 report over {rows:,} rows"
    return [
        Row(f"{label}: seconds", m["report_seconds"], m["baseline_seconds"], "s", Target(REPORT_TARGET_SECONDS),
            "bare read of the rows"),
        Row(f"{label}: peak RSS", m["report_peak_rss_mb"], m["baseline_peak_rss_mb"], "MB",
            Target(REPORT_TARGET_MB), "bare read of the rows"),
    ]


def parse_figure(bench: Bench) -> list[Row]:
    """Figure 8: what reading a time expression costs (bench/timeparse_bench.py), against dateutil's parse."""
    from bench.timeparse_bench import measure

    baseline, *expressions = measure()
    slowest = max(expressions, key=lambda row: row["median_us"])
    return [Row("8 parse a time expression (slowest)", slowest["median_us"], baseline["median_us"], "µs",
                Target(PARSE_TARGET_US), "dateutil parse of an ISO date", note=repr(slowest["name"]))]


FIGURES = {
    "startup": startup.run,
    "send": single_send.run,
    "store": store_reads.run,
    "bulk": bulk.run,
    "timing": lateness.run,
    "memory": memory.run,
    "report": report_figure,
    "parse": parse_figure,
    "schedules": schedules_topup.run,
    "prune": prune_bench.run,
    "serve": serve_bench.run,
    "million": million.run,
}


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def _notes(row: Row, baseline_label: str) -> str:
    """What the row's baseline is, then its note, either left out when empty."""
    return "; ".join(filter(None, [baseline_label + row.baseline_name if row.baseline_name else "", row.note]))


def format_table(rows: list[Row]) -> str:
    """The table, then what each baseline is and any notes."""
    header = ("figure", "schedcli", "baseline", "ratio", "target", "met")
    lines = [header]
    for row in rows:
        met = "-" if row.met is None else "yes" if row.met else "NO"
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        lines.append((row.figure, _number(row.schedcli, row.unit), _number(row.baseline, row.unit), ratio,
                      row.target.describe(row.unit) if row.target else "-", met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))
            for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"{row.figure}: {_notes(row, 'baseline ')}" for row in rows if row.baseline_name or row.note]
    return "\n".join(text + [""] + notes)


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "-"


def machine() -> dict[str, str]:
    """Where the figures were measured: cores, CPU model, operating system, Python, RabbitMQ."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:  # cheap: one rabbitmqctl call; the run needs rabbitmqctl anyway
        rabbitmq = subprocess.run(["rabbitmqctl", "-q", "version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        rabbitmq = "unknown"
    return {"cores": str(os.cpu_count() or "unknown"), "cpu": cpu or "unknown",
            "os": platform.platform(terse=True), "python": platform.python_version(), "rabbitmq": rabbitmq}


def figures_markdown(rows: list[Row], *, when: datetime, seconds: float, host: dict[str, str],
                     errors: dict[str, list[str]] | None = None) -> str:
    """The section of docs/performance.md that a full run writes: its date, the machine, the table."""
    lines = [
        f"Last full run: {when:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s, written by `bench/run`.",
        "",
        f"Machine: {host['cores']} cores ({host['cpu']}), {host['os']}, Python {host['python']}, "
        f"RabbitMQ {host['rabbitmq']}.",
        "",
        "| figure | schedcli | baseline | ratio | target | met | notes |",
        "|---|--:|--:|--:|--:|:-:|---|",
    ]
    for row in rows:
        met = "-" if row.met is None else "yes" if row.met else "**NO**"
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        cells = [row.figure, _number(row.schedcli, row.unit), _number(row.baseline, row.unit), ratio,
                 row.target.describe(row.unit) if row.target else "-", met, _notes(row, "baseline: ")]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    for name, reasons in (errors or {}).items():
        outcome = "FAILED" if len(reasons) == 2 else "measured on a second try"
        lines += ["", f"Figure `{name}` {outcome}: {_cell(' / '.join(reasons))}"]
    return "\n".join(lines)


def write_figures(section: str, path: Path = PERFORMANCE_DOC) -> None:
    """Replace what lies between the markers of `path` with `section`; the rest of the file is kept."""
    text = path.read_text(encoding="utf-8")
    try:
        start = text.index(FIGURES_START) + len(FIGURES_START)
        end = text.index(FIGURES_END, start)
    except ValueError:
        raise ValueError(f"{path} lacks the markers {FIGURES_START!r} and {FIGURES_END!r}") from None
    path.write_text(text[:start] + "\n\n" + section.strip("\n") + "\n\n" + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts and fewer repeats (about 3 minutes)")
    parser.add_argument("--only", metavar="NAMES", help=f"comma-separated figures: {','.join(FIGURES)}")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the numbers as JSON to FILE")
    parser.add_argument("--no-write-docs", action="store_true",
                        help="do not write the figures into docs/performance.md (only full runs ever do)")
    args = parser.parse_args(argv)
    names = list(FIGURES) if not args.only else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")

    rows: list[Row] = []
    errors: dict[str, list[str]] = {}
    timings: dict[str, float] = {}
    started = time.monotonic()
    with scratch_folder() as scratch:
        bench = Bench(args.quick, Path(scratch))
        for name in names:
            bench.log(f"[bench] {name} ...")
            figure_started = time.monotonic()
            # The broker is shared and may restart under a figure: a figure that fails gets one more try once
            # RabbitMQ answers again, and the table says so.
            for attempt in range(2):
                try:
                    if attempt:
                        rabbitmqctl("await_startup")
                    rows += FIGURES[name](bench)
                    break
                except Exception as exc:  # one broken figure must not hide the others
                    bench.log(traceback.format_exc())
                    errors.setdefault(name, []).append(f"{type(exc).__name__}: {exc}")
            timings[name] = time.monotonic() - figure_started
            bench.log(f"[bench] {name} done in {timings[name]:.0f} s")

    print(format_table(rows))
    failures = {name: reasons for name, reasons in errors.items() if len(reasons) == 2}
    for name, reasons in errors.items():
        print(f"{name}: {'FAILED' if name in failures else 'measured on a second try'}: {' / '.join(reasons)}")
    total = time.monotonic() - started
    finished = datetime.now(timezone.utc)
    print(f"({'quick' if args.quick else 'full'} run, {total:.0f} s, {platform.python_version()}, "
          f"{finished:%Y-%m-%d %H:%M} UTC)")
    if not args.quick and names == list(FIGURES) and not args.no_write_docs:
        write_figures(figures_markdown(rows, when=finished, seconds=total, host=machine(), errors=errors))
        print(f"(figures written to {PERFORMANCE_DOC.relative_to(REPO)})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "quick": args.quick, "seconds": total, "figure_seconds": timings, "errors": errors,
            "rows": [row.to_json() for row in rows],
        }, indent=2, ensure_ascii=False) + "\n")
    return 0 if not failures and all(row.met is not False for row in rows) else 1
