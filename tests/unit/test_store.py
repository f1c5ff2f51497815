"""The job store on SQLite, no services: the store contract (tests/store_contract.py) and SQLite's own behaviour."""

from __future__ import annotations

import pytest

from schedcli.exceptions import DatabaseError
from schedcli.store import JobStore, is_transient
from schedcli.store.schema import SCHEMA_VERSION
from store_contract import *  # noqa: F401,F403  the contract's tests run here, on SQLite
from store_contract import NOW


@pytest.fixture
def store_url(tmp_path):
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'store' / 'jobs.db'}"


def test_sqlite_store_is_in_wal_mode_and_its_folder_is_created(tmp_path):
    path = tmp_path / "deep" / "er" / "jobs.db"
    with JobStore.open(f"sqlite:///{path}") as store:
        assert list(store.query("PRAGMA journal_mode")) == [("wal",)]
    assert path.is_file()


def test_a_version_1_store_is_migrated_and_keeps_its_articles(tmp_path):
    import sqlite3

    path = tmp_path / "v1.db"
    connection = sqlite3.connect(path)
    connection.executescript("""
        CREATE TABLE schedcli_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO schedcli_meta VALUES ('schema_version', '1');
        CREATE TABLE jobs (id TEXT PRIMARY KEY, task TEXT NOT NULL, args TEXT NOT NULL, kwargs TEXT NOT NULL,
            job_key TEXT, queue TEXT NOT NULL, app TEXT NOT NULL, state TEXT NOT NULL, eta DOUBLE PRECISION,
            expires DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL, started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION, worker TEXT, progress TEXT, retries INTEGER NOT NULL DEFAULT 0,
            next_retry_at DOUBLE PRECISION, result TEXT, error_type TEXT, error_message TEXT, traceback TEXT,
            rescheduled_to TEXT, rescheduled_from TEXT);
        CREATE TABLE articles (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT,
            state TEXT NOT NULL, publish_at DOUBLE PRECISION, published_at DOUBLE PRECISION, publish_job_id TEXT,
            created_at DOUBLE PRECISION NOT NULL);
        INSERT INTO articles (title, state, publish_at, published_at, created_at)
            VALUES ('Old news', 'published', 100.0, 101.0, 50.0);
    """)
    connection.close()
    with JobStore.open(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION
        old = store.articles.get(1)
        assert (old.title, old.state, old.published_at) == ("Old news", "published", 101.0)
        assert store.articles.add("New", None, NOW) == 2


def test_a_version_4_store_leaves_jobs_not_finished_and_not_of_a_schedule_out_of_two_indexes(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path / 'v4.db'}"
    JobStore.open(url).close()
    connection = sqlite3.connect(tmp_path / "v4.db")
    connection.executescript("""
        DROP INDEX jobs_finished_at; CREATE INDEX jobs_finished_at ON jobs (finished_at);
        DROP INDEX jobs_schedule_occurrence; CREATE UNIQUE INDEX jobs_schedule_occurrence ON jobs (schedule, occurrence);
        UPDATE schedcli_meta SET value = '4' WHERE name = 'schema_version';
    """)
    connection.close()
    with JobStore.open(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        indexes = dict(store.query("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN "
                                   "('jobs_finished_at', 'jobs_schedule_occurrence')"))
        assert indexes["jobs_finished_at"].endswith("WHERE finished_at IS NOT NULL")
        assert indexes["jobs_schedule_occurrence"].endswith("WHERE schedule IS NOT NULL")
        plan = " ".join(str(row) for row in store.query(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE schedule = 'daily' AND occurrence = 5"))
        assert "jobs_schedule_occurrence" in plan


def test_a_store_that_cannot_be_opened_is_one_line_naming_the_masked_url(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseError) as info:
        JobStore.open(f"sqlite:///{blocker}/jobs.db")
    assert str(info.value).startswith(f"job store sqlite:///{blocker}/jobs.db: cannot open the database")

    from helpers import free_port

    with pytest.raises(DatabaseError) as info:
        JobStore.open(f"postgresql://schedcli:topsecret@127.0.0.1:{free_port()}/jobs")
    message = str(info.value)
    assert "topsecret" not in message and "schedcli:***@127.0.0.1" in message and "\n" not in message
    assert is_transient(info.value)  # a server that is down may come back: worth retrying


def test_a_file_that_is_not_a_database_is_a_database_error(tmp_path):
    path = tmp_path / "jobs.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(DatabaseError, match="file is not a database"):
        JobStore.open(f"sqlite:///{path}")


def test_the_gates_lone_statement_waits_for_another_writer_as_a_transaction_does(store_url):
    import sqlite3
    import threading
    import time

    from store_contract import new_job, send

    with JobStore.open(store_url) as store, JobStore.open(store_url) as gate:
        job = new_job(eta=NOW + 60)
        send(store, job)
        path = store_url.removeprefix("sqlite:///")
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        released = threading.Timer(0.5, holder.rollback)
        released.start()
        started = time.monotonic()
        try:
            assert gate.mark_started(job.id, "worker@host", NOW, may_restart=False) == "STARTED"
        finally:
            released.join()
            holder.close()
        assert time.monotonic() - started >= 0.4  # it waited for the lock instead of failing with 'locked'
        assert gate.get(job.id).state == "STARTED"
