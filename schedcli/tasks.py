"""The bundled jobs: `schedcli.tasks.generate_report` and `schedcli.tasks.publish_article`."""

from __future__ import annotations

import time

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from schedcli.exceptions import DatabaseError

MAX_STORE_RETRIES = 5


def job_settings(task):
    """The settings of the worker running `task` (see app.py), else the environment's and config file's."""
    settings = getattr(task.app.conf, "schedcli_settings", None)
    if settings is None:
        from schedcli.settings import resolve_settings

        settings = resolve_settings()
    return settings


@shared_task(name="schedcli.tasks.echo", acks_late=True, reject_on_worker_lost=True)
def echo(*args, **kwargs):
    """Return what it was given; a smoke-test job."""
    return {"args": list(args), "kwargs": kwargs}


@shared_task(bind=True, name="schedcli.tasks.publish_article", acks_late=True, reject_on_worker_lost=True,
             max_retries=MAX_STORE_RETRIES)
def publish_article(self, article_id):
    """Mark the article published, exactly once; an already published article changes nothing and says so.

    A missing article fails the job. A transient database error (locked, connection lost) is retried
    with exponential backoff, up to five times.
    """
    from schedcli.articles import publish
    from schedcli.store import JobStore, is_transient

    try:
        with JobStore.open(job_settings(self).database_url) as store:
            return publish(store, int(article_id), self.request.id, time.time())
    except DatabaseError as exc:
        if not is_transient(exc):
            raise
        countdown = get_exponential_backoff_interval(factor=1, retries=self.request.retries, maximum=60,
                                                     full_jitter=True)
        raise self.retry(exc=exc, countdown=countdown)


# The report job, schedcli.tasks.generate_report, goes below; its work lives in schedcli/report.py.


@shared_task(bind=True, name="schedcli.tasks.generate_report", acks_late=True, reject_on_worker_lost=True)
def generate_report(self, period="7d", formats="both"):
    """Write the jobs report over the last `period` (`csv`, `html` or `both`) into the reports folder.

    The files are named after this job's id, so a redelivered run rewrites the same files. Returns
    their paths and the headline numbers; progress goes to the job's PROGRESS state as it works.
    """
    import uuid
    from pathlib import Path

    from schedcli.report import build_report, parse_formats
    from schedcli.timeparse import parse_period
    from schedcli.store import JobStore
    from schedcli.worker.hooks import report_progress

    period_seconds, wanted = parse_period(period), parse_formats(formats)
    settings = job_settings(self)
    with JobStore.open(settings.database_url) as store:
        return build_report(
            store, job_id=self.request.id or str(uuid.uuid4()), period_seconds=period_seconds, formats=wanted,
            reports_dir=Path(settings.reports_dir), now=time.time(),
            progress=lambda current, total, step: report_progress(self, current, total, step),
        )
