"""Bad input over every command: one line on stderr, the exit code docs/exit-codes.md gives, no traceback,
nothing sent to RabbitMQ and nothing half-written in the job store.

Most cases run in-process (`cli_runner`); a representative few run as real processes, through `main()`.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import free_port, record_job, run_schedcli

from schedcli.jobs.requests import MAX_MESSAGE_BYTES
from schedcli.store import JobStore

EXIT_CODES_DOC = (Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md").read_text(encoding="utf-8")
ECHO = "schedcli.tasks.echo"
JOB = "bbbbbbbb-0000-4000-8000-000000000001"  # a scheduled job
TWINS = ("aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002")  # one prefix, two jobs
ARTICLE = "1"
UNKNOWN_JOB = "cccccccc-0000-4000-8000-000000000009"


def exit_code_table() -> dict[int, str]:
    """The table of docs/exit-codes.md: {code: meaning}."""
    section = EXIT_CODES_DOC
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)}


EXIT_CODES = exit_code_table()


def test_the_readme_documents_every_exit_code_schedcli_uses():
    from schedcli import exceptions

    raised = {cls.exit_code for cls in vars(exceptions).values()
              if isinstance(cls, type) and issubclass(cls, exceptions.SchedcliError)}
    assert raised | {0, 1, 2, 70} == set(EXIT_CODES)


# -- what every case checks -------------------------------------------------------------------------

class QuietVhost:
    """A virtual host in which no case may leave a message; one connection to count them, kept open between
    cases, and opened again when a broker_wide test on another worker restarted RabbitMQ between two."""

    QUEUES = ["schedcli", *(f"celery_delayed_{level}" for level in range(28))]

    def __init__(self, url: str):
        self.url = url
        self.connection = None

    def _connect(self) -> None:
        import amqp

        parts = urlsplit(self.url)
        self.connection = amqp.Connection(host=f"{parts.hostname}:{parts.port or 5672}", userid=parts.username,
                                          password=parts.password, virtual_host=parts.path[1:])
        self.connection.connect()

    def messages(self) -> int:
        """Messages in the job queue and the delay levels (a queue never declared counts 0)."""
        import amqp

        if self.connection is None:
            self._connect()
        try:
            return self._count()
        except (OSError, amqp.exceptions.RecoverableConnectionError):
            self.close()
            self._connect()
            return self._count()

    def _count(self) -> int:
        import amqp

        total = 0
        channel = self.connection.channel()
        for queue in self.QUEUES:
            try:
                total += channel.queue_declare(queue, passive=True).message_count
            except amqp.exceptions.NotFound:  # py-amqp reopens the channel the broker closed for it
                pass
        channel.close()
        return total

    def close(self) -> None:
        import amqp

        if self.connection is not None:
            try:
                self.connection.close()
            except (OSError, amqp.exceptions.RecoverableConnectionError):  # the broker closed it first
                pass
            self.connection = None


@pytest.fixture(scope="module")
def quiet_vhost(vhost_pool, rabbitmq):
    parts = urlsplit(rabbitmq)
    name = vhost_pool.take()
    vhost = QuietVhost(f"{parts.scheme}://{parts.netloc}/{name}")
    yield vhost
    vhost.close()
    vhost_pool.release(name)


@pytest.fixture
def world(quiet_vhost, database_url, monkeypatch):
    """A store with an article, a scheduled job and two jobs sharing their first 8 characters; the quiet vhost."""
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", quiet_vhost.url)
    now = time.time()
    with JobStore.open(database_url) as store:
        store.articles.add("Launch", None, now)
        for job_id in (JOB, *TWINS):
            record_job(store, state="SCHEDULED", created=now, eta=now + 3600, job_id=job_id)
    return Path(database_url.removeprefix("sqlite:///"))


def snapshot(path: Path) -> list:
    with sqlite3.connect(path) as connection:
        return [connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("schedcli_meta", "jobs", "articles")]


def check_refused(result, code: int, row_says: str, *, world_path: Path | None = None, before=None,
                  vhost: QuietVhost | None = None) -> str:
    """`result` (cli_runner or subprocess) failed as documented; its one stderr line."""
    exit_code = getattr(result, "exit_code", getattr(result, "returncode", None))
    stderr = result.stderr
    assert exit_code == code, (exit_code, result.stdout, stderr)
    assert row_says in EXIT_CODES[code], f"docs/exit-codes.md row {code} ({EXIT_CODES[code]!r}) does not cover {row_says!r}"
    assert "Traceback" not in stderr and "Traceback" not in result.stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert result.stdout == ""
    if world_path is not None:
        assert snapshot(world_path) == before, "the store changed"
    if vhost is not None:
        assert vhost.messages() == 0, "something was sent"
    return lines[0]


@pytest.fixture
def refused(world, quiet_vhost, cli_runner):
    """Run schedcli in-process and check it failed as documented: `refused(code, row_says, *args)`."""
    def run(code: int, row_says: str, *args, **checks) -> str:
        before = snapshot(world)
        result = cli_runner(*args)
        return check_refused(result, code, row_says, world_path=world, before=before, vhost=quiet_vhost,
                             **checks)

    return run


# -- the matrix ---------------------------------------------------------------------------------------

# Every command with arguments it would accept. `worker start` only where it fails before a worker runs.
VALID = {
    "when": ("when", "in 1h"),
    "call": ("call", ECHO, "1"),
    "publish": ("publish", ARTICLE),
    "report run": ("report", "run"),
    "article add": ("article", "add", "Title"),
    "article list": ("article", "list"),
    "status": ("status", JOB),
    "list": ("list",),
    "cancel": ("cancel", JOB),
    "reschedule": ("reschedule", JOB, "--in", "2h"),
    "retry": ("retry", JOB),
    "prune": ("prune", "--finished-before", "30d"),
    "worker status": ("worker", "status"),
    "worker start": ("worker", "start"),
    "doctor": ("doctor",),
    "config": ("config",),
}
USES_THE_STORE = ["call", "publish", "report run", "article add", "article list", "status", "list", "cancel",
                  "reschedule", "retry", "prune", "worker start"]
SENDS = ["call", "publish", "report run", "reschedule"]
USES_RABBITMQ = [*SENDS, "worker status"]


@pytest.mark.parametrize("command", VALID)
def test_an_unknown_option_is_bad_usage(refused, command):
    assert "--bogus" in refused(2, "unknown option", *VALID[command], "--bogus")


@pytest.mark.parametrize("args", [("bogus",), ("article", "bogus"), ("report", "bogus"), ("worker", "bogus"),
                                  ("--bogus", "list")])
def test_an_unknown_command_or_global_option_is_bad_usage(refused, args):
    refused(2, "unknown option", *args)


@pytest.mark.parametrize("config", ["broker_url = [not toml", 'bogus_setting = "x"', "timezone = 3"])
@pytest.mark.parametrize("command", VALID)
def test_a_bad_config_file_is_exit_78_for_every_command(refused, command, config):
    Path("schedcli.toml").write_text(config)
    line = refused(78, "bad config file", *VALID[command])
    assert "schedcli.toml" in line


TIMES = {
    "malformed": ("soonish", "bogus o'clock"),
    "past": ("5 minutes ago", "2020-01-01 08:00"),
    "too distant": ("in 3200 days", "2040-01-01"),
}


@pytest.mark.parametrize("kind", TIMES)
@pytest.mark.parametrize("args", [("call", ECHO, "{option}", "{value}"), ("publish", ARTICLE, "{option}", "{value}"),
                                  ("report", "run", "{option}", "{value}"), ("reschedule", JOB, "{option}", "{value}"),
                                  ("call", ECHO, "--in", "1h", "--expires", "{value}")])
def test_a_malformed_past_or_too_distant_time_is_bad_usage(refused, args, kind):
    delay, moment = TIMES[kind]
    for option, value in (("--in", delay), ("--at", moment)):
        refused(2, "bad time expression", *(a.format(option=option, value=value) for a in args))


@pytest.mark.parametrize("args", [("when", "soonish"), ("when", "2020-01-01"), ("when", "in 3200 days"),
                                  ("when", "in 1h", "--now", "yesterday"), ("when", "9am", "--tz", "Mars/Olympus"),
                                  ("--tz", "Mars/Olympus", "call", ECHO, "--at", "9am"),
                                  ("list", "--since", "forever")])
def test_when_and_list_refuse_bad_times_and_zones(refused, args):
    refused(2, "bad time expression", *args)


@pytest.mark.parametrize("args", [("call", "schedcli.tasks.nope"), ("call", "nope", "--from-file", "-"),
                                  ("--app", "no_such_module:app", "call", "x"),
                                  ("--app", "hookproj:missing", "worker", "status")])
def test_an_unknown_task_or_app_is_bad_usage(refused, args):
    refused(2, "unknown task", *args)


@pytest.mark.parametrize("args", [("--args", "not json"), ("--args", '{"a": 1}'), ("--kwargs", "[1, 2]"),
                                  ("--kwargs", "{oops")])
def test_arguments_that_are_not_the_json_asked_for_are_bad_usage(refused, args):
    refused(2, "bad JSON", "call", ECHO, *args)


@pytest.mark.parametrize("how", ["arg", "--args", "--kwargs"])
def test_arguments_over_the_message_limit_are_bad_usage(refused, how):
    big = "x" * MAX_MESSAGE_BYTES
    args = {"arg": (big,), "--args": ("--args", json.dumps([big])), "--kwargs": ("--kwargs", json.dumps({"k": big}))}
    line = refused(2, "arguments over 1 MB", "call", ECHO, *args[how])
    assert f"the limit is {MAX_MESSAGE_BYTES:,} bytes" in line


@pytest.mark.parametrize("command", ["status", "cancel", "reschedule"])
def test_unknown_ambiguous_and_too_short_ids(refused, command):
    extra = ("--in", "1h") if command == "reschedule" else ()
    assert refused(3, "unknown job", command, UNKNOWN_JOB, *extra).endswith(f"unknown job {UNKNOWN_JOB}")
    assert refused(3, "unknown job", command, UNKNOWN_JOB[:8], *extra).endswith(f"unknown job {UNKNOWN_JOB[:8]}")
    line = refused(2, "ambiguous id", command, "aaaaaaaa", *extra)
    assert TWINS[0] in line and TWINS[1] in line
    assert "at least 8" in refused(2, "bad usage", command, "aaaa", *extra)


def test_an_unknown_or_malformed_article_id(refused):
    assert refused(3, "unknown job, article or schedule", "publish", "999").endswith("unknown article 999")
    refused(2, "bad usage", "publish", "forty-two")


@pytest.mark.parametrize("args", [("list", "--state", "bogus"), ("list", "--limit", "0"),
                                  ("worker", "status", "--timeout", "-1"), ("article", "add", " "),
                                  ("article", "add", "T", "--body-file", "/nonexistent/body.md"),
                                  ("report", "run", "--period", "7x"), ("report", "run", "--format", "pdf"),
                                  ("reschedule", JOB), ("call", ECHO, "--in", "1h", "--at", "9am"),
                                  ("call", ECHO, "1", "--args", "[2]"), ("call", ECHO, "--key", ""),
                                  ("call", ECHO, "--from-file", "-", "--key", "k"),
                                  ("cancel", "--state", "started"), ("cancel", "--state", "scheduled", "--terminate"),
                                  ("cancel", JOB, "--state", "scheduled"), ("cancel", JOB, "--dry-run"),
                                  ("retry", "--state", "success"), ("retry", JOB, "--task", ECHO),
                                  ("prune", "--finished-before", "soonish"), ("prune", "--finished-before", "1d",
                                                                              "--state", "scheduled")])
def test_other_bad_option_values_are_bad_usage(refused, args):
    refused(2, "bad usage", *args)


BROKER_DOWN = "amqp://guest:guest@127.0.0.1:{port}//"


@pytest.mark.parametrize("command", USES_RABBITMQ)
def test_a_broker_that_is_down_is_exit_69_and_changes_nothing(refused, command):
    line = refused(69, "RabbitMQ unavailable", "--broker", BROKER_DOWN.format(port=free_port()), *VALID[command])
    assert "rabbitmq-server -detached" in line


@pytest.mark.parametrize("command", [*USES_RABBITMQ, "worker start"])
def test_a_refused_login_is_exit_69_and_changes_nothing(refused, quiet_vhost, command):
    wrong = quiet_vhost.url.replace("guest:guest@", "guest:wrong@")
    line = refused(69, "refused the login", "--broker", wrong, *VALID[command])
    assert "ACCESS_REFUSED" in line and "guest:***@" in line


@pytest.mark.parametrize("url", ["amqp://guest:guest@[::1", "amqp://guest:guest@127.0.0.1:99999//",
                                 "http://guest:guest@127.0.0.1//", "amqp://guest:gu/est@127.0.0.1//"])
@pytest.mark.parametrize("command", [*USES_RABBITMQ, "worker start"])
def test_a_malformed_broker_url_is_bad_usage(refused, command, url):
    line = refused(2, "malformed URL", "--broker", url, *VALID[command])
    assert "malformed broker URL" in line


@pytest.mark.parametrize("command", USES_THE_STORE)
def test_an_unreachable_or_malformed_database_is_exit_74(refused, command):
    for url in (f"postgresql://schedcli@127.0.0.1:{free_port()}/jobs", "postgresql://schedcli@db:port/jobs",
                "nosuchdb://x/y"):
        line = refused(74, "job store cannot be opened", "--database", url, *VALID[command])
        assert line.startswith(f"Error: job store {url}: cannot ")


@pytest.mark.parametrize("command", USES_THE_STORE)
def test_a_store_with_a_newer_schema_is_exit_74(refused, world, command):
    with sqlite3.connect(world) as connection:
        connection.execute("UPDATE schedcli_meta SET value = '99' WHERE name = 'schema_version'")
    line = refused(74, "newer schema", *VALID[command])
    assert "schema version 99, newer than this schedcli knows" in line


WRITES = ["call", "publish", "report run", "article add", "cancel", "reschedule"]


@pytest.fixture
def locked_store(world, monkeypatch):
    """Another connection holds the store's write lock; writers here give up after 0.2 s instead of 30 s."""
    monkeypatch.setattr("schedcli.store.connection.BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(world, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.rollback()
    holder.close()


@pytest.mark.parametrize("command", WRITES)
def test_a_store_locked_by_another_process_is_exit_74_after_the_busy_timeout(refused, locked_store, command):
    started = time.monotonic()
    line = refused(74, "job store cannot be opened or written", *VALID[command])
    assert line.endswith("cannot write: database is locked")
    assert time.monotonic() - started < 5


def test_reads_go_on_while_another_process_holds_the_write_lock(cli_runner, locked_store):
    assert cli_runner("status", JOB).exit_code == 0
    assert cli_runner("list", "--json").exit_code == 0


def test_a_report_into_a_folder_that_cannot_be_created_is_exit_73_before_sending(refused, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(blocker / "reports"))
    line = refused(73, "reports folder", "report", "run")
    assert line == f"Error: cannot create the reports folder {blocker / 'reports'}: {blocker} is not a folder"


def test_a_bulk_file_of_bad_lines_reports_each_by_number_sends_nothing_and_exits_1(world, quiet_vhost, cli_runner):
    lines = ["not json", '{"args": 5}', '{"in": "5 minutes ago"}', '{"at": "2040-01-01"}', '{"in": "1h", "at": "9am"}',
             '{"when": "1h"}', json.dumps({"args": ["x" * MAX_MESSAGE_BYTES]}), '{"key": ""}']
    before = snapshot(world)
    result = cli_runner("call", ECHO, "--from-file", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 1 and "some lines of a bulk send failed" in EXIT_CODES[1]
    *problems, summary = result.stderr.splitlines()
    assert [problem.split(":", 1)[0] for problem in problems] == [f"line {n}" for n in range(1, len(lines) + 1)]
    assert summary == f"Sent 0 job(s) of {ECHO}; {len(lines)} line(s) failed"
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot(world) == before and quiet_vhost.messages() == 0


def test_doctor_reports_a_broken_setup_as_rows_and_exit_1(cli_runner, world):
    result = cli_runner("--broker", BROKER_DOWN.format(port=free_port()),
                        "--database", f"postgresql://schedcli@127.0.0.1:{free_port()}/jobs", "doctor", "--json")
    assert result.exit_code == 1 and "`doctor` found an error" in EXIT_CODES[1]
    checks = {check["check"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["rabbitmq"]["level"] == checks["database"]["level"] == "error"


# -- real processes, through main() -------------------------------------------------------------------

@pytest.mark.parametrize("args, code, row_says", [
    (("call", ECHO, "--at", "2020-01-01 08:00"), 2, "bad time expression"),
    (("call", "schedcli.tasks.nope", "1"), 2, "unknown task"),
    (("status", UNKNOWN_JOB), 3, "unknown job"),
    (("--broker", BROKER_DOWN, "call", ECHO, "1"), 69, "RabbitMQ unavailable"),
    (("--broker", "amqp://guest:guest@[::1", "worker", "start"), 2, "malformed URL"),
    (("--database", "postgresql://schedcli@127.0.0.1:{port}/jobs", "list"), 74, "job store cannot be opened"),
])
def test_in_a_real_process_bad_input_is_one_line_with_the_documented_code(world, quiet_vhost, args, code, row_says):
    before = snapshot(world)
    result = run_schedcli(*(arg.format(port=free_port()) for arg in args))
    check_refused(result, code, row_says, world_path=world, before=before, vhost=quiet_vhost)


def test_in_a_real_process_a_bad_config_file_is_exit_78(world):
    Path("schedcli.toml").write_text("[[[")
    check_refused(run_schedcli("status", JOB), 78, "bad config file")


def test_a_store_locked_briefly_waits_and_then_succeeds(world):
    holder = sqlite3.connect(world, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    releaser = threading.Timer(1.0, holder.rollback)
    releaser.start()
    started = time.monotonic()
    result = run_schedcli("article", "add", "While locked")
    releaser.join()
    holder.close()
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.0
    assert result.stdout.strip() == "2"


def run_where_file_modes_apply(*args) -> subprocess.CompletedProcess:
    """`run_schedcli`, but for root too chmod counts: the process cannot override file modes."""
    def drop_file_mode_override():
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, out of the bounding set
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")

    return subprocess.run([sys.executable, "-m", "schedcli", *args], capture_output=True, text=True, timeout=60,
                          preexec_fn=drop_file_mode_override if os.geteuid() == 0 else None)


@pytest.fixture
def read_only(tmp_path):
    """chmod a-w the given paths, given back at the end so that pytest can clean up."""
    paths = []

    def make(*given: Path) -> None:
        for path in given:
            path.chmod(0o555 if path.is_dir() else 0o444)
            paths.append(path)

    yield make
    for path in paths:
        path.chmod(stat.S_IRWXU)


def test_a_read_only_store_is_exit_74_and_stays_unchanged(tmp_path, read_only, quiet_vhost, monkeypatch):
    folder = tmp_path / "store"
    url = f"sqlite:///{folder / 'jobs.db'}"
    with JobStore.open(url) as store:
        record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 3600, job_id=JOB)
    read_only(*folder.iterdir(), folder)
    before = snapshot(folder / "jobs.db")
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", quiet_vhost.url)
    for args in (("call", ECHO, "1"), ("article", "add", "T"), ("cancel", JOB)):
        line = check_refused(run_where_file_modes_apply("--database", url, *args), 74,
                             "job store cannot be opened or written", world_path=folder / "jobs.db", before=before,
                             vhost=quiet_vhost)
        assert "readonly database" in line


def test_a_reports_folder_that_is_not_writable_is_exit_73_and_nothing_is_sent(tmp_path, read_only, quiet_vhost,
                                                                            monkeypatch):
    reports = tmp_path / "reports"
    reports.mkdir()
    read_only(reports)
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", quiet_vhost.url)
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(reports))
    result = run_where_file_modes_apply("--database", f"sqlite:///{tmp_path / 'jobs.db'}", "report", "run")
    line = check_refused(result, 73, "reports folder", vhost=quiet_vhost)
    assert line == f"Error: the reports folder {reports} is not writable"
    assert not (tmp_path / "jobs.db").exists()
