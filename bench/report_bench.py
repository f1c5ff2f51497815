"""Figure 7: `generate_report` over 1,000,000 job rows in at most 60 s and 200 MB peak RSS.

Fills a temporary SQLite job store with realistic rows (all in the report's 7-day period),
then, each in a fresh process that has imported Celery and the bundled tasks as a worker's pool
process has, times `build_report` (both formats) and, as the baseline in the same run, a bare
streamed read of the same rows that does nothing with them: what any report over them must pay.

    python bench/report_bench.py [--rows N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 200.0
PERIOD_SECONDS = 7 * 86400
ARTICLES = 10_000
BATCH = 100_000

TASKS = (("schedcli.tasks.publish_article", 70), ("myproj.tasks.send_email", 15), ("schedcli.tasks.echo", 8),
         ("myproj.tasks.resize_image", 5), ("schedcli.tasks.generate_report", 2))
ERRORS = (("ConnectionError", "connection to smtp.example.com:587 refused (job {n})"),
          ("TimeoutError", "timed out after 30 s waiting for the image service (job {n})"),
          ("ValueError", "article {n} has no title"),
          ("KeyError", "'recipient' missing from kwargs of job {n}"))
TRACEBACK = ('Traceback (most recent call last):\n  File "/srv/app/celery/app/trace.py", line 453, in trace_task\n'
             '    R = retval = fun(*args, **kwargs)\n  File "/srv/app/myproj/tasks.py", line 88, in run\n'
             '    raise {error}({message!r})\n{error}: {message}\n')


def _random_id(rng: random.Random) -> str:
    """A random id shaped like Celery's (a UUID4's text), quicker to make than `uuid.uuid4()`."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def job_rows(count: int, now: float, seed: int = 7):
    """`count` rows for the jobs table (in `JOB_COLUMNS` order), all created in the report's period: mostly run
    on time, some failed."""
    rng = random.Random(seed)
    names = [name for name, weight in TASKS for _ in range(weight)]
    for n in range(count):
        task = rng.choice(names)
        created = now - rng.uniform(0, PERIOD_SECONDS - 3600)
        eta = created + rng.uniform(1, 6 * 3600) if rng.random() < 0.6 else None
        due = created if eta is None else eta
        started = finished = error_type = message = traceback = result = None
        if due > now - 60:
            state = "SCHEDULED"
        else:
            draw = rng.random()
            state = ("SUCCESS" if draw < 0.90 else "FAILURE" if draw < 0.95 else "CANCELLED" if draw < 0.97
                     else "EXPIRED" if draw < 0.98 else "RETRY")
            if state in ("SUCCESS", "FAILURE", "RETRY"):
                late = rng.expovariate(50) if rng.random() < 0.99 else rng.uniform(1, 120)
                started = due + late
                finished = started + rng.expovariate(2)
            if state == "SUCCESS":
                result = f'{{"article_id": {n}, "published": true}}'
            elif state == "FAILURE":
                error_type, template = rng.choice(ERRORS)
                message = template.format(n=n)
                traceback = TRACEBACK.format(error=error_type, message=message)
        yield (_random_id(rng), task, f"[{n % 5000}]", "{}", None,
               "schedcli", "schedcli.app", state, eta, None, created, started, finished,
               "w1@bench" if started else None, None, 0, None, result, error_type, message, traceback, None, None,
               None, None, None, None, None, None)  # schedule, occurrence, sender, lease_until, retry_of, retried_as


def article_rows(count: int, now: float, seed: int = 11):
    rng = random.Random(seed)
    for n in range(count):
        created = now - rng.uniform(0, 30 * 86400)
        publish_at = created + rng.uniform(60, 86400)
        published = publish_at + rng.expovariate(20) if publish_at < now and rng.random() < 0.95 else None
        yield n + 1, f"Article {n + 1}", "body " * 40, published, _random_id(rng), created


def fill(database_url: str, rows: int, now: float) -> None:
    """Create the store's schema through `JobStore`, then insert rows fast (big transactions, no fsync)."""
    from schedcli.store import JobStore
    from schedcli.store.schema import JOB_COLUMNS

    JobStore.open(database_url).close()
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1000000")  # 1 GB: random ids and times land all over the indexes
    insert_job = f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) VALUES ({', '.join('?' * len(JOB_COLUMNS))})"
    generated = job_rows(rows, now)
    for _ in range(0, rows, BATCH):
        connection.execute("BEGIN")
        connection.executemany(insert_job, (row for _, row in zip(range(BATCH), generated)))
        connection.execute("COMMIT")
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO articles (id, title, body, published_at, publish_job_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", article_rows(ARTICLES, now))
    connection.execute("COMMIT")
    connection.close()


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _in_worker_like_process(kind: str, database_url: str, reports_dir: str, now: float, results) -> None:
    """Runs in a fresh process: import what a worker's pool process holds, then time one `kind` run."""
    from schedcli.app import app

    app.loader.import_default_modules()  # Celery and the bundled tasks, loaded as in a worker
    app.finalize()
    from schedcli.report import build_report
    from schedcli.store import JobStore

    store = JobStore.open(database_url)
    before = _peak_rss_mb()
    steps = []
    started = time.perf_counter()
    if kind == "report":
        summary = build_report(store, job_id="bench-report", period_seconds=PERIOD_SECONDS,
                               formats={"csv", "html"}, reports_dir=Path(reports_dir), now=now,
                               progress=lambda current, total, step: steps.append((current, total, step)))
    else:
        summary = {"jobs": sum(1 for _ in store.reporting.job_rows(now - PERIOD_SECONDS, now))}
    elapsed = time.perf_counter() - started
    store.close()
    results.put({"seconds": elapsed, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": before,
                 "progress_reports": len(steps), "summary": summary})


def _in_fresh_process(target, *args):
    """Run `target(*args, results)` in a new interpreter and return what it put in `results`.

    Linux carries a process's peak RSS over fork and exec, so this process stays small: the fill runs
    in one of these too, or its page cache would count as the report's peak.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    outcome = results.get()
    process.join()
    return outcome


def _fill_and_time(database_url: str, rows: int, now: float, results) -> None:
    started = time.perf_counter()
    fill(database_url, rows, now)
    results.put(time.perf_counter() - started)


def measure(rows: int) -> dict:
    """Fill a temporary store with `rows` jobs, run the report and the bare read; their times and peak RSS."""
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="schedcli-report-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'jobs.db'}"
        fill_seconds = _in_fresh_process(_fill_and_time, database_url, rows, now)
        baseline = _in_fresh_process(_in_worker_like_process, "bare read", database_url, tmp, now)
        report = _in_fresh_process(_in_worker_like_process, "report", database_url, tmp, now)
        sizes = {Path(p).suffix[1:]: Path(p).stat().st_size for p in report["summary"]["paths"]}
    return {
        "rows": rows, "fill_seconds": fill_seconds, "rows_in_period": report["summary"]["jobs"],
        "report_seconds": report["seconds"], "report_peak_rss_mb": report["peak_rss_mb"],
        "rss_before_mb": report["rss_before_mb"], "progress_reports": report["progress_reports"],
        "baseline_seconds": baseline["seconds"], "baseline_peak_rss_mb": baseline["peak_rss_mb"],
        "file_bytes": sizes,
        "met": report["seconds"] <= TARGET_SECONDS and report["peak_rss_mb"] <= TARGET_RSS_MB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="job rows in the store (default 1,000,000)")
    args = parser.parse_args(argv)
    m = measure(args.rows)
    print(f"filled {m['rows']:,} job rows in {m['fill_seconds']:.1f} s; {m['rows_in_period']:,} in the 7-day period")
    print(f"{'figure':<28}{'report':>10}{'bare read':>11}{'ratio':>8}{'target':>9}  met")
    for label, ours, base, target in (("seconds", m["report_seconds"], m["baseline_seconds"], TARGET_SECONDS),
                                      ("peak RSS MB", m["report_peak_rss_mb"], m["baseline_peak_rss_mb"],
                                       TARGET_RSS_MB)):
        print(f"{label:<28}{ours:>10.1f}{base:>11.1f}{ours / base:>7.2f}x{target:>9.0f}  "
              f"{'yes' if ours <= target else 'NO'}")
    print(f"(RSS {m['rss_before_mb']:.0f} MB before the report: Python, Celery, the bundled tasks; "
          f"{m['progress_reports']} progress reports; files {m['file_bytes']})")
    return 0 if m["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
