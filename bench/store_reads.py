"""Figure 3: `schedcli status ID` and `schedcli list --scheduled` with 100,000 jobs in the store.

The store is filled through the store's own write path (`record_sending` + `mark_sent`, a batch
per transaction, as a bulk send writes it) with jobs scheduled over the next hours. The baseline
is `schedcli --help` in the same run: the start-up every command pays before it reads anything.
"""

from __future__ import annotations

import time
import uuid

from bench.harness import Bench, Row, Target, schedcli

JOBS = 100_000
BATCH = 5000
TARGET_MS = 250.0


def fill(database_url: str, count: int) -> list[str]:
    """`count` scheduled jobs, due over the next hours; their ids."""
    from schedcli.store import JobStore, NewJob

    now = time.time()
    ids = []
    with JobStore.open(database_url) as store:
        for start in range(0, count, BATCH):
            jobs = [NewJob(id=str(uuid.uuid4()), task="schedcli.tasks.echo", args=[n], kwargs={}, queue="schedcli",
                           app="schedcli.app", eta=now + 60 + n % 36_000, expires=None, key=None)
                    for n in range(start, min(start + BATCH, count))]
            store.record_sending(jobs, now)
            store.mark_sent([job.id for job in jobs], now)
            ids += [job.id for job in jobs]
    return ids


def run(bench: Bench) -> list[Row]:
    database_url = bench.store_url("reads")
    started = time.perf_counter()
    ids = fill(database_url, JOBS)
    bench.log(f"[bench] store: {JOBS:,} jobs recorded in {time.perf_counter() - started:.1f} s")
    env = bench.environment(database_url=database_url)
    times = bench.median_times({
        "status": schedcli("status", ids[len(ids) // 2]),
        "list": schedcli("list", "--scheduled"),
        "help": schedcli("--help"),
    }, repeats=bench.size(15, 5), env=env)
    target = Target(TARGET_MS)
    return [
        Row(f"3 schedcli status ID ({JOBS:,} jobs)", times["status"] * 1000, times["help"] * 1000, "ms", target,
            "schedcli --help"),
        Row(f"3 schedcli list --scheduled ({JOBS:,} jobs)", times["list"] * 1000, times["help"] * 1000, "ms",
            target, "schedcli --help"),
    ]
