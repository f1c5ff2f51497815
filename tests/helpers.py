"""What tests of every tier share: running schedcli, the real RabbitMQ and workers, records in the store.

Fixtures live in conftest.py; plain functions and classes live here, imported as `from helpers import ...`.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from schedcli.exceptions import UnknownJob
from schedcli.store import Job, JobStore, NewJob

TEST_BROKER_URL = os.environ.get("SCHEDCLI_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


TESTS_DIR = Path(__file__).parent


POSTGRES_URL = os.environ.get("SCHEDCLI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run_schedcli(*args, env=None, timeout=60, input=None) -> subprocess.CompletedProcess:
    """Run schedcli as a real process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "schedcli", *[str(a) for a in args]],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, input=input,
    )


def broker_problem(url: str, timeout: float = 3.0) -> str | None:
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


def lock_file(name: str):
    """A file for fcntl.flock, the same for every test process on this machine (they share one RabbitMQ)."""
    return open(Path(tempfile.gettempdir()) / f"schedcli-tests-{name}.lock", "a")


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    # An environment of its own: the vhost pool calls this from a thread while tests set variables, and a child
    # started by vfork that inherits the process's environ can find it reallocated under it (EFAULT at exec,
    # "[Errno 14] Bad address: 'rabbitmqctl'", seen in CI).
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, check=check, timeout=60,
                          env=os.environ.copy())


class VhostPool:
    """Virtual hosts for one test process: made a batch at a time (one `rabbitmqctl eval` costs about a second,
    however many it handles) and deleted soon after their test, on a thread of the pool's own, while the next
    test runs. A used vhost holds RabbitMQ file handles for its queues until it is deleted: with several test
    processes, keeping a batch of them around ran RabbitMQ out of handles (limit ~900 at `ulimit -n` 1024),
    and then it stops accepting connections and declaring queues until some are freed.

    Adds and deletes never run side by side, in this process or in parallel ones (a lock file): RabbitMQ 3.10
    was seen to hang on vhost creation while deletions of vhosts full of quorum queues ran alongside. Deletes
    hold the broker lock shared, so that no test marked broker_wide runs meanwhile. Each name carries the test
    process's pid: vhosts left by a process that is gone (killed, or stopped during its session's end) are
    deleted by the next pool that starts."""

    BATCH = 8
    NAME = re.compile(r"schedcli-test-(\d+)-\d+")

    def __init__(self):
        self.prefix = f"schedcli-test-{os.getpid()}-"
        self.made = 0
        self.free: list[str] = []
        self._released = [name for name in rabbitmqctl("list_vhosts", "name").stdout.split()
                          if (match := self.NAME.fullmatch(name)) and not process_alive(int(match.group(1)))]
        self._error: Exception | None = None
        self._closing = False
        self._changed = threading.Condition()
        self._deleter = threading.Thread(target=self._delete_released, name="vhost-deleter", daemon=True)
        self._deleter.start()

    @staticmethod
    def _each(names: list[str], call: str) -> None:
        with lock_file("vhosts") as lock:  # the pools of parallel test processes take turns
            fcntl.flock(lock, fcntl.LOCK_EX)
            rabbitmqctl("eval", ", ".join(call.format(name=name) for name in names) + ", ok.")

    def take(self) -> str:
        if not self.free:
            names = [f"{self.prefix}{self.made + n}" for n in range(self.BATCH)]
            self._each(names, 'ok = rabbit_vhost:add(<<"{name}">>, <<"schedcli-tests">>), '
                              'ok = rabbit_auth_backend_internal:set_permissions(<<"guest">>, <<"{name}">>, '
                              '<<".*">>, <<".*">>, <<".*">>, <<"schedcli-tests">>)')
            self.made += len(names)
            self.free += names
        return self.free.pop(0)

    def release(self, name: str) -> None:
        with self._changed:
            self._released.append(name)
            self._changed.notify()

    def _delete_released(self) -> None:
        while True:
            with self._changed:
                while not self._released and not self._closing:
                    self._changed.wait()
                if not self._released:
                    return
                names, self._released = self._released, []
            try:
                with broker_turn(exclusive=False):
                    self._each(names, 'rabbit_vhost:delete(<<"{name}">>, <<"schedcli-tests">>)')
            except Exception as exc:  # raised at close: the session fails, the next pool deletes what is left
                self._error = exc

    def close(self) -> None:
        """Delete every vhost of the pool; raise what went wrong deleting any of them."""
        with self._changed:
            self._released += self.free
            self.free.clear()
            self._closing = True
            self._changed.notify()
        self._deleter.join()
        if self._error is not None:
            raise self._error


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


@contextmanager
def broker_turn(exclusive: bool):
    """Tests run in parallel (pytest-xdist) on one RabbitMQ. What changes it for everyone (a test marked
    broker_wide: an alarm, a restart, a global setting) waits until nothing else uses it and keeps everything
    else out until it ends. A lock file across processes, held shared or exclusive; passing through a turnstile
    first lets a waiting exclusive holder in before the shared ones that come after it."""
    with lock_file("broker-turnstile") as turnstile, lock_file("broker") as broker:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        fcntl.flock(broker, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def record_job(store: JobStore, *, state: str = "QUEUED", created: float, eta: float | None = None,
               task: str = "schedcli.tasks.echo", args: list | None = None, key: str | None = None,
               job_id: str | None = None, app: str = "schedcli.app", queue: str = "schedcli") -> str:
    """Write a job into the store as dispatch and the worker hooks would, in `state`; its id."""
    job_id = job_id or str(uuid.uuid4())
    store.record_sending([NewJob(id=job_id, task=task, args=args if args is not None else [], kwargs={},
                                 queue=queue, app=app, eta=eta, expires=None, key=key)], created)
    store.mark_sent([job_id], created)
    if state in ("STARTED", "PROGRESS", "SUCCESS", "FAILURE"):
        store.mark_started(job_id, "w0@box", created + 1)
    if state == "PROGRESS":
        store.mark_progress(job_id, 1, 2, "half")
    elif state == "SUCCESS":
        store.mark_succeeded(job_id, "ok", created + 2)
    elif state == "FAILURE":
        store.mark_failed(job_id, "ValueError", "bad", "Traceback ...", created + 2)
    elif state == "CANCELLED":
        store.cancel(job_id, created + 1)
    return job_id


def wait_for_state(database_url: str, job_id: str, *states: str, timeout: float = 30) -> Job:
    """Poll the store until the job is in one of `states`."""
    deadline = time.monotonic() + timeout
    job = None
    with JobStore.open(database_url) as store:
        while True:
            try:
                job = store.get(job_id)
            except UnknownJob:
                job = None
            if job is not None and job.state in states:
                return job
            if time.monotonic() > deadline:
                seen = job.state if job else "not recorded"
                raise AssertionError(f"job {job_id} is {seen}, not {'/'.join(states)}, after {timeout}s")
            time.sleep(0.05)


def open_store():
    from schedcli.settings import resolve_settings
    from schedcli.store import JobStore

    return JobStore.open(resolve_settings().database_url)


def wait_for_states(ids: list[str], states: set[str], timeout: float) -> dict:
    """Poll the store until every job is in one of `states`; return the jobs by id."""
    deadline = time.monotonic() + timeout
    with open_store() as jobs:
        while True:
            current = {job_id: jobs.get(job_id) for job_id in ids}
            if all(job.state in states for job in current.values()):
                return current
            if time.monotonic() > deadline:
                counts = {}
                for job in current.values():
                    counts[job.state] = counts.get(job.state, 0) + 1
                raise AssertionError(f"after {timeout}s the jobs are {counts}, not all in {states}")
            time.sleep(0.2)


def queue_counts(vhost_url: str) -> dict[str, tuple[int, int]]:
    """{queue: (ready, unacknowledged)} as RabbitMQ reports them."""
    vhost = vhost_url.rsplit("/", 1)[1]
    out = rabbitmqctl("list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged").stdout
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            counts[parts[0]] = (int(parts[1]), int(parts[2]))
    return counts


HOOKPROJ = ("--app", "hookproj:app")


def send(cli_runner, *args, app=HOOKPROJ) -> str:
    result = cli_runner(*app, "call", *args, "-q")
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


RENDER_NOW = 1_800_000_000.0  # Fri 15 Jan 2027 11:00:00 MSK


HOSTILE = "no [red]x[/red] \x1b[2J"


def make_job(**fields) -> Job:
    values = dict(
        id="3f2c9a1e-6d1b-4f0e-9c7a-2b5d8e1f0a3c", task="hookproj.boom", args=[HOSTILE], kwargs={}, key=None,
        queue="hookproj", app="hookproj:app", state="SCHEDULED", eta=RENDER_NOW + 90000, expires=None,
        created_at=RENDER_NOW - 60, started_at=None, finished_at=None, worker=None, progress=None, retries=0,
        next_retry_at=None, result=None, error=None, rescheduled_to=None, rescheduled_from=None,
    )
    values.update(fields)
    return Job(**values)


def insert_rows(database_url: str, table: str, rows: list[dict]) -> None:
    """Rows straight into a table of an SQLite job store, as the report's tests seed it (the schema made first)."""
    import sqlite3

    JobStore.open(database_url).close()
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        for row in rows:
            connection.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                               tuple(row.values()))
    connection.close()


def job_row(task: str, state: str, created_at: float, **fields) -> dict:
    """A row of the jobs table, for `insert_rows`."""
    return {"id": str(uuid.uuid4()), "task": task, "state": state, "created_at": created_at, "args": "[]",
            "kwargs": "{}", "queue": "schedcli", "app": "schedcli.app", **fields}


def read_csv_sections(path: str) -> dict[str, list[list[str]]]:
    """The report CSV as {section: [row, ...]} (header rows, whose first cell is `section`, left out)."""
    import csv
    import io

    sections: dict[str, list[list[str]]] = {}
    for row in csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"), newline="")):
        if row and row[0] != "section":
            sections.setdefault(row[0], []).append(row[1:])
    return sections


def listed(cli_runner, *options) -> list[str]:
    """The ids `schedcli list --json [options]` prints, in its order."""
    import json

    result = cli_runner("list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [job["id"] for job in json.loads(result.stdout)]


DOCTOR_FIX_SETTINGS = ('task_default_queue_type = "quorum"', 'task_default_exchange_type = "topic"',
                       'broker_native_delayed_delivery_queue_type = "quorum"')


def doctor(*args, timeout="0.5"):
    """Run `schedcli [args] doctor --json`; the exit code and the checks by name."""
    import json

    result = run_schedcli(*args, "doctor", "--json", "--timeout", timeout)
    report = json.loads(result.stdout)
    assert report["ok"] == (result.returncode == 0), result.stdout
    return result.returncode, {check["check"]: check for check in report["checks"]}


def send_recorded(database_url: str, sender, task: str, args: list, queue: str, app: str,
                  countdown: float | None = None, expires: float | None = None) -> str:
    """Record the job and send it with the Celery app `sender`, the way dispatch does: SENDING, publish, then
    SCHEDULED/QUEUED."""
    now = time.time()
    job = NewJob(id=str(uuid.uuid4()), task=task, args=args, kwargs={}, queue=queue, app=app,
                 eta=now + countdown if countdown else None, expires=now + expires if expires else None, key=None)
    with JobStore.open(database_url) as store:
        store.record_sending([job], now)
        sender.send_task(task, args=args, task_id=job.id, countdown=countdown, expires=expires, queue=queue)
        store.mark_sent([job.id], time.time())
    return job.id


def send_hookproj(database_url: str, sender, task: str, args: list, **options) -> str:
    """`send_recorded` to the queue of a worker of tests/userapps/hookproj."""
    return send_recorded(database_url, sender, task, args, "hookproj", "hookproj:app", **options)
