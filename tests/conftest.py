"""Shared fixtures: an isolated environment for every test, the real RabbitMQ, real worker processes.

Tests that cross the broker use the RabbitMQ on 127.0.0.1:5672 (or SCHEDCLI_TEST_BROKER_URL), each
in a virtual host of its own so leftovers of one test never reach another's worker. When RabbitMQ
does not answer, those tests fail with a message saying how to start it; they never skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner
from helpers import (POSTGRES_URL, TEST_BROKER_URL, TESTS_DIR, VhostPool,
                     WorkerProcess, broker_problem, broker_turn, run_schedcli)


def pytest_collection_modifyitems(items):
    """The cluster test and the slow ones first: run in parallel, the longest start early and the short ones
    fill in around them, instead of one process ending the run alone on a 100-second test."""
    items.sort(key=lambda item: (item.get_closest_marker("cluster") is None, item.get_closest_marker("slow") is None))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test gets its own data and config folders, no schedcli variables, no colour, a wide terminal."""
    for name in list(os.environ):
        if name.startswith("SCHEDCLI_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("SCHEDCLI_TZ", "UTC")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS_DIR / "userapps"),
                                                                     os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(TESTS_DIR / "userapps"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    """A fresh SQLite job store for this test, also exported to subprocesses."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    monkeypatch.setenv("SCHEDCLI_DATABASE_URL", url)
    return url


@pytest.fixture
def cli_runner():
    """Run schedcli in-process and return the result (stdout and stderr kept apart)."""
    from schedcli.cli import cli

    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def schedcli_process():
    return run_schedcli


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    """The real RabbitMQ's URL; fails (never skips) when it does not answer."""
    problem = broker_problem(TEST_BROKER_URL)
    if problem:
        pytest.fail(
            f"RabbitMQ does not answer at {TEST_BROKER_URL} ({problem}). These tests need the real broker: "
            "start it with `rabbitmq-server -detached` (install: `apt-get install -y rabbitmq-server`), "
            "or run `bash .ci/run`, which does both.",
            pytrace=False,
        )
    return TEST_BROKER_URL


@pytest.fixture(autouse=True)
def broker_turn_of_the_test(request):
    """A broker test holds the broker lock shared; one marked broker_wide holds it alone (helpers.broker_turn)."""
    if "rabbitmq" not in request.fixturenames:
        yield
        return
    with broker_turn(exclusive=request.node.get_closest_marker("broker_wide") is not None):
        yield


@pytest.fixture(scope="session")
def vhost_pool(rabbitmq):
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is not on PATH; the broker tests create a virtual host each", pytrace=False)
    pool = VhostPool()
    yield pool
    pool.close()


@pytest.fixture
def broker_url(rabbitmq, vhost_pool, monkeypatch):
    """A virtual host of this test's own on the real RabbitMQ; its URL is exported to subprocesses."""
    parts = urlsplit(rabbitmq)
    vhost = vhost_pool.take()
    url = f"{parts.scheme}://{parts.netloc}/{vhost}"
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", url)
    yield url
    vhost_pool.release(vhost)


@pytest.fixture
def start_worker(broker_url, database_url, tmp_path):
    """Start real workers: `start_worker("--concurrency", "2")`; all are stopped after the test."""
    workers: list[WorkerProcess] = []

    def start(*extra: str, app_args: tuple[str, ...] = (), wait: bool = True, env: dict | None = None):
        name = f"w{len(workers)}-{uuid.uuid4().hex[:6]}@%h"
        args = [*app_args, "worker", "start", "--hostname", name, "--loglevel", "info", *extra]
        if not any(a.startswith("--concurrency") or a == "-c" for a in extra):
            args += ["--concurrency", "2"]
        worker = WorkerProcess(args, {**os.environ, **(env or {})}, tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:  # the vhost is thrown away: no need for a warm shutdown
        worker.kill()


@pytest.fixture(scope="session")
def postgres_database():
    """A database of this test session's own on the real PostgreSQL, dropped at the end."""
    import psycopg2

    try:
        admin = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL does not answer at {POSTGRES_URL} ({' '.join(str(exc).split())}). The store "
                    "tests need it: start it, or point SCHEDCLI_TEST_POSTGRES_URL at one.", pytrace=False)
    admin.autocommit = True
    name = f"schedcli_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    yield f"{base}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def postgres_store_url(postgres_database):
    """An empty schema of the session's PostgreSQL database, as a job store URL (dropped after the test)."""
    import psycopg2

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg2.connect(postgres_database) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
    yield f"{postgres_database}?options={quote(f'-csearch_path={schema}')}"
    connection = psycopg2.connect(postgres_database)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    connection.close()


@pytest.fixture
def hookproj_sender(broker_url):
    """A plain Celery app that sends to the hookproj worker's queue."""
    from celery import Celery

    app = Celery("hookproj-sender", broker=broker_url)
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()
