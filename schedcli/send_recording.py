"""Jobs that plain Celery sends (`apply_async`, `delay`, `celery call`) recorded in the job store as they are sent.

schedcli's own sender records every job before it publishes it. A job a program sends through Celery
itself is recorded here, from Celery's `after_task_publish` signal in the sending process, so `list
--scheduled`, `cancel` and `reschedule` find it before any worker has run it, with its queue and its
send time. `schedcli.app` installs this; a user's app adds one line, `schedcli.install(app)`.

A store that cannot be written never stops the user's send: it is logged, and a schedcli worker
records the job when it runs it, as before.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

from schedcli.amqp.delays import undelayed_routing_key
from schedcli.store import JobStore

logger = logging.getLogger(__name__)

# (pid, thread, url) -> store: a sending program may fork (a web server's workers) or send from threads.
_stores: dict[tuple[int, int, str], JobStore] = {}


# Where this process records what it sends: (the app's path, the store's URL), set by the last `install`.
_target: tuple[str, str] | None = None


def install(celery_app, app_path: str | None = None, database_url: str | None = None) -> None:
    """Record every job this process sends through Celery in schedcli's job store (the settings' store unless
    `database_url`). One app per process: the last `install` decides where its jobs are recorded.

    `app_path` is how schedcli loads the app again (`module:attribute`, as `--app` takes it) to stop a running
    job or read its result backend; by default `--app` / SCHEDCLI_APP, else the app's main module name.
    """
    global _target
    from celery import signals

    if app_path is None or database_url is None:
        from schedcli.settings import DEFAULT_APP, resolve_settings

        settings = resolve_settings()
        if app_path is None:
            app_path = settings.app if settings.app != DEFAULT_APP else celery_app.main
        database_url = database_url or settings.database_url
    _target = (app_path, database_url)
    signals.after_task_publish.connect(_on_published, weak=False, dispatch_uid="schedcli.record_sent")


def _on_published(sender=None, body=None, routing_key=None, headers=None, **_):
    if _target is None or not isinstance(sender, str) or sender.startswith("celery."):
        return  # Celery's own housekeeping tasks are not jobs
    try:
        _record(*_target, sender, body, routing_key, headers or {})
    except Exception as exc:  # whatever the store does, the send itself has succeeded
        _stores.pop((os.getpid(), threading.get_ident(), _target[1]), None)
        logger.warning("schedcli: could not record job %s in the job store (a schedcli worker records it when "
                       "it runs it): %s", (headers or {}).get("id"), exc)


def _record(app_path: str, url: str, task: str, body, routing_key: str | None, headers: dict) -> None:
    job_id = headers.get("id")
    if not job_id:
        return  # task protocol 1: too old to be worth reading
    args, kwargs = (body[0], body[1]) if isinstance(body, (list, tuple)) and len(body) >= 2 else ([], {})
    key = (os.getpid(), threading.get_ident(), url)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = JobStore.open(url)
    store.ensure_job(job_id, task, list(args), dict(kwargs), undelayed_routing_key(routing_key or ""), app_path,
                     _epoch(headers.get("eta")), _epoch(headers.get("expires")), now=time.time())


def _epoch(value) -> float | None:
    """An ISO 8601 time of a Celery header as epoch seconds (naive means UTC, as Celery writes it)."""
    if not value:
        return None
    from datetime import timezone

    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
