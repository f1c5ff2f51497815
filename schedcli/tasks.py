"""The bundled jobs: `schedcli.tasks.generate_report` and `schedcli.tasks.publish_article`."""

from __future__ import annotations

from celery import shared_task

BUNDLED_TASK_NAMES = ("schedcli.tasks.generate_report", "schedcli.tasks.publish_article", "schedcli.tasks.echo")


@shared_task(name="schedcli.tasks.echo", acks_late=True, reject_on_worker_lost=True)
def echo(*args, **kwargs):
    """Return what it was given; a smoke-test job."""
    return {"args": list(args), "kwargs": kwargs}
