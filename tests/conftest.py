"""Shared fixtures: an isolated environment for every test, the real RabbitMQ, real worker processes.

Tests that cross the broker use the RabbitMQ on 127.0.0.1:5672 (or SCHEDCLI_TEST_BROKER_URL), each
in a virtual host of its own so leftovers of one test never reach another's worker. When RabbitMQ
does not answer, those tests fail with a message saying how to start it; they never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

TEST_BROKER_URL = os.environ.get("SCHEDCLI_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
TESTS_DIR = Path(__file__).parent
POSTGRES_URL = os.environ.get("SCHEDCLI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


def run_schedcli(*args, env=None, timeout=60, input=None) -> subprocess.CompletedProcess:
    """Run schedcli as a real process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "schedcli", *[str(a) for a in args]],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, input=input,
    )


@pytest.fixture
def schedcli_process():
    return run_schedcli


def _broker_answers(url: str, timeout: float = 3.0) -> str | None:
    """None when RabbitMQ accepts a login at `url`, else why not."""
    import amqp

    parts = urlsplit(url)
    try:
        connection = amqp.Connection(
            host=f"{parts.hostname}:{parts.port or 5672}", userid=parts.username or "guest",
            password=parts.password or "guest", connect_timeout=timeout,
        )
        connection.connect()
        connection.close()
        return None
    except Exception as exc:  # socket errors, refused login, protocol errors
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    """The real RabbitMQ's URL; fails (never skips) when it does not answer."""
    problem = _broker_answers(TEST_BROKER_URL)
    if problem:
        pytest.fail(
            f"RabbitMQ does not answer at {TEST_BROKER_URL} ({problem}). These tests need the real broker: "
            "start it with `rabbitmq-server -detached` (install: `apt-get install -y rabbitmq-server`), "
            "or run `bash .ci/run`, which does both.",
            pytrace=False,
        )
    return TEST_BROKER_URL


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, check=check, timeout=60)


class VhostPool:
    """Virtual hosts made and deleted a batch at a time: one `rabbitmqctl eval` costs about a second, however
    many it handles. Deleting happens in this process, never beside an add: RabbitMQ 3.10 was seen to hang on
    vhost creation while deletions of vhosts full of quorum queues ran alongside."""

    BATCH = 8

    def __init__(self):
        self.session = uuid.uuid4().hex[:8]
        self.made = 0
        self.free: list[str] = []
        self.used: list[str] = []

    @staticmethod
    def _each(names: list[str], call: str) -> None:
        rabbitmqctl("eval", ", ".join(call.format(name=name) for name in names) + ", ok.")

    def take(self) -> str:
        if not self.free:
            self.delete_used()
            names = [f"schedcli-test-{self.session}-{self.made + n}" for n in range(self.BATCH)]
            self._each(names, 'ok = rabbit_vhost:add(<<"{name}">>, <<"schedcli-tests">>), '
                              'ok = rabbit_auth_backend_internal:set_permissions(<<"guest">>, <<"{name}">>, '
                              '<<".*">>, <<".*">>, <<".*">>, <<"schedcli-tests">>)')
            self.made += len(names)
            self.free += names
        name = self.free.pop(0)
        self.used.append(name)
        return name

    def delete_used(self) -> None:
        if self.used:
            self._each(self.used, 'rabbit_vhost:delete(<<"{name}">>, <<"schedcli-tests">>)')
            self.used.clear()

    def delete_all(self) -> None:
        self.used += self.free
        self.free.clear()
        self.delete_used()


@pytest.fixture(scope="session")
def vhost_pool(rabbitmq):
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is not on PATH; the broker tests create a virtual host each", pytrace=False)
    pool = VhostPool()
    yield pool
    pool.delete_all()


@pytest.fixture
def broker_url(rabbitmq, vhost_pool, monkeypatch):
    """A virtual host of this test's own on the real RabbitMQ; its URL is exported to subprocesses."""
    parts = urlsplit(rabbitmq)
    vhost = vhost_pool.take()
    url = f"{parts.scheme}://{parts.netloc}/{vhost}"
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", url)
    return url


class WorkerProcess:
    """A real `schedcli worker start` subprocess whose log is collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "schedcli", *args], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with open(self.log_path, "a") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                with self._changed:
                    self.lines.append(line)
                    if " ready." in line:
                        self._ready.set()
                    self._changed.notify_all()

    def wait_ready(self, timeout: float = 60) -> None:
        if not self._ready.wait(timeout):
            raise AssertionError(f"worker not ready after {timeout}s; log:\n{self.log}")

    def wait_for_log(self, text: str, timeout: float = 30, count: int = 1) -> None:
        """Wait until `text` appears `count` times in the log."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(text in line for line in self.lines) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"{text!r} not seen {count}x in the worker log:\n{self.log}")
                self._changed.wait(min(remaining, 0.5))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (a warm shutdown) and wait for the process to end."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(5)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group, pool processes included, as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self._reader.join(5)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
