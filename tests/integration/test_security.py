"""Security: JSON only on the wire, secrets never shown, TLS settings reach both publishers, job data cannot drive
the terminal, report files stay in the reports folder."""

from __future__ import annotations

import json
import pickle
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from helpers import rabbitmqctl, run_schedcli
from helpers import wait_for_state

PASSWORD = "s3cr3t-pw"


# -- JSON only ------------------------------------------------------------------------------------

class WritesAFile:
    """Unpickling this writes `path`: what a pickle payload could do on a worker that accepted pickle."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write('pwned')",)


@pytest.mark.broker
def test_a_pickle_message_on_the_queue_is_rejected_and_logged_never_run(start_worker, broker_url, database_url,
                                                                        tmp_path):
    import amqp

    worker = start_worker()
    target = tmp_path / "pwned"
    job_id = str(uuid.uuid4())
    payload = pickle.dumps(((WritesAFile(str(target)),), {}, {}))
    parts = urlsplit(broker_url)
    with amqp.Connection(host=f"{parts.hostname}:{parts.port}", userid=parts.username, password=parts.password,
                         virtual_host=parts.path[1:]) as connection:
        channel = connection.channel()
        channel.basic_publish(
            amqp.Message(payload, content_type="application/x-python-serialize", content_encoding="binary",
                         application_headers={"lang": "py", "task": "schedcli.tasks.echo", "id": job_id,
                                              "root_id": job_id, "retries": 0, "argsrepr": "()",
                                              "kwargsrepr": "{}"}),
            exchange="schedcli", routing_key="schedcli")

    worker.wait_for_log("Refusing to deserialize untrusted content of type pickle")
    result = run_schedcli("call", "schedcli.tasks.echo", "after", "-q")  # the worker goes on
    assert wait_for_state(database_url, result.stdout.strip(), "SUCCESS").result["args"] == ["after"]
    assert not target.exists()
    assert f"[{job_id}] succeeded" not in worker.log and worker.process.poll() is None


# -- secrets --------------------------------------------------------------------------------------

@pytest.fixture
def secret_broker_url(broker_url):
    """The test's vhost, as a RabbitMQ user of the test's own whose password is PASSWORD."""
    user = f"schedcli-test-{uuid.uuid4().hex[:8]}"
    vhost = urlsplit(broker_url).path[1:]
    rabbitmqctl("eval", f'ok = rabbit_auth_backend_internal:add_user(<<"{user}">>, <<"{PASSWORD}">>, <<"test">>), '
                        f'ok = rabbit_auth_backend_internal:set_permissions(<<"{user}">>, <<"{vhost}">>, '
                        f'<<".*">>, <<".*">>, <<".*">>, <<"test">>).')
    yield f"amqp://{user}:{PASSWORD}@127.0.0.1:5672/{vhost}"
    rabbitmqctl("delete_user", user, check=False)


@pytest.fixture
def secret_urls(secret_broker_url, postgres_store_url, database_url, monkeypatch):
    """Broker and job store URLs that both hold PASSWORD (PostgreSQL here trusts local logins and ignores it)."""
    database_url = postgres_store_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", secret_broker_url)
    monkeypatch.setenv("SCHEDCLI_DATABASE_URL", database_url)
    return secret_broker_url, database_url


def shows_no_password(result) -> str:
    """The whole output of a cli_runner or subprocess result, once checked for PASSWORD."""
    text = result.stdout + result.stderr
    assert PASSWORD not in text and quote(PASSWORD) not in text, text
    return text


@pytest.mark.broker
def test_no_command_shows_the_passwords_in_output_errors_json_or_worker_logs(secret_urls, start_worker,
                                                                           cli_runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(tmp_path / "reports"))
    worker = start_worker()

    def run(*args, code=0):
        result = cli_runner(*args)
        text = shows_no_password(result)
        assert result.exit_code == code, text
        return result

    article_id = json.loads(run("article", "add", "Launch", "--json").stdout)["id"]
    run("article", "list")
    run("article", "list", "--json")
    published = json.loads(run("publish", str(article_id), "--in", "1h", "--json").stdout)["id"]
    run("publish", str(article_id), "--at", "tomorrow 12:00")
    run("report", "run", "--json", "--wait")
    run("call", "schedcli.tasks.echo", "x", "--wait")
    sent = json.loads(run("call", "schedcli.tasks.echo", "y", "--in", "1h", "--json").stdout)["id"]
    run("when", "in 1h", "--json")
    for view in ((), ("--json",)):
        run("status", sent, *view)
        run("list", *view)
        run("worker", "status", "--timeout", "0.5", *view)
        run("doctor", "--timeout", "0.5", *view)
        run("config", *view)
    moved = json.loads(run("reschedule", sent, "--in", "2h", "--json").stdout)["id"]
    run("cancel", moved, published, "--json")
    assert "***" in run("config", "--json").stdout
    assert PASSWORD not in worker.log and "succeeded" in worker.log


@pytest.mark.broker
def test_a_refused_login_does_not_show_the_password(rabbitmq, database_url):
    wrong = f"amqp://guest:{PASSWORD}@127.0.0.1:5672//"
    for args in (("call", "schedcli.tasks.echo", "x"), ("worker", "status"), ("worker", "start")):
        result = run_schedcli("--broker", wrong, *args, timeout=30)
        shows_no_password(result)
        assert result.returncode == 69, result.stderr


@pytest.fixture
def terminal(monkeypatch):
    """stdout and stderr count as a colour terminal."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")


@pytest.mark.broker
def test_the_report_job_writes_only_inside_the_reports_folder_whatever_its_arguments(start_worker, database_url,
                                                                                    tmp_path, monkeypatch):
    from schedcli.amqp.publisher import Publisher, TaskMessage
    from schedcli.amqp.routes import bundled_route
    from schedcli.settings import resolve_settings

    box = tmp_path / "box"
    reports = box / "reports"
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(reports))
    worker = start_worker()
    hostile = [
        (str(uuid.uuid4()), ["../../../outside", "both"]),
        (str(uuid.uuid4()), ["7d", "../../../outside"]),
        (str(uuid.uuid4()), ["7d", ["csv", "../../outside"]]),
        (str(uuid.uuid4()), ["7d", {"csv": "/tmp/outside"}]),
        ("../../outside", ["7d", "both"]),
        (f"{tmp_path}/outside", ["7d", "csv"]),
        ("x/../../../outside", ["7d", "html"]),
    ]
    fine = str(uuid.uuid4())
    now = time.time()
    with Publisher(resolve_settings()) as publisher:
        outcome = publisher.publish(
            [TaskMessage(job_id, "schedcli.tasks.generate_report", args, {}, route=bundled_route())
             for job_id, args in [*hostile, (fine, ["1d", "both"])]], now)
    assert len(outcome.confirmed) == len(hostile) + 1

    assert wait_for_state(database_url, fine, "SUCCESS").result["paths"] == [str(reports / f"{fine}.csv"),
                                                                             str(reports / f"{fine}.html")]
    for job_id, _ in hostile:
        job = wait_for_state(database_url, job_id, "FAILURE")
        assert job.error["type"] == "schedcli.exceptions.BadInput", job.error
    assert [path.name for path in box.iterdir()] == ["reports"]
    assert sorted(path.name for path in reports.iterdir()) == [f"{fine}.csv", f"{fine}.html"]
    assert not list(tmp_path.rglob("outside*")) and not list(Path("/tmp").glob("outside*"))
    assert worker.process.poll() is None
