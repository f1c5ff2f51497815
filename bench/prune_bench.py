"""`schedcli prune` over a big store while a sender goes on: how long the prune takes, and how long the
sender's store writes wait (the target: a send is never stalled by more than a second).

    python -m bench.prune_bench [--rows 1000000]

The store is filled as the report's benchmark fills it (bench/report_bench.py: mostly finished jobs over
30 days). The sender records and confirms 10 jobs every 20 ms in a thread of its own, as `schedcli call`
does; its slowest write is the stall. The baseline is that sender's slowest write with no prune running.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid

from bench.harness import Row, Target, scratch_folder

STALL_TARGET_SECONDS = 1.0


def sender_stalls(database_url: str, stop: threading.Event) -> list[float]:
    """Seconds each record-and-confirm of 10 jobs took, until `stop`."""
    from schedcli.store import JobStore, NewJob

    took = []
    with JobStore.open(database_url) as store:
        while not stop.is_set():
            jobs = [NewJob(id=str(uuid.uuid4()), task="schedcli.tasks.echo", args=[1], kwargs={}, queue="schedcli",
                           app="schedcli.app", eta=time.time() + 3600, expires=None, key=None) for _ in range(10)]
            started = time.perf_counter()
            store.record_sending(jobs, time.time())
            store.mark_sent([job.id for job in jobs], time.time())
            took.append(time.perf_counter() - started)
            time.sleep(0.02)
    return took


def while_sending(database_url: str, work) -> tuple[float, float]:
    """(seconds `work()` took, the sender's slowest write meanwhile)."""
    stop, stalls = threading.Event(), []
    sender = threading.Thread(target=lambda: stalls.extend(sender_stalls(database_url, stop)))
    sender.start()
    time.sleep(0.5)
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    time.sleep(0.2)
    stop.set()
    sender.join()
    return elapsed, max(stalls)


def measure(rows: int) -> dict:
    from bench.report_bench import fill
    from schedcli.store import FINAL_STATES, JobStore

    with scratch_folder() as folder:
        url = f"sqlite:///{folder}/prune.db"
        now = time.time()
        fill(url, rows, now)
        _, baseline_stall = while_sending(url, lambda: time.sleep(2))
        deleted = []
        with JobStore.open(url) as store:
            prune_seconds, stall = while_sending(url, lambda: deleted.append(sum(store.prune(now, FINAL_STATES))))
    return {"rows": rows, "deleted": deleted[0], "prune_seconds": prune_seconds, "stall_seconds": stall,
            "baseline_stall_seconds": baseline_stall}


def run(bench) -> list[Row]:
    rows = bench.size(1_000_000, 100_000)
    m = measure(rows)
    label = f"10 prune {m['deleted']:,} of {rows:,} jobs"
    return [
        Row(f"{label}: a concurrent send's slowest store write", m["stall_seconds"], m["baseline_stall_seconds"], "s",
            Target(STALL_TARGET_SECONDS), "the same sender with no prune"),
        Row(f"{label}: seconds", m["prune_seconds"], None, "s"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    figures = measure(parser.parse_args().rows)
    for name, value in figures.items():
        print(f"{name:24} {value:,.3f}" if isinstance(value, float) else f"{name:24} {value:,}")
