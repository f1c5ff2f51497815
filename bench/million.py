"""Figure 12: a million scheduled jobs, spread over the next 24 h, waiting in RabbitMQ and the store.

Sent with `schedcli call TASK --from-file jobs.jsonl -q` as a user sends them (900,000 of one task,
100,000 of another), into a vhost and a SQLite store of their own. Then, with every job waiting:

- the send rate; RabbitMQ's memory per waiting job (the vhost's queue processes' from `list_queues
  memory`, before and after; the node's RSS from `rabbitmqctl status` beside it, which memory freed
  or taken by earlier work moves by more than a million jobs do), how many message
  bodies the queues hold in RAM (`messages_ram`), and what the delay levels are (quorum queues:
  on RabbitMQ 3.10 and later they keep bodies on disk only, so the classic-queue alternative that
  Celery's `broker_native_delayed_delivery_queue_type` allows is not needed to keep them out); the store's
  bytes per job;
- `schedcli status ID` and `schedcli list --scheduled` at 1,000,000 rows (target < 150 ms each),
  against `schedcli --help` (the start-up every command pays);
- `schedcli cancel --state scheduled --task T` of the 100,000 jobs of the second task (target < 30 s);
- a `schedcli worker start` consuming the vhost: its memory (RSS of the worker and its pool) and the
  jobs it holds unacknowledged (0: the jobs wait in RabbitMQ's delay queues, not in the worker),
  against the same worker on an empty vhost.

    python -m bench.million [--jobs 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from bench.harness import (Bench, Row, Target, delayed_count, queue_counts, rabbitmqctl, schedcli, schedcli_worker,
                           scratch_folder, vhost, vhost_of, wait_until)

LATENCY_TARGET_MS = 150.0
CANCEL_TARGET_SECONDS = 30.0
MAIN_TASK = "schedcli.tasks.echo"
CANCELLED_TASK = "schedcli.tasks.publish_article"
FIRST_DUE_SECONDS = 600  # nothing falls due while the figure runs, so the worker holds what is waiting only
SPREAD_SECONDS = 86_400


def delay_of(n: int, count: int) -> int:
    return FIRST_DUE_SECONDS + n * SPREAD_SECONDS // count


def write_jobs_file(path: Path, numbers: range, count: int) -> None:
    with open(path, "w") as lines:
        for n in numbers:
            lines.write(f'{{"args": [{n}], "in": "{delay_of(n, count)}s"}}\n')


def rabbitmq_memory(broker_url: str) -> dict[str, int]:
    """Bytes of memory: the node's (RSS, which other vhosts' work moves too) and the vhost's queue processes'."""
    total = json.loads(rabbitmqctl("status", "--formatter", "json"))["memory"]["total"]
    out = rabbitmqctl("list_queues", "-p", vhost_of(broker_url), "name", "memory", "messages_ram")
    rows = [line.split() for line in out.splitlines() if len(line.split()) == 3 and line.split()[1].isdigit()]
    return {"node": total["rss"] if isinstance(total, dict) else total,
            "queues": sum(int(row[1]) for row in rows), "messages_ram": sum(int(row[2]) for row in rows)}


def queue_types(broker_url: str) -> dict[str, str]:
    out = rabbitmqctl("list_queues", "-p", vhost_of(broker_url), "name", "type")
    return dict(line.split()[:2] for line in out.splitlines() if len(line.split()) >= 2)


def worker_memory(bench: Bench, env: dict, broker_url: str | None) -> tuple[float, int]:
    """(MB the worker and its pool hold after settling, jobs it holds unacknowledged)."""
    with schedcli_worker(bench, env) as worker:
        time.sleep(10)
        unacked = sum(unacked for ready, unacked in queue_counts(broker_url).values()) if broker_url else 0
        return worker.rss_mb(), unacked


def measure(bench: Bench, count: int) -> dict:
    from schedcli.store import JobStore

    cancelled_count = count // 10
    figures: dict = {"jobs": count, "cancelled_jobs": cancelled_count}
    database_url = bench.store_url("million")
    main_file, cancel_file = bench.path("main").with_suffix(".jsonl"), bench.path("cancel").with_suffix(".jsonl")
    write_jobs_file(main_file, range(cancelled_count, count), count)
    write_jobs_file(cancel_file, range(cancelled_count), count)

    with vhost("million-empty") as empty_url:
        env = bench.environment(empty_url, bench.store_url("million-empty"))
        figures["idle_worker_mb"], _ = worker_memory(bench, env, empty_url)

    with vhost("million") as broker_url:
        env = bench.environment(broker_url, database_url)
        bench.run(schedcli("call", MAIN_TASK, "--in", "1h", "-q"), env)  # the topology, as a worker declares it
        time.sleep(2)
        before = rabbitmq_memory(broker_url)
        elapsed = 0.0
        for task, jobs_file in ((CANCELLED_TASK, cancel_file), (MAIN_TASK, main_file)):
            with open(jobs_file) as stdin:
                elapsed += bench.run(schedcli("call", task, "--from-file", "-", "-q"), env, stdin=stdin)
        figures["send_per_second"] = count / elapsed
        bench.log(f"[bench] million: {count:,} jobs sent in {elapsed:.0f} s")
        wait_until(lambda: delayed_count(broker_url) == count + 1, 300, f"all {count:,} jobs in the delay queues")
        time.sleep(5)
        after = rabbitmq_memory(broker_url)
        figures["rabbitmq_node_rss_bytes_per_job"] = (after["node"] - before["node"]) / count
        figures["rabbitmq_queue_bytes_per_job"] = (after["queues"] - before["queues"]) / count
        figures["rabbitmq_messages_in_ram"] = after["messages_ram"]
        figures["delay_level_type"] = sorted({kind for name, kind in queue_types(broker_url).items()
                                              if name.startswith("celery_delayed_")})
        store_file = Path(database_url.removeprefix("sqlite:///"))
        with JobStore.open(database_url) as store:
            store.query("PRAGMA wal_checkpoint(TRUNCATE)")
            some_id = next(iter(store.query("SELECT id FROM jobs WHERE task = ? LIMIT 1 OFFSET 5000", (MAIN_TASK,))))[0]
        figures["store_bytes_per_job"] = store_file.stat().st_size / count

        times = bench.median_times({"status": schedcli("status", some_id), "list": schedcli("list", "--scheduled"),
                                    "help": schedcli("--help")}, repeats=bench.size(10, 5), env=env)
        figures.update({f"{name}_ms": seconds * 1000 for name, seconds in times.items()})

        figures["worker_mb"], figures["worker_unacked"] = worker_memory(bench, env, broker_url)

        started = time.perf_counter()
        result = subprocess.run(schedcli("cancel", "--state", "scheduled", "--task", CANCELLED_TASK, "--json"),
                                env=env, cwd=bench.scratch, capture_output=True, text=True)
        figures["cancel_seconds"] = time.perf_counter() - started
        if result.returncode != 0 or json.loads(result.stdout)["cancelled"] != cancelled_count:
            raise RuntimeError(f"cancel of {cancelled_count:,} jobs: exit {result.returncode}: {result.stdout}"
                               f"{result.stderr.strip()}")
        bench.log("[bench] million: deleting the vhost of a million messages")
    return figures


def rows(figures: dict) -> list[Row]:
    count = figures["jobs"]
    latency = Target(LATENCY_TARGET_MS)
    kind = "/".join(figures["delay_level_type"])
    return [
        Row(f"12 send {count:,} jobs due over 24 h (bulk)", figures["send_per_second"], None, "jobs/s"),
        Row("12 RabbitMQ memory per waiting job", figures["rabbitmq_queue_bytes_per_job"], None, "bytes",
            note=f"growth of the vhost's queue processes (`list_queues memory`) over {count:,} jobs in {kind} "
                 f"delay levels; message bodies held in RAM: {figures['rabbitmq_messages_in_ram']:,}; the node's "
                 f"RSS moved {figures['rabbitmq_node_rss_bytes_per_job']:,.0f} bytes a job (memory other work frees or "
                 f"takes moves it too)"),
        Row("12 store size per job (SQLite)", figures["store_bytes_per_job"], None, "bytes"),
        Row(f"12 schedcli status ID ({count:,} jobs)", figures["status_ms"], figures["help_ms"], "ms", latency,
            "schedcli --help"),
        Row(f"12 schedcli list --scheduled ({count:,} jobs)", figures["list_ms"], figures["help_ms"], "ms", latency,
            "schedcli --help"),
        Row(f"12 cancel --state scheduled --task T ({figures['cancelled_jobs']:,} of {count:,})",
            figures["cancel_seconds"], None, "s", Target(CANCEL_TARGET_SECONDS)),
        Row(f"12 worker memory with {count:,} jobs waiting", figures["worker_mb"], figures["idle_worker_mb"], "MB",
            None, "the same worker on an empty vhost",
            note=f"{figures['worker_unacked']} jobs held unacknowledged by the worker"),
    ]


def run(bench: Bench) -> list[Row]:
    return rows(measure(bench, bench.size(1_000_000, 100_000)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    jobs = parser.parse_args().jobs
    with scratch_folder() as folder:
        os.chdir(folder)
        figures = measure(Bench(quick=False, scratch=Path(folder)), jobs)
    for name, value in figures.items():
        print(f"{name:30} {value:,.1f}" if isinstance(value, float) else f"{name:30} {value}")
