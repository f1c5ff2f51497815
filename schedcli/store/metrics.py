"""What `schedcli serve`'s /metrics counts: jobs by state and task, and how late jobs started."""

from __future__ import annotations

from schedcli.store.connection import Database

# Upper bounds (seconds) of the start-lateness histogram's buckets; +Inf is implied.
LATENESS_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
LATENESS = "started_at - COALESCE(eta, created_at)"


class MetricsQueries:
    """Counts over the whole store, each one query, for a Prometheus scrape."""

    def __init__(self, database: Database):
        self._db = database

    def jobs_by_state_and_task(self) -> list[tuple[str, str, int]]:
        """(state, task, count) for every pair that has jobs."""
        return [tuple(row) for row in self._db.fetch(
            "SELECT state, task, COUNT(*) FROM jobs GROUP BY state, task ORDER BY state, task")]

    def start_lateness(self) -> tuple[list[int], int, float]:
        """Cumulative counts per bucket of LATENESS_BUCKETS, the count and the sum of seconds, of started jobs."""
        buckets = ", ".join(f"SUM(CASE WHEN {LATENESS} <= {bound!r} THEN 1 ELSE 0 END)" for bound in LATENESS_BUCKETS)
        [row] = self._db.fetch(f"SELECT {buckets}, COUNT(*), SUM({LATENESS}) FROM jobs WHERE started_at IS NOT NULL")
        *counts, total, seconds = row
        return [int(count or 0) for count in counts], int(total or 0), float(seconds or 0.0)
