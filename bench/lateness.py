"""Figure 5: how close to the asked time jobs start, on an idle worker of concurrency 2.

Spread: 1,000 jobs due 2-10 s after each is sent; start lateness (started - due) p50/p99/max.
Burst: 10,000 jobs due in the same second: all must start, none early; the time until the last
starts gives the worker's jobs/s. The burst is run BURST_ROUNDS times by each worker and the median
round counts: one round's figure on this noisy 2-core machine moved by more than the gap between
them. schedcli's worker (`schedcli worker start`, jobs held in RabbitMQ's delay queues, lateness
from the store's started_at - eta) against a plain Celery worker with classic ETA handling
(bench/classic_app.py: the worker holds the jobs; the task records its own start), each in a vhost
of its own, one after the other.
"""

from __future__ import annotations

import math
import random
import time

from bench import classic_app
from bench.harness import Bench, Row, Target, celery, percentile, schedcli_worker, vhost, wait_until, worker

TARGET_P99_MS = 50.0
TARGET_BURST_RATIO = 1.0  # the schedcli worker keeps up with plain Celery on the same burst
SPREAD_SECONDS = (2.0, 10.0)
BURST_LEAD_SECONDS = 3.0  # after the burst is sent, until it is due
BURST_ROUNDS = 3
TASK = "schedcli.tasks.echo"


def spread_offsets(count: int) -> list[float]:
    rng = random.Random(5)
    return [rng.uniform(*SPREAD_SECONDS) for _ in range(count)]


def burst_due(now: float, count: int, send_rate: float) -> float:
    """A whole second by which `count` jobs sent at `send_rate` jobs/s are surely sent, with a lead to spare."""
    return float(math.ceil(now + 1.5 * count / send_rate + BURST_LEAD_SECONDS))


def _count(store, sql: str, params=()) -> int:
    return next(iter(store.query(sql, params)))[0]


def schedcli_starts(bench: Bench, spread: int, burst: int) -> tuple[list[tuple], list[list[tuple]]]:
    """(eta, started) of the spread jobs and of each round's burst jobs, run by a schedcli worker."""
    from schedcli.jobs.requests import JobRequest
    from schedcli.jobs.sending import Dispatcher
    from schedcli.settings import resolve_settings
    from schedcli.store import JobStore

    with vhost("timing") as broker_url:
        env = bench.environment(broker_url, bench.store_url("timing"))
        settings = resolve_settings(environ=env, cwd=bench.scratch)
        dispatcher = Dispatcher(settings)
        dispatcher.send([JobRequest(TASK, ["warm-up"])])  # the topology, as a first send or worker declares it
        with schedcli_worker(bench, env), JobStore.open(settings.database_url) as store:
            phases = {}
            send_rate = None
            rounds = [f"burst{number}" for number in range(BURST_ROUNDS)]
            for phase, count in (("spread", spread), *((name, burst) for name in rounds)):
                now = time.time()
                if phase == "spread":
                    etas = [now + offset for offset in spread_offsets(count)]
                else:  # one whole second, due once every job is surely sent
                    etas = [burst_due(now, count, send_rate)] * count
                sending = time.perf_counter()
                results = dispatcher.send([JobRequest(TASK, [phase, n], eta=eta) for n, eta in enumerate(etas)])
                send_rate = count / (time.perf_counter() - sending)
                if not all(result.sent for result in results):
                    raise RuntimeError(f"{phase}: not every job was sent")
                pattern = f'["{phase}",%'
                wait_until(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'SUCCESS' AND args LIKE ?",
                                          (pattern,)) == count,
                           max(etas) - time.time() + 300, f"{count:,} {phase} jobs to run")
                phases[phase] = list(store.query("SELECT eta, started_at FROM jobs WHERE args LIKE ?", (pattern,)))
    return phases["spread"], [phases[name] for name in rounds]


def classic_starts(bench: Bench, spread: int, burst: int) -> tuple[list[tuple], list[list[tuple]]]:
    """(eta, started) of the spread jobs and of each round's burst jobs, run by a plain Celery worker holding
    ETAs."""
    starts_db = str(bench.path("classic-starts")) + ".db"
    with vhost("timing-classic") as broker_url:
        env = bench.environment(broker_url, BENCH_STARTS_DB=starts_db)
        command = celery("-A", "bench.classic_app", "worker", "--concurrency", "2", "--loglevel", "info",
                         "--hostname", "bench-classic@%h")
        with worker(bench, command, env, "classic"):
            offsets = spread_offsets(spread)
            sending = time.perf_counter()
            classic_app.send(broker_url, (time.time() + offset for offset in offsets))
            send_rate = spread / (time.perf_counter() - sending)
            wait_until(lambda: len(classic_app.read_starts(starts_db)) == spread, SPREAD_SECONDS[1] + 120,
                       f"{spread:,} classic spread jobs to run")
            spread_starts = classic_app.read_starts(starts_db)
            bursts = []
            for number in range(1, BURST_ROUNDS + 1):
                burst_eta = burst_due(time.time(), burst, send_rate)
                classic_app.send(broker_url, [burst_eta] * burst)
                wait_until(lambda: len(classic_app.read_starts(starts_db)) == spread + number * burst,
                           burst_eta - time.time() + 300, f"{burst:,} classic burst jobs to run")
                bursts.append([row for row in classic_app.read_starts(starts_db) if row[0] == burst_eta])
    return spread_starts, bursts


def lateness_ms(starts: list[tuple]) -> list[float]:
    return [(started - eta) * 1000 for eta, started in starts]


def until_last_start(starts: list[tuple]) -> float:
    """Seconds from the burst's due time until its last job started."""
    return max(started - eta for eta, started in starts)


def started_early(spread: list[tuple], bursts: list[list[tuple]]) -> int:
    return sum(started < eta for starts in (spread, *bursts) for eta, started in starts)


def median_round(bursts: list[list[tuple]]) -> list[tuple]:
    """The round whose last job started the median time after the burst was due."""
    return sorted(bursts, key=until_last_start)[len(bursts) // 2]


def run(bench: Bench) -> list[Row]:
    spread, burst = bench.size(1000, 200), bench.size(10_000, 1000)
    ours_spread, ours_bursts = schedcli_starts(bench, spread, burst)
    theirs_spread, theirs_bursts = classic_starts(bench, spread, burst)
    ours, theirs = lateness_ms(ours_spread), lateness_ms(theirs_spread)
    label = f"5 lateness, {spread:,} jobs due in 2-10 s"
    baseline = "classic Celery ETA (the worker holds the jobs)"
    rows = [
        Row(f"{label}: p50", percentile(ours, 0.50), percentile(theirs, 0.50), "ms", None, baseline),
        Row(f"{label}: p99", percentile(ours, 0.99), percentile(theirs, 0.99), "ms", Target(TARGET_P99_MS),
            baseline),
        Row(f"{label}: max", max(ours), max(theirs), "ms", None, baseline),
    ]
    ours_burst, theirs_burst = median_round(ours_bursts), median_round(theirs_bursts)
    ours_burst_ms, theirs_burst_ms = lateness_ms(ours_burst), lateness_ms(theirs_burst)
    until_last = until_last_start(ours_burst), until_last_start(theirs_burst)
    rates = "; ".join(f"{who} {', '.join(f'{burst / until_last_start(starts):,.0f}' for starts in bursts)}"
                      for who, bursts in (("schedcli", ours_bursts), ("classic", theirs_bursts)))
    rows += [
        Row(f"5 burst of {burst:,} due in one second: until the last starts", until_last[0], until_last[1], "s",
            None, baseline, note=f"median of {BURST_ROUNDS} rounds; p50 {percentile(ours_burst_ms, 0.5):.0f} "
                                 f"ms vs {percentile(theirs_burst_ms, 0.5):.0f} ms"),
        Row(f"5 burst of {burst:,}: jobs/s", burst / until_last[0], burst / until_last[1], "jobs/s",
            Target(TARGET_BURST_RATIO, at_least=True, on_ratio=True), baseline,
            note=f"median of {BURST_ROUNDS} rounds each (jobs/s by round: {rates})"),
        Row("5 jobs started early (spread and burst)", started_early(ours_spread, ours_bursts),
            started_early(theirs_spread, theirs_bursts), "jobs", Target(0), baseline,
            note="every job started: the figure waits for all of them"),
    ]
    return rows
