"""Figure 6: a worker's memory, and what it holds, with 100,000 jobs scheduled an hour ahead.

schedcli: an idle `schedcli worker start` (concurrency 2); 100,000 jobs due in 1-2 h are sent with
`call --from-file`; the worker's RSS (its main process and pool processes, VmRSS) before and after,
and RabbitMQ's count of messages it holds unacknowledged. Baseline: a plain Celery worker with
classic ETA handling (bench/classic_app.py) and 5,000 jobs due in an hour, which it pulls into its
own memory: measured once it holds them all, or at a time limit (it pulls slowly once the sender
stops, so the note says how many it held).
"""

from __future__ import annotations

import statistics
import time

from bench import classic_app
from bench.bulk import write_jobs_file
from bench.harness import (Bench, Row, Target, celery, delayed_count, queue_counts, schedcli, schedcli_worker, vhost,
                           wait_until, worker)

TARGET_GROWTH_MB = 10.0
CONCURRENCY = 2
SETTLE_SECONDS = 10.0  # sampled after the send: the highest RSS counts


def rss_samples(process, seconds: float) -> list[float]:
    """The worker's RSS (MB), sampled four times a second for `seconds`."""
    samples = []
    deadline = time.monotonic() + seconds
    while True:
        samples.append(process.rss_mb())
        if time.monotonic() >= deadline:
            return samples
        time.sleep(0.25)


def schedcli_growth(bench: Bench, count: int) -> tuple[float, int, float]:
    """(RSS growth MB, unacknowledged, RSS before MB) of a schedcli worker once `count` jobs wait an hour ahead."""
    jobs_file = bench.path("memory-jobs").with_suffix(".jsonl")
    write_jobs_file(jobs_file, count)
    with vhost("memory") as broker_url:
        env = bench.environment(broker_url, bench.store_url("memory"))
        with schedcli_worker(bench, env, CONCURRENCY) as process:
            before = statistics.median(rss_samples(process, 3))
            with open(jobs_file) as stdin:
                bench.run(schedcli("call", "schedcli.tasks.echo", "--from-file", "-", "-q"), env, stdin=stdin)
            wait_until(lambda: delayed_count(broker_url) == count, 60, f"all {count:,} jobs in the delay queues")
            after = max(rss_samples(process, SETTLE_SECONDS))
            unacked = queue_counts(broker_url)["schedcli"][1]
    return after - before, unacked, before


def classic_growth(bench: Bench, count: int, limit_seconds: float) -> tuple[float, int, int, float]:
    """(RSS growth MB, unacknowledged, jobs held, RSS before MB) of a classic Celery worker given `count` jobs."""
    with vhost("memory-classic") as broker_url:
        env = bench.environment(broker_url)
        command = celery("-A", "bench.classic_app", "worker", "--concurrency", "2", "--loglevel", "info",
                         "--hostname", "bench-classic@%h")
        with worker(bench, command, env, "classic") as process:
            before = statistics.median(rss_samples(process, 3))
            classic_app.send(broker_url, [time.time() + 3600] * count)

            def held():
                return process.log.count("] received")

            try:
                wait_until(lambda: held() >= count, limit_seconds, "the classic worker to hold every job", 1.0)
            except RuntimeError:
                pass  # it keeps pulling slowly; its growth so far is the figure
            after = max(rss_samples(process, 1))
            unacked = queue_counts(broker_url)[classic_app.QUEUE][1]
            return after - before, unacked, held(), before


def prefetch_bound(bench: Bench) -> tuple[int, int]:
    """(messages a schedcli worker of CONCURRENCY may hold unacknowledged, its prefetch multiplier)."""
    from schedcli.app import scheduler_config
    from schedcli.settings import resolve_settings

    multiplier = scheduler_config(resolve_settings(environ=bench.env, cwd=bench.scratch))["worker_prefetch_multiplier"]
    return CONCURRENCY * multiplier, multiplier


def run(bench: Bench) -> list[Row]:
    count, classic_count = bench.size(100_000, 10_000), bench.size(5000, 1000)
    bound, multiplier = prefetch_bound(bench)
    ours, ours_unacked, ours_before = schedcli_growth(bench, count)
    theirs, theirs_unacked, theirs_held, theirs_before = classic_growth(bench, classic_count, bench.size(180, 40))
    baseline = f"classic Celery ETA, {classic_count:,} jobs due in 1 h"
    per_job = f"{theirs * 1024 / theirs_held:.1f} KiB a job" if theirs_held else "none held"
    return [
        Row(f"6 worker RSS growth, {count:,} jobs due in 1-2 h", ours, theirs, "MB", Target(TARGET_GROWTH_MB),
            baseline, note=f"RSS before {ours_before:.0f} MB vs {theirs_before:.0f} MB; the classic worker held "
                           f"{theirs_held:,} jobs ({per_job})"),
        Row("6 jobs held unacknowledged by the worker", ours_unacked, theirs_unacked, "jobs",
            Target(bound), baseline,
            note=f"target: the prefetch bound, concurrency {CONCURRENCY} x prefetch multiplier {multiplier}"),
    ]
