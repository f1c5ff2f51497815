"""The rows the jobs report reads (`schedcli.report`), streamed a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator

from schedcli.store.connection import Database

PERIOD_WHERE = "(created_at >= ? AND created_at < ?) OR (finished_at >= ? AND finished_at < ?)"
# The unary + keeps SQLite (and PostgreSQL's planner, which ignores it harmlessly) off the indexes:
# when the period holds most jobs, one scan beats two index walks.
PERIOD_WHERE_SCAN = "(+created_at >= ? AND +created_at < ?) OR (+finished_at >= ? AND +finished_at < ?)"
SCAN_FRACTION = 0.05


class ReportQueries:
    """What the report counts and streams, over the jobs and articles of one period [start, end)."""

    def __init__(self, database: Database):
        self._db = database

    def _period_where(self, start: float) -> str:
        """The WHERE clause for the period's jobs that reads fastest: through the indexes, or one scan."""
        [(all_jobs,)] = self._db.fetch("SELECT COUNT(*) FROM jobs")
        [(recent,)] = self._db.fetch("SELECT COUNT(*) FROM jobs WHERE created_at >= ?", (start,))
        return PERIOD_WHERE if recent <= SCAN_FRACTION * all_jobs else PERIOD_WHERE_SCAN

    def count_jobs(self, start: float, end: float) -> int:
        """Jobs created or finished in the period."""
        [(count,)] = self._db.fetch(f"SELECT COUNT(*) FROM jobs WHERE {self._period_where(start)}",
                                    (start, end, start, end))
        return count

    def job_rows(self, start: float, end: float) -> Iterator[tuple]:
        """(task, state, created_at, eta, started_at, finished_at, error_type, error_message, schedule) per job of
        the period (schedule: the recurring schedule it ran for, or None).

        While iterating, use the store for nothing else: on PostgreSQL the rows come from a server-side
        cursor, which ends with the transaction another statement would end.
        """
        return self._db.stream(
            "SELECT task, state, created_at, eta, started_at, finished_at, error_type, error_message, schedule "
            f"FROM jobs WHERE {self._period_where(start)}", (start, end, start, end))

    def count_published_articles(self, start: float, end: float) -> int:
        [(count,)] = self._db.fetch("SELECT COUNT(*) FROM articles WHERE published_at >= ? AND published_at < ?",
                                    (start, end))
        return count

    def published_article_rows(self, start: float, end: float) -> Iterator[tuple]:
        """(due, published_at) per article published in the period; due is its publish job's eta, or None."""
        return self._db.stream(
            "SELECT jobs.eta, articles.published_at FROM articles LEFT JOIN jobs ON jobs.id = articles.publish_job_id "
            "WHERE articles.published_at >= ? AND articles.published_at < ?", (start, end))
