"""What `schedcli worker start` adds to a worker: job-state reporting into the job store."""

from __future__ import annotations


def install_worker_hooks(celery_app, settings) -> None:
    """Connect the signal handlers that report each job's life into the store."""
