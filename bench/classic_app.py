"""The baseline of the timing and memory figures: a plain Celery app with classic ETA handling.

Celery's defaults: a classic queue behind a direct exchange, so RabbitMQ cannot delay messages and
the worker holds every scheduled job unacknowledged until it is due. Its one task records when it
started against the time it was asked for, into the SQLite file BENCH_STARTS_DB names.

    celery -A bench.classic_app worker --concurrency 2
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime, timezone

from celery import Celery

QUEUE = "bench_classic"
TASK = "bench.record_start"


def configure(celery_app: Celery) -> Celery:
    celery_app.conf.update(
        task_serializer="json", accept_content=["json"], task_default_queue=QUEUE, task_ignore_result=True,
        broker_transport_options={"confirm_publish": True}, worker_hijack_root_logger=False,
    )
    return celery_app


app = configure(Celery("bench_classic", broker=os.environ.get("SCHEDCLI_BROKER_URL")))
_connection: sqlite3.Connection | None = None


def starts_database(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS starts (eta REAL NOT NULL, started REAL NOT NULL)")
    return connection


@app.task(name=TASK, shared=False)  # on this app only: a plain Celery app of a test must not get it
def record_start(eta: float) -> None:
    """Record this job's start and the epoch time it was due."""
    started = time.time()
    global _connection
    if _connection is None:  # one connection per pool process, opened after the fork
        _connection = starts_database(os.environ["BENCH_STARTS_DB"])
    _connection.execute("INSERT INTO starts (eta, started) VALUES (?, ?)", (eta, started))


def send(broker_url: str, etas: Iterable[float]) -> None:
    """Send one job per epoch time in `etas` (read as each job is sent), with confirms, the classic way."""
    sender = configure(Celery("bench_classic_sender", broker=broker_url, set_as_current=False))
    try:
        with sender.producer_or_acquire() as producer:
            for eta in etas:
                sender.send_task(TASK, args=[eta], eta=datetime.fromtimestamp(eta, timezone.utc), producer=producer)
    finally:
        sender.close()


def read_starts(path: str) -> list[tuple[float, float]]:
    """(eta, started) of every job that started so far."""
    connection = starts_database(path)
    try:
        return connection.execute("SELECT eta, started FROM starts").fetchall()
    finally:
        connection.close()
