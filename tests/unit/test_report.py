"""The report job's core: exact figures over a real SQLite job store, safe self-contained files, progress."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import insert_rows, job_row, read_csv_sections

from schedcli.exceptions import BadInput, ReportsFolderError
from schedcli.report import build_report, parse_formats, percentile
from schedcli.store.reporting import PERIOD_WHERE, PERIOD_WHERE_SCAN
from schedcli.timeparse import parse_period

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00+00:00, on the hour
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY


@pytest.fixture
def store(database_url):
    from schedcli.store import JobStore

    job_store = JobStore.open(database_url)
    yield job_store
    job_store.close()


@pytest.fixture
def add_rows(store, database_url):
    """Insert rows straight into the store's tables: `add_rows("jobs", [{...}, ...])`."""
    return lambda table, rows: insert_rows(database_url, table, rows)


def job(task="schedcli.tasks.echo", state="SUCCESS", created_at=NOW - HOUR, **fields) -> dict:
    return job_row(task, state, created_at, **fields)


def add_articles(add_rows, *articles: dict) -> None:
    """Articles `{"published_at": ..., "publish_at": ...}`; one with a `publish_at` gets a publish job due then."""
    article_rows, job_rows = [], []
    for n, spec in enumerate(articles, start=1):
        row = {"id": n, "title": f"Article {n}", "body": "", "created_at": NOW - 2 * DAY,
               "published_at": spec.get("published_at")}
        if spec.get("publish_at") is not None:
            row["publish_job_id"] = f"publish-{n}"
            state = "SCHEDULED" if spec.get("published_at") is None else "SUCCESS"
            job_rows.append({**job("schedcli.tasks.publish_article", state, created_at=NOW - 2 * DAY),
                             "id": f"publish-{n}", "eta": spec["publish_at"]})
        article_rows.append(row)
    add_rows("jobs", job_rows)
    add_rows("articles", article_rows)


@pytest.fixture
def run_report(store, tmp_path):
    """Build a report over the last week into tmp_path/reports; returns (summary, progress calls)."""

    def run(job_id="report-1", formats=("csv", "html"), period_seconds=WEEK, reports_dir=None):
        calls = []
        summary = build_report(store, job_id=job_id, period_seconds=period_seconds, formats=set(formats),
                               reports_dir=reports_dir or tmp_path / "reports", now=NOW,
                               progress=lambda current, total, step: calls.append((current, total, step)))
        return summary, calls

    return run


@pytest.mark.parametrize("text, seconds", [
    ("7d", 7 * DAY), ("24h", DAY), ("2w", 2 * WEEK), ("90m", 5400), ("45s", 45), ("1.5h", 5400),
    ("1d 12h", 1.5 * DAY), (" 3d ", 3 * DAY),
])
def test_period_text_becomes_seconds(text, seconds):
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "1 month", "-1d", "0d", "1 2d", "7d;rm", "600w"])
def test_bad_period_text_is_bad_input_with_one_line(text):
    with pytest.raises(BadInput) as caught:
        parse_period(text)
    assert "\n" not in str(caught.value) and "period" in str(caught.value)


def test_format_option_names_the_files_to_write():
    assert parse_formats("both") == {"csv", "html"}
    assert parse_formats("html") == {"html"}
    with pytest.raises(BadInput, match="csv, html or both"):
        parse_formats("pdf")


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None


def test_counts_jobs_by_task_and_state_created_or_finished_in_the_period(add_rows, run_report):
    add_rows("jobs", [
        *(job("t.publish", "SUCCESS", NOW - DAY, started_at=NOW - DAY, finished_at=NOW - DAY) for _ in range(3)),
        job("t.publish", "FAILURE", NOW - 2 * DAY, started_at=NOW - 2 * DAY, finished_at=NOW - 2 * DAY,
            error_type="ValueError", error_message="no title"),
        job("t.report", "SCHEDULED", NOW - HOUR, eta=NOW + DAY),
        # created before the period but finished inside it: counted
        job("t.report", "SUCCESS", NOW - WEEK - DAY, started_at=NOW - WEEK - 60, finished_at=NOW - WEEK + 60),
        # wholly before the period, and created after its end: not counted
        job("t.publish", "SUCCESS", NOW - 3 * WEEK, started_at=NOW - 3 * WEEK, finished_at=NOW - 3 * WEEK),
        job("t.publish", "QUEUED", NOW + 10),
    ])

    summary, _ = run_report()

    assert summary["jobs"] == 6
    assert summary["failures"] == 1
    assert summary["by_state"] == {"SCHEDULED": 1, "SUCCESS": 4, "FAILURE": 1}
    table = read_csv_sections(summary["paths"][0])["jobs_by_task_state"]
    assert table == [["t.publish", "FAILURE", "1"], ["t.publish", "SUCCESS", "3"],
                     ["t.report", "SCHEDULED", "1"], ["t.report", "SUCCESS", "1"]]


def test_same_figures_whether_the_period_is_read_through_the_indexes_or_a_scan(store, add_rows, run_report):
    recent = [job("t.publish", "SUCCESS", NOW - DAY, started_at=NOW - DAY + 2, finished_at=NOW - DAY + 3),
              job("t.publish", "FAILURE", NOW - 3 * WEEK, eta=NOW - WEEK, started_at=NOW - WEEK + 4,
                  finished_at=NOW - WEEK + 5, error_type="KeyError", error_message="'id'")]
    add_rows("jobs", recent)
    assert store.reporting._period_where(NOW - WEEK) == PERIOD_WHERE_SCAN
    scanned, _ = run_report()

    add_rows("jobs", [job("t.old", "SUCCESS", NOW - 3 * WEEK) for _ in range(100)])
    assert store.reporting._period_where(NOW - WEEK) == PERIOD_WHERE
    indexed, _ = run_report()

    assert indexed == scanned
    assert (indexed["jobs"], indexed["failures"], indexed["lateness_max"]) == (2, 1, 4)


def test_start_lateness_percentiles_are_exact_against_eta_else_creation(add_rows, run_report):
    # 100 started jobs late by 1..100 s: half with an ETA, half measured from when they were sent.
    rows = []
    for late in range(1, 101):
        due = NOW - DAY + late * 60
        if late % 2:
            rows.append(job(created_at=due - HOUR, eta=due, started_at=due + late, finished_at=due + late + 1))
        else:
            rows.append(job(created_at=due, started_at=due + late, finished_at=due + late + 1))
    rows.append(job("t.never", "CANCELLED", NOW - DAY))  # never started: no lateness
    add_rows("jobs", rows)

    summary, _ = run_report()

    assert summary["started"] == 100
    assert (summary["lateness_p50"], summary["lateness_p95"], summary["lateness_p99"], summary["lateness_max"]) \
        == (50, 95, 99, 100)
    figures = dict(read_csv_sections(summary["paths"][0])["start_lateness"])
    assert figures["jobs_started"] == "100"
    assert figures["p50_seconds"] == "50.000000" and figures["max_seconds"] == "100.000000"
    assert figures["jobs 10 s-1 min"] == "50" and figures["jobs 1-10 min"] == "41"


def test_early_start_is_negative_lateness(add_rows, run_report):
    add_rows("jobs", [job(created_at=NOW - DAY, eta=NOW - HOUR, started_at=NOW - HOUR - 0.25,
                          finished_at=NOW - HOUR)])
    summary, _ = run_report()
    assert summary["lateness_max"] == pytest.approx(-0.25)
    assert dict(read_csv_sections(summary["paths"][0])["start_lateness"])["jobs early"] == "1"


def test_failures_ranked_by_count_each_with_its_latest_message(add_rows, run_report):
    def failed(task, error_type, message, finished):
        return job(task, "FAILURE", NOW - DAY, started_at=NOW - DAY, finished_at=finished,
                   error_type=error_type, error_message=message)

    add_rows("jobs", [
        failed("t.mail", "TimeoutError", "old timeout", NOW - 3 * HOUR),
        failed("t.mail", "TimeoutError", "newest timeout", NOW - HOUR),
        failed("t.mail", "TimeoutError", "middle timeout", NOW - 2 * HOUR),
        failed("t.publish", "KeyError", "'id'", NOW - HOUR),
        job("t.mail", "SUCCESS", NOW - DAY, error_type=None),
    ])

    summary, _ = run_report()

    assert summary["failures"] == 4
    assert read_csv_sections(summary["paths"][0])["failures"] == [
        ["t.mail", "TimeoutError", "3", "newest timeout"], ["t.publish", "KeyError", "1", "'id'"]]


def test_articles_published_in_the_period_and_how_late(add_rows, run_report):
    add_articles(
        add_rows,
        {"publish_at": NOW - DAY, "published_at": NOW - DAY + 2},
        {"publish_at": NOW - DAY, "published_at": NOW - DAY + 4},
        {"published_at": NOW - HOUR},  # published at once
        {"publish_at": NOW - 3 * WEEK, "published_at": NOW - 3 * WEEK},  # before the period
        {"publish_at": NOW + DAY},  # scheduled
        {},  # a draft
    )

    summary, _ = run_report()

    assert summary["articles_published"] == 3
    assert (summary["article_lateness_p50"], summary["article_lateness_max"]) == (2, 4)
    figures = dict(read_csv_sections(summary["paths"][0])["article_lateness"])
    assert (figures["published"], figures["p50_seconds"], figures["max_seconds"]) == ("3", "2.000000", "4.000000")


def test_jobs_per_hour_counts_creations_and_starts_by_utc_hour(add_rows, run_report):
    add_rows("jobs", [
        job(created_at=NOW - 2 * HOUR + 5, started_at=NOW - HOUR + 5, finished_at=NOW - HOUR + 6),
        job(created_at=NOW - 2 * HOUR + 10, started_at=NOW - HOUR + 10, finished_at=NOW - HOUR + 11),
        job("t.later", "SCHEDULED", created_at=NOW - HOUR + 1, eta=NOW + HOUR),
    ])

    summary, _ = run_report()

    hours = read_csv_sections(summary["paths"][0])["jobs_per_hour"]
    assert len(hours) == 7 * 24
    assert hours[-2] == ["2025-11-24T14:00:00+00:00", "2", "0"]
    assert hours[-1] == ["2025-11-24T15:00:00+00:00", "1", "2"]
    assert sum(int(created) for _, created, _ in hours) == 3


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained_and_escapes_job_text(add_rows, run_report):
    hostile = "<script>alert('x')</script><img src=https://evil.example/p.png>"
    add_rows("jobs", [job("t.<b>bold</b>", "FAILURE", NOW - DAY, started_at=NOW - DAY, finished_at=NOW - DAY,
                          error_type="Boom<script>", error_message=hostile)])

    summary, _ = run_report()

    page = Path(summary["paths"][1]).read_text(encoding="utf-8")
    assert summary["paths"][1].endswith("report-1.html")
    assert "<script" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    parser = _Tags()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert {"style", "svg", "rect", "table"} <= tags
    assert not tags & {"script", "img", "link", "iframe", "object", "embed"}
    for _, attrs in parser.tags:
        for name in ("src", "href", "xlink:href"):
            assert not re.match(r"\s*(https?:)?//", attrs.get(name) or ""), attrs
    assert "url(" not in page and "@import" not in page


def test_csv_parses_and_disarms_formulas_in_job_text(add_rows, run_report):
    add_rows("jobs", [job("t.mail", "FAILURE", NOW - DAY, started_at=NOW - DAY, finished_at=NOW - DAY,
                          error_type="ValueError", error_message='=HYPERLINK("http://x","a, \"quoted\"\nline")')])

    summary, _ = run_report(formats=("csv",))

    assert [Path(p).name for p in summary["paths"]] == ["report-1.csv"]
    sections = read_csv_sections(summary["paths"][0])
    assert set(sections) == {"summary", "jobs_by_task_state", "start_lateness", "failures", "jobs_per_hour",
                             "article_lateness"}
    assert dict(sections["summary"])["jobs"] == "1"
    assert sections["failures"] == [["t.mail", "ValueError", "1", '\'=HYPERLINK("http://x","a, "quoted"\nline")']]


@pytest.mark.parametrize("job_id", ["../escape", "a/b", "/etc/passwd", ".hidden", "..", "", "a\x00b", "x" * 300])
def test_job_id_that_is_not_a_plain_file_name_is_refused(run_report, tmp_path, job_id):
    with pytest.raises(BadInput, match="safe file name"):
        run_report(job_id=job_id)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.suffix in {".csv", ".html"}) == []


def test_report_never_writes_through_a_link_out_of_the_reports_folder(run_report, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    outside = tmp_path / "precious.csv"
    outside.write_text("keep me")
    (reports / "report-1.csv").symlink_to(outside)

    with pytest.raises(BadInput, match="outside the reports folder"):
        run_report()
    assert outside.read_text() == "keep me"


def test_unwritable_reports_folder_is_a_clear_one_line_error(run_report, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    with pytest.raises(ReportsFolderError) as caught:
        run_report(reports_dir=blocker / "reports")

    assert caught.value.exit_code == 73
    message = str(caught.value)
    assert "reports folder" in message and str(blocker / "reports") in message and "\n" not in message


def test_progress_is_monotone_names_its_steps_and_reaches_total(add_rows, run_report):
    add_rows("jobs", [job(created_at=NOW - DAY + i, started_at=NOW - DAY + i + 1, finished_at=NOW - DAY + i + 2)
                      for i in range(1000)])
    add_articles(add_rows, *[{"publish_at": NOW - DAY, "published_at": NOW - DAY + 1}] * 10)

    _, calls = run_report()

    currents = [current for current, _, _ in calls]
    totals = {total for _, total, _ in calls}
    assert currents == sorted(currents) and len(totals) == 1
    assert calls[0] == (0, totals.pop(), "counting")
    assert calls[-1][0] == calls[-1][1]
    steps = [step for _, _, step in calls]
    assert {"counting", "jobs", "articles", "lateness", "writing csv", "writing html"} <= set(steps)
    job_reports = steps.count("jobs")
    assert 15 <= job_reports <= 25  # about every 5% of the rows, not every row


def test_running_again_rewrites_the_same_files_and_leaves_no_temporary_file(add_rows, run_report, tmp_path):
    first, _ = run_report()
    add_rows("jobs", [job() for _ in range(2)])

    second, _ = run_report()

    assert second["paths"] == first["paths"]
    assert (first["jobs"], second["jobs"]) == (0, 2)
    assert dict(read_csv_sections(second["paths"][0])["summary"])["jobs"] == "2"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["report-1.csv", "report-1.html"]


def test_empty_period_gives_a_report_without_figures(run_report):
    summary, calls = run_report()
    assert (summary["jobs"], summary["failures"], summary["lateness_p50"], summary["articles_published"]) \
        == (0, 0, None, 0)
    assert calls[-1][0] == calls[-1][1]
    assert "None." in Path(summary["paths"][1]).read_text(encoding="utf-8")


def test_report_benchmark_runs_and_prints_its_figures():
    bench = Path(__file__).resolve().parents[2] / "bench" / "report_bench.py"
    result = subprocess.run([sys.executable, str(bench), "--rows", "2000"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "filled 2,000 job rows" in result.stdout
    assert "seconds" in result.stdout and "peak RSS MB" in result.stdout
