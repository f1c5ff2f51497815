"""Figure 9: topping up recurring schedules, and a worker's memory as their number grows.

schedcli: 1,000 schedules (`every 15m`, starts spread over 15 minutes) in a fresh store, topped up
once through `schedcli.schedules.topup.top_up` against the real RabbitMQ: each sends its next one
or two occurrences. Baseline, in the same run: `Dispatcher.send` of as many plain jobs with an eta,
the send path a top-up adds its reading and planning to. Then a second top-up with nothing due.

Memory: a `schedcli worker start` (top-up every second) with 100 schedules, then with 5,000: its
RSS (main and pool processes) once each set is topped up. The top-up reads schedules a page at a
time, so the worker holds none of them between top-ups.

Standalone: `python -m bench.schedules_topup [--quick]` (RabbitMQ at SCHEDCLI_BENCH_BROKER_URL).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid

from bench.harness import Bench, Row, Target, schedcli, scratch_folder, vhost, wait_until, worker

SCHEDULES = 1000
TARGET_SECONDS = 1.0
TARGET_GROWTH_MB = 10.0


def add_schedules(database_url: str, count: int, now: float, prefix: str = "s") -> None:
    """`count` schedules `every 15m`, their first runs spread over the next 15 minutes, recorded directly."""
    from schedcli.store import JobStore, Schedule

    with JobStore.open(database_url) as store:
        for n in range(count):
            store.schedules.add(Schedule(
                name=f"{prefix}{n:05d}", recurrence="every 15m", timezone="UTC", task="schedcli.tasks.echo",
                args=[n], kwargs={}, queue=None, expires_after=None, catch_up="last", overlap="allow",
                start_at=int(now) + 60 + n % 900, until_at=None), replace=False, now=now)


def untopped(database_url: str) -> int:
    from schedcli.store import JobStore

    with JobStore.open(database_url) as store:
        [(count,)] = list(store.query("SELECT COUNT(*) FROM schedules WHERE sent_until IS NULL"))
    return count


def top_up_figures(bench: Bench, broker_url: str) -> tuple[float, float, float, int]:
    """(first top-up s, steady top-up s, baseline send s, occurrences sent)."""
    from schedcli.jobs.requests import JobRequest
    from schedcli.jobs.sending import Dispatcher
    from schedcli.schedules.topup import top_up
    from schedcli.settings import resolve_settings

    database_url = bench.store_url("topup")
    settings = resolve_settings({"broker_url": broker_url, "database_url": database_url}, environ=bench.env)
    now = time.time()
    add_schedules(database_url, SCHEDULES, now)
    # The first send into a fresh vhost declares Celery's delay topology: done once here, for neither side.
    Dispatcher(settings).send([JobRequest("schedcli.tasks.echo", ["warm-up"], {}, eta=now + 3600)])
    started = time.perf_counter()
    summary = top_up(settings)
    first = time.perf_counter() - started
    if summary.problems or summary.schedules != SCHEDULES:
        raise RuntimeError(f"top-up: {summary}")
    steady = []
    for _ in range(bench.size(5, 3)):
        started = time.perf_counter()
        top_up(settings)
        steady.append(time.perf_counter() - started)
    plain = [JobRequest("schedcli.tasks.echo", [n], {}, eta=now + 600 + n % 900) for n in range(summary.sent)]
    baseline_settings = resolve_settings({"broker_url": broker_url, "database_url": bench.store_url("plain")},
                                         environ=bench.env)
    started = time.perf_counter()
    Dispatcher(baseline_settings).send(plain)
    baseline = time.perf_counter() - started
    return first, statistics.median(steady), baseline, summary.sent


def worker_memory(bench: Bench, broker_url: str) -> tuple[float, float]:
    """(RSS MB with 100 schedules, RSS MB with 5,000) of a worker topping up every second."""
    database_url = bench.store_url("worker")
    env = bench.environment(broker_url=broker_url, database_url=database_url)
    now = time.time()
    add_schedules(database_url, 100, now, prefix="a")
    command = schedcli("worker", "start", "--concurrency", "1", "--top-up-every", "1",
                       "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h")
    with worker(bench, command, env, "schedules") as process:
        wait_until(lambda: untopped(database_url) == 0, 60, "100 schedules topped up")
        time.sleep(3)  # a few more top-ups with nothing due: the figure is the worker at rest
        small = rss_at_rest(process)
        add_schedules(database_url, bench.size(4900, 1900), now, prefix="b")
        wait_until(lambda: untopped(database_url) == 0, 120, "all schedules topped up")
        time.sleep(3)
        large = rss_at_rest(process)
    return small, large


def rss_at_rest(process) -> float:
    """The highest of four RSS samples over a second."""
    samples = []
    for _ in range(4):
        samples.append(process.rss_mb())
        time.sleep(0.25)
    return max(samples)


def run(bench: Bench) -> list[Row]:
    with vhost("schedules") as broker_url:
        first, steady, baseline, sent = top_up_figures(bench, broker_url)
        small, large = worker_memory(bench, broker_url)
    total = 100 + bench.size(4900, 1900)
    return [
        Row(f"9 top up {SCHEDULES:,} schedules", first, baseline, "s", Target(TARGET_SECONDS),
            f"Dispatcher.send of {sent:,} plain jobs", note=f"{sent:,} occurrences sent"),
        Row(f"9 top up {SCHEDULES:,} schedules, nothing due", steady, None, "s", Target(TARGET_SECONDS)),
        Row(f"9 worker RSS growth, 100 -> {total:,} schedules", large - small, small, "MB",
            Target(TARGET_GROWTH_MB), "RSS with 100 schedules"),
    ]


def main(argv: list[str]) -> int:
    from pathlib import Path

    from bench.suite import format_table

    with scratch_folder() as scratch:
        rows = run(Bench("--quick" in argv, Path(scratch)))
    print(format_table(rows))
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
