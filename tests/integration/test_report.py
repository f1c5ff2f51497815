"""The report job's core: exact figures over a real SQLite job store, safe self-contained files, progress."""

from __future__ import annotations

import time

import pytest
from helpers import insert_rows, job_row, read_csv_sections

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00+00:00, on the hour
HOUR = 3600.0


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
def test_report_job_on_a_real_worker_writes_its_files_and_reports_progress(start_worker, database_url, tmp_path,
                                                                           monkeypatch):
    from schedcli.jobs.requests import JobRequest
    from schedcli.jobs.sending import Dispatcher
    from schedcli.settings import resolve_settings

    reports = tmp_path / "worker-reports"
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(reports))
    now = time.time()
    insert_rows(database_url, "jobs", [job_row("t.publish", "SUCCESS", now - HOUR, started_at=now - HOUR + 30,
                                               finished_at=now - HOUR + 31) for _ in range(3)])
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
