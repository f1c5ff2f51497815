"""The report job's core: exact figures over a real SQLite job store, safe self-contained files, progress."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00+00:00, on the hour
HOUR = 3600.0


@pytest.fixture
def store(database_url):
    from schedcli.store import JobStore

    job_store = JobStore.open(database_url)
    yield job_store
    job_store.close()


@pytest.fixture
def add_rows(store, database_url):
    """Insert rows straight into the store's tables: `add_rows("jobs", [{...}, ...])`."""
    path = database_url.removeprefix("sqlite:///")

    def add(table: str, rows: list[dict]) -> None:
        with sqlite3.connect(path) as connection:
            for row in rows:
                connection.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                   tuple(row.values()))
        connection.close()

    return add


def job(task="schedcli.tasks.echo", state="SUCCESS", created_at=NOW - HOUR, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "task": task, "state": state, "created_at": created_at, "args": "[]",
            "kwargs": "{}", "queue": "schedcli", "app": "schedcli.app", **fields}


def read_csv_sections(path: str) -> dict[str, list[list[str]]]:
    """The report CSV as {section: [row, ...]} (header rows, whose first cell is `section`, left out)."""
    sections: dict[str, list[list[str]]] = {}
    for row in csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"), newline="")):
        if row and row[0] != "section":
            sections.setdefault(row[0], []).append(row[1:])
    return sections


def wait_for_end(database_url: str, job_id: str, timeout: float = 60):
    """Poll the store until the job has ended; the job as recorded."""
    from schedcli.store import FINAL_STATES, JobStore

    deadline = time.monotonic() + timeout
    with JobStore.open(database_url) as job_store:
        while (job := job_store.get(job_id)).state not in FINAL_STATES:
            assert time.monotonic() < deadline, f"job {job_id} still {job.state} after {timeout}s"
            time.sleep(0.05)
    return job


@pytest.mark.broker
def test_report_job_on_a_real_worker_writes_its_files_and_reports_progress(start_worker, database_url, add_rows,
                                                                           tmp_path, monkeypatch):
    from schedcli.jobs.requests import JobRequest
    from schedcli.jobs.sending import Dispatcher
    from schedcli.settings import resolve_settings

    reports = tmp_path / "worker-reports"
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(reports))
    now = time.time()
    add_rows("jobs", [job("t.publish", "SUCCESS", now - HOUR, started_at=now - HOUR + 30, finished_at=now - HOUR + 31)
                      for _ in range(3)])
    start_worker()
    dispatcher = Dispatcher(resolve_settings())

    [sent] = dispatcher.send([JobRequest("schedcli.tasks.generate_report", ["24h", "both"])])
    done = wait_for_end(database_url, sent.job_id)

    assert done.state == "SUCCESS", done.error
    assert done.result["paths"] == [str(reports / f"{sent.job_id}.csv"), str(reports / f"{sent.job_id}.html")]
    assert (done.result["jobs"], done.result["by_state"]["SUCCESS"]) == (4, 3)  # the report job sees itself
    assert done.result["lateness_max"] == pytest.approx(30)  # the seeded jobs', not the report job's own
    assert done.progress["current"] == done.progress["total"] and done.progress["step"] == "writing html"
    assert dict(read_csv_sections(done.result["paths"][0])["summary"])["jobs"] == "4"

    [bad] = dispatcher.send([JobRequest("schedcli.tasks.generate_report", ["7x", "both"])])
    failed = wait_for_end(database_url, bad.job_id)
    assert failed.state == "FAILURE"
    assert failed.error["type"].endswith("BadInput") and "bad period '7x'" in failed.error["message"]
    assert sorted(p.name for p in reports.iterdir()) == [f"{sent.job_id}.csv", f"{sent.job_id}.html"]
