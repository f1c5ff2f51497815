"""Security: JSON only on the wire, secrets never shown, TLS settings reach both publishers, job data cannot drive
the terminal, report files stay in the reports folder."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
import time
import uuid
from urllib.parse import quote

import pytest

from helpers import free_port
from schedcli.store import JobStore
from helpers import record_job

PASSWORD = "s3cr3t-pw"


def shows_no_password(result) -> str:
    """The whole output of a cli_runner or subprocess result, once checked for PASSWORD."""
    text = result.stdout + result.stderr
    assert PASSWORD not in text and quote(PASSWORD) not in text, text
    return text


def test_failing_commands_do_not_show_the_passwords(cli_runner, database_url):
    down = f"amqp://guest:{PASSWORD}@127.0.0.1:{free_port()}//"
    unreachable_store = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/jobs"
    malformed = (f"amqp://guest:{PASSWORD}@[::1", f"amqp://guest:{PASSWORD}@127.0.0.1:99999//",
                 f"http://guest:{PASSWORD}@127.0.0.1//", f"amqp://guest:{PASSWORD}/x@127.0.0.1//")
    with JobStore.open(database_url) as store:
        job_id = record_job(store, state="SCHEDULED", created=time.time(), eta=time.time() + 3600)
    runs = []
    for broker in (down, *malformed):
        for args in (("call", "schedcli.tasks.echo", "x"), ("report", "run", "--json"), ("worker", "status"),
                     ("reschedule", job_id, "--in", "1h"), ("doctor", "--json"), ("config", "--json")):
            runs.append(cli_runner("--broker", broker, *args))
    for args in (("list", "--json"), ("status", job_id), ("call", "schedcli.tasks.echo", "x"), ("article", "add", "T"),
                 ("worker", "start"), ("doctor", "--json"), ("config",)):
        for store in (unreachable_store, f"postgresql://postgres:{PASSWORD}@127.0.0.1:port/jobs"):
            runs.append(cli_runner("--broker", down, "--database", store, *args))
    for result in runs:
        shows_no_password(result)
    assert {result.exit_code for result in runs} >= {1, 2, 69, 74}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A CA, a client certificate it signed, and two server certificates: for 127.0.0.1, and for another name."""
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    new_key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *new_key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA")
    for name, extension in (("client", ""), ("server", "subjectAltName=IP:127.0.0.1"),
                            ("impostor", "subjectAltName=DNS:rabbit.elsewhere.example")):
        (folder / f"{name}.ext").write_text(extension + "\n")
        openssl("req", *new_key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return folder


class TlsListener:
    """A TLS server on 127.0.0.1 that wants a client certificate from the test CA; it records each handshake."""

    def __init__(self, folder, certificate: str):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(folder / f"{certificate}.pem", folder / f"{certificate}.key")
        self.context.load_verify_locations(folder / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.handshakes: list[str] = []  # the client certificate's common name, or why the handshake failed
        self.changed = threading.Condition()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(client, server_side=True) as tls:
                    subject = dict(part[0] for part in tls.getpeercert()["subject"])
                    self.handshakes.append(subject["commonName"])
            except (ssl.SSLError, OSError) as exc:
                self.handshakes.append(f"failed: {exc}")
            with self.changed:
                self.changed.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.handshakes) >= count, timeout=10)
        return self.handshakes

    def close(self) -> None:
        self.sock.close()


def connect_both_ways(settings) -> None:
    """Connect as schedcli's publisher does, then as Celery (and so every worker) does; both must fail here, the
    listener speaking no AMQP."""
    from schedcli.app import create_app
    from schedcli.amqp.publisher import Publisher
    from schedcli.exceptions import BrokerUnavailable

    with pytest.raises(BrokerUnavailable):
        Publisher(settings, connect_timeout=3).open()
    connection = create_app(settings).connection_for_write()
    with pytest.raises(Exception):
        connection.ensure_connection(max_retries=0, timeout=3)
    connection.release()


@pytest.mark.parametrize("certificate, seen", [("server", "client"), ("impostor", "failed")])
def test_tls_settings_reach_schedclis_publisher_and_celery_which_check_the_broker_and_show_a_client_certificate(
        tls_files, monkeypatch, certificate, seen):
    from schedcli.settings import resolve_settings

    listener = TlsListener(tls_files, certificate)
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", f"amqps://guest:guest@127.0.0.1:{listener.port}//")
    monkeypatch.setenv("SCHEDCLI_BROKER_CA_FILE", str(tls_files / "ca.pem"))
    monkeypatch.setenv("SCHEDCLI_BROKER_CERT_FILE", str(tls_files / "client.pem"))
    monkeypatch.setenv("SCHEDCLI_BROKER_KEY_FILE", str(tls_files / "client.key"))
    try:
        connect_both_ways(resolve_settings())
        handshakes = listener.wait_for(2)
    finally:
        listener.close()
    # A certificate for another name is refused by both: they check the name, not only the CA's signature.
    assert [handshake.split(":")[0] for handshake in handshakes] == [seen, seen], handshakes


def test_an_amqps_url_and_the_certificate_settings_reach_celery_and_schedclis_publisher(tmp_path, monkeypatch):
    from schedcli.app import create_app
    from schedcli.amqp.publisher import connection_options
    from schedcli.worker.apps import load_celery_app
    from schedcli.settings import resolve_settings

    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    monkeypatch.setenv("SCHEDCLI_BROKER_URL", "amqps://jobs:pw@rabbit.internal:5671/prod")
    monkeypatch.setenv("SCHEDCLI_BROKER_CA_FILE", str(files["ca"]))
    monkeypatch.setenv("SCHEDCLI_BROKER_CERT_FILE", str(files["cert"]))
    monkeypatch.setenv("SCHEDCLI_BROKER_KEY_FILE", str(files["key"]))
    settings = resolve_settings()
    wanted = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(files["ca"]), "certfile": str(files["cert"]),
              "keyfile": str(files["key"])}

    celery_app = create_app(settings)
    assert celery_app.conf.broker_use_ssl == {**wanted, "server_hostname": None}  # kombu puts the URL's host in
    assert load_celery_app(settings).conf.broker_use_ssl == celery_app.conf.broker_use_ssl  # what workers use
    options = connection_options(settings, connect_timeout=4.0)
    assert options["ssl"] == {**wanted, "server_hostname": "rabbit.internal"}
    assert (options["host"], options["virtual_host"]) == ("rabbit.internal:5671", "prod")


def test_a_plain_amqp_url_uses_no_tls(monkeypatch, tmp_path):
    from schedcli.app import create_app
    from schedcli.amqp.publisher import connection_options
    from schedcli.settings import resolve_settings

    monkeypatch.setenv("SCHEDCLI_BROKER_CA_FILE", str(tmp_path / "ca.pem"))
    settings = resolve_settings({"broker_url": "amqp://guest:guest@localhost:5672//"})
    assert not create_app(settings).conf.broker_use_ssl
    assert "ssl" not in connection_options(settings, connect_timeout=4.0)


# -- job data on a terminal -------------------------------------------------------------------------

HOSTILE = "no [red]x[/red] [link=http://evil.example]click[/link] \x1b[2J\x1b]8;;http://evil.example\x07"
ONLY_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def terminal(monkeypatch):
    """stdout and stderr count as a colour terminal."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")


def hostile_job(**fields):
    from helpers import make_job

    values = dict(task=f"evil{HOSTILE}", args=[HOSTILE], kwargs={"k": HOSTILE}, state="SCHEDULED",
                  eta=time.time() + 3600)
    values.update(fields)
    return make_job(**values)


def assert_shown_as_text(out: str, *literally: str) -> None:
    """Only colours reach the terminal, and the job data is there as text, with ESC made visible."""
    without_colours = ONLY_COLOURS.sub("", out)
    assert "\x1b" not in without_colours and "\x07" not in without_colours, repr(out)
    for text in literally or ("[red]x[/red]", "[link=http://evil.example]click[/link]"):
        assert text in without_colours, repr(out)
    assert "\\x1b[2J" in without_colours or "\\u001b[2J" in without_colours, repr(out)


def test_list_on_a_terminal_shows_job_data_as_text(terminal, capsys):
    from schedcli.cli.rendering import render_job_table

    # Short values: table cells are cut at 40 characters.
    render_job_table([hostile_job(task="[red]x[/red]\x1b[2J", args=["[link=http://e.x]a[/link]"], kwargs={})],
                     "UTC")
    assert_shown_as_text(capsys.readouterr().out, "[red]x[/red]", "[link=http://e.x]a[/link]")


def test_what_call_prints_on_a_terminal_shows_job_data_as_text(terminal, capsys):
    from schedcli.cli.rendering import render_sent

    render_sent(hostile_job(), "UTC")
    render_sent(hostile_job(), "UTC", existing=True)
    assert_shown_as_text(capsys.readouterr().out)


def test_the_outcome_wait_prints_on_a_terminal_shows_job_data_as_text(terminal, capsys):
    from schedcli.cli.rendering import render_outcome

    render_outcome(hostile_job(state="SUCCESS", result={"r": HOSTILE}))
    assert_shown_as_text(capsys.readouterr().out)
    render_outcome(hostile_job(state="FAILURE", error={"type": "ValueError", "message": HOSTILE,
                                                       "traceback": f"Traceback ...\nValueError: {HOSTILE}\n"}))
    assert_shown_as_text(capsys.readouterr().err)


@pytest.mark.parametrize("progress", [{"current": 1, "total": 2, "step": HOSTILE},
                                      {"current": "[red]1", "total": "many", "step": HOSTILE}])
def test_the_progress_wait_draws_on_a_terminal_shows_its_step_as_text(terminal, capsys, monkeypatch, progress):
    from schedcli.cli.rendering import follow_job_live
    from schedcli.jobs import reading
    from schedcli.settings import resolve_settings

    monkeypatch.setattr(reading, "WATCH_INTERVAL", 0.01)
    started = time.monotonic()

    class Store:
        def get(self, job_id):  # running for half a second (a few redraws), then done
            if time.monotonic() - started < 0.5:
                return hostile_job(state="PROGRESS", progress=progress)
            return hostile_job(state="SUCCESS", result=1)

    views = reading.JobReader(resolve_settings(), Store()).follow("id")
    assert follow_job_live(views).state == "SUCCESS"
    err = capsys.readouterr().err
    assert HOSTILE.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in err
    assert "\x1b]8;" not in err and "\x1b[2J" not in err


def test_cancel_and_reschedule_on_a_terminal_show_job_data_as_text(terminal, capsys):
    from types import SimpleNamespace

    from schedcli.cli.rendering import render_cancelled, render_rescheduled

    job = hostile_job()
    render_cancelled([SimpleNamespace(id=job.id, cancelled=True, reason=HOSTILE, job=job)])
    render_rescheduled(job, hostile_job(id=str(uuid.uuid4())), "UTC")
    assert_shown_as_text(capsys.readouterr().out)
    render_cancelled([SimpleNamespace(id=HOSTILE, cancelled=False, reason=HOSTILE, job=None)])
    assert_shown_as_text(capsys.readouterr().err)
