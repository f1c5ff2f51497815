"""Follow a job in the store until it ends (for `--wait` and `status --watch`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

FINAL_STATES = frozenset({"SUCCESS", "FAILURE", "CANCELLED", "EXPIRED"})


def follow_job(store, job_id: str, interval: float = 0.2) -> Iterator:
    """Yield the job at once and again each time it changes; stop after a final state."""
    last = None
    while True:
        job = store.get(job_id)
        snapshot = (job.state, job.progress, job.retries, job.finished_at)
        if snapshot != last:
            last = snapshot
            yield job
        if job.state in FINAL_STATES:
            return
        time.sleep(interval)
