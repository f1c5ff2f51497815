"""Faults: the broker connection cut mid-send, a worker killed mid-job, concurrent senders on SQLite, a worker
started before RabbitMQ. Real RabbitMQ (never stopped: other sessions share it; a proxy of the test's own is
cut instead), real `schedcli` and worker processes."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from helpers import TEST_BROKER_URL, free_port, run_schedcli, wait_for_state

from schedcli.store import JobStore

pytestmark = pytest.mark.broker

ECHO = "schedcli.tasks.echo"


class TcpProxy:
    """Forwards 127.0.0.1:`port` to RabbitMQ, one thread per direction and connection.

    `cut()` drops every connection and stops listening, as a network failure would; with `cut_after_bytes`
    that happens by itself once so many bytes went towards RabbitMQ.
    """

    def __init__(self, port: int, cut_after_bytes: int | None = None):
        upstream = urlsplit(TEST_BROKER_URL)
        self.port = port
        self.upstream = (upstream.hostname, upstream.port or 5672)
        self.cut_after_bytes = cut_after_bytes
        self.forwarded = 0
        self.was_cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def url(self, broker_url: str) -> str:
        """`broker_url` (user, password, virtual host) through this proxy."""
        parts = urlsplit(broker_url)
        return parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{self.port}").geturl()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                server = socket.create_connection(self.upstream)
            except OSError:
                return
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, towards_broker: bool) -> None:
        try:
            while data := source.recv(65536):
                if towards_broker and self.cut_after_bytes is not None:
                    with self._lock:
                        room = self.cut_after_bytes - self.forwarded
                        self.forwarded += len(data)
                    if room <= len(data):
                        target.sendall(data[:max(room, 0)])
                        self.cut()
                        return
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            _shutdown(sock)

    def cut(self) -> None:
        self.was_cut.set()
        with self._lock:
            if self._listener is not None:
                _shutdown(self._listener)  # wakes the accept() blocked on it
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                _shutdown(sock)
                sock.close()
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def jobs_by_key(database_url: str) -> dict[str, list]:
    with JobStore.open(database_url) as store:
        jobs = store.list_jobs(limit=1_000_000)
    by_key: dict[str, list] = {}
    for job in jobs:
        by_key.setdefault(job.key, []).append(job)
    return by_key


def queue_depth(broker_url: str, queue: str) -> int:
    import amqp

    with amqp.Connection(**_amqp_options(broker_url)) as connection:
        return connection.channel().queue_declare(queue, passive=True).message_count


def drain_job_ids(broker_url: str, queue: str, expected: int) -> Counter:
    """Take every message out of `queue` (a test vhost's); how many times each job id was in it."""
    import amqp

    ids: Counter = Counter()
    with amqp.Connection(**_amqp_options(broker_url)) as connection:
        channel = connection.channel()
        channel.basic_qos(0, 5000, False)
        channel.basic_consume(queue, no_ack=True,
                              callback=lambda message: ids.update([message.properties["correlation_id"]]))
        deadline = time.monotonic() + 60
        while sum(ids.values()) < expected and time.monotonic() < deadline:
            try:
                connection.drain_events(timeout=1)
            except socket.timeout:
                pass
        try:  # anything beyond `expected` is counted too
            while True:
                connection.drain_events(timeout=0.5)
        except socket.timeout:
            pass
    return ids


def _amqp_options(broker_url: str) -> dict:
    parts = urlsplit(broker_url)
    return {"host": f"{parts.hostname}:{parts.port or 5672}", "userid": parts.username, "password": parts.password,
            "virtual_host": parts.path[1:] or "/"}


BULK = 10_000
DELAY_QUEUE = "celery_delayed_11"  # a job due in 1 h (2^11 <= 3599 s < 2^12) waits in delay level 11


@pytest.mark.slow
def test_a_bulk_send_cut_midway_records_only_confirmed_jobs_and_a_rerun_sends_only_the_missing(
        broker_url, database_url, tmp_path):
    jobs_file = tmp_path / "jobs.jsonl"
    jobs_file.write_text("".join(json.dumps({"args": [n], "in": "1h", "key": f"job-{n}"}) + "\n"
                                 for n in range(BULK)))
    keys = {f"job-{n}" for n in range(BULK)}
    port = free_port()
    # About 800 bytes a job: the connection drops around job 3,500, with up to 2,000 unconfirmed on the wire.
    proxy = TcpProxy(port, cut_after_bytes=3_000_000).start()
    via_proxy = {"SCHEDCLI_BROKER_URL": proxy.url(broker_url)}

    first = run_schedcli("call", ECHO, "--from-file", jobs_file, env=via_proxy, timeout=120)

    assert proxy.was_cut.is_set()
    assert first.returncode == 1, first.stderr[-2000:]
    assert "Traceback" not in first.stderr
    *problems, summary = first.stderr.splitlines()
    not_sent = {f"job-{int(line.split(':', 1)[0].removeprefix('line ')) - 1}" for line in problems}
    assert len(not_sent) == len(problems)
    by_key = jobs_by_key(database_url)
    scheduled = {key for key, jobs in by_key.items() if [job.state for job in jobs] == ["SCHEDULED"]}
    assert 0 < len(scheduled) < BULK
    assert scheduled.isdisjoint(not_sent) and scheduled | not_sent == keys
    assert summary == f"Sent {len(scheduled)} job(s) of {ECHO}; {len(not_sent)} line(s) failed"
    # Jobs that were on the wire when it dropped may have reached RabbitMQ unconfirmed: they are recorded
    # CANCELLED, so that such a copy is skipped by the worker; nothing is left half-sent.
    unconfirmed = {job.id: key for key, jobs in by_key.items() for job in jobs if job.state == "CANCELLED"}
    assert set(unconfirmed.values()) <= not_sent
    assert {job.state for jobs in by_key.values() for job in jobs} <= {"SCHEDULED", "CANCELLED"}
    assert len(scheduled) <= queue_depth(broker_url, DELAY_QUEUE) <= len(scheduled) + len(unconfirmed)

    proxy = TcpProxy(port).start()
    second = run_schedcli("call", ECHO, "--from-file", jobs_file, env=via_proxy, timeout=120)

    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stderr.strip() == (f"Sent {len(not_sent)} job(s) of {ECHO}, {len(scheduled)} already existed "
                                     "(same key)")
    by_key_after = jobs_by_key(database_url)
    active = {key: [job for job in jobs if job.state == "SCHEDULED"] for key, jobs in by_key_after.items()}
    assert set(active) == keys and all(len(jobs) == 1 for jobs in active.values())
    assert all(active[key][0].id == by_key[key][0].id for key in scheduled)  # the first run's jobs stayed
    in_rabbitmq = drain_job_ids(broker_url, DELAY_QUEUE, expected=BULK)
    assert {active[key][0].id: 1 for key in keys}.items() <= in_rabbitmq.items()
    extra = set(in_rabbitmq) - {jobs[0].id for jobs in active.values()}
    assert extra <= set(unconfirmed) and all(in_rabbitmq[job_id] == 1 for job_id in extra)


def test_a_send_whose_node_drops_goes_on_on_the_next_node_of_the_failover_list(broker_url, database_url,
                                                                               monkeypatch):
    from schedcli.jobs import sending
    from schedcli.jobs.requests import JobRequest
    from schedcli.settings import resolve_settings

    monkeypatch.setattr(sending, "BATCH", 500)  # many batches in one send, without sending tens of thousands
    proxy = TcpProxy(free_port(), cut_after_bytes=700_000).start()  # ~800 bytes a job: cut in the 2nd batch
    settings = resolve_settings(environ={"SCHEDCLI_BROKER_URL": f"{proxy.url(broker_url)};{broker_url}",
                                         "SCHEDCLI_DATABASE_URL": database_url})
    eta = time.time() + 3600
    requests = [JobRequest(ECHO, args=[n], eta=eta, key=f"job-{n}") for n in range(3000)]

    results = sending.Dispatcher(settings).send(requests)

    assert proxy.was_cut.is_set()
    not_sent = [result for result in results if not result.sent]
    # Only what was on the wire when the node dropped is not sent: the batches after it went to the next node.
    assert 0 < len(not_sent) <= 500, {result.error for result in not_sent}
    assert not any("lost earlier" in result.error for result in not_sent), {result.error for result in not_sent}
    first, last = results.index(not_sent[0]), results.index(not_sent[-1])
    assert last - first < 500 and all(result.sent for result in results[:first] + results[last + 1:])
    by_key = jobs_by_key(database_url)
    sent_keys = {result.request.key for result in results if result.sent}
    assert {key for key, jobs in by_key.items() if [job.state for job in jobs] == ["SCHEDULED"]} == sent_keys
    unconfirmed = [job for jobs in by_key.values() for job in jobs if job.state == "CANCELLED"]
    assert {job.key for job in unconfirmed} <= {result.request.key for result in not_sent}
    assert len(sent_keys) <= queue_depth(broker_url, DELAY_QUEUE) <= len(sent_keys) + len(unconfirmed)


@pytest.mark.slow
def test_a_report_job_killed_with_its_worker_runs_again_on_restart_and_writes_the_same_files(
        start_worker, database_url, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("SCHEDCLI_REPORTS_DIR", str(reports))
    seed_finished_jobs(database_url, 100_000)  # a report of half a second or so: long enough to be killed in
    first = start_worker("--concurrency", "1")
    result = run_schedcli("report", "run", "--period", "1d", "-q")
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()

    running = wait_for_state(database_url, job_id, "PROGRESS", timeout=30)
    first.kill()
    assert running.progress["current"] < running.progress["total"]
    assert not any(reports.glob(f"{job_id}.*"))

    second = start_worker("--concurrency", "1")
    done = wait_for_state(database_url, job_id, "SUCCESS", "FAILURE", timeout=60)

    assert done.state == "SUCCESS", done.error
    assert f"Task schedcli.tasks.generate_report[{job_id}] received" in second.log
    assert sorted(path.name for path in reports.iterdir()) == [f"{job_id}.csv", f"{job_id}.html"]
    assert done.result["jobs"] == 100_001  # every seeded job and the report job itself
    assert (reports / f"{job_id}.html").read_text().rstrip().endswith("</html>")


def seed_finished_jobs(database_url: str, count: int) -> None:
    """`count` succeeded jobs of the last hour, written straight into the SQLite store."""
    JobStore.open(database_url).close()  # the schema
    now = time.time()
    rows = ((f"seed-{n:09d}", "t.seed", "[]", "{}", "schedcli", "schedcli.app", "SUCCESS", now - 3000, now - 3600,
             now - 2999, now - 2998) for n in range(count))
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        connection.executemany(
            "INSERT INTO jobs (id, task, args, kwargs, queue, app, state, eta, created_at, started_at, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def test_a_publish_run_again_after_a_crash_publishes_the_article_once(start_worker, database_url):
    """What a redelivery after a worker died between the publish and the acknowledgement looks like to the next
    worker: the same message again, for a job the store still shows STARTED."""
    from schedcli.amqp.publisher import Publisher, TaskMessage
    from schedcli.amqp.routes import bundled_route
    from schedcli.settings import resolve_settings

    worker = start_worker()
    article = run_schedcli("article", "add", "Launch")
    article_id = int(article.stdout)
    sent = run_schedcli("publish", str(article_id), "-q")
    assert sent.returncode == 0, sent.stderr
    job_id = sent.stdout.strip()
    first = wait_for_state(database_url, job_id, "SUCCESS")
    with JobStore.open(database_url) as store:
        published_at = store.articles.get(article_id).published_at
    worker.stop()
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE jobs SET state = 'STARTED', result = NULL, finished_at = NULL WHERE id = ?",
                           (job_id,))

    with Publisher(resolve_settings()) as publisher:
        outcome = publisher.publish([TaskMessage(job_id, "schedcli.tasks.publish_article", [article_id], {},
                                                 route=bundled_route())], time.time())
        assert outcome.confirmed == [job_id]
        # Taken and never acknowledged, as by a worker that died: RabbitMQ delivers it again, marked redelivered.
        channel = publisher.connection.channel()
        assert channel.basic_get("schedcli", no_ack=False) is not None
        channel.close()
    worker = start_worker()
    worker.wait_for_log(f"Task schedcli.tasks.publish_article[{job_id}] succeeded")
    again = wait_for_state(database_url, job_id, "SUCCESS")

    assert first.result["published"] is True
    assert again.result == {"article_id": article_id, "published": False,
                            "already_published_at": first.result["published_at"]}
    with JobStore.open(database_url) as store:
        article = store.articles.get(article_id)
    assert (article.state, article.published_at) == ("published", published_at)


SENDERS, PER_SENDER = 4, 1000


@pytest.mark.slow
def test_four_senders_and_a_worker_on_one_sqlite_store_record_every_job_without_database_is_locked(
        start_worker, database_url, tmp_path):
    worker = start_worker("--concurrency", "2")
    files = []
    for sender in range(SENDERS):
        path = tmp_path / f"jobs{sender}.jsonl"
        path.write_text("".join(json.dumps({"args": [sender, n]}) + "\n" for n in range(PER_SENDER)))
        files.append(path)
    senders = [subprocess.Popen([sys.executable, "-m", "schedcli", "call", ECHO, "--from-file", str(path), "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in files]
    outputs = [sender.communicate(timeout=120) for sender in senders]

    assert [sender.returncode for sender in senders] == [0] * SENDERS, [err for _, err in outputs]
    ids = [job_id for out, _ in outputs for job_id in out.split()]
    assert len(set(ids)) == SENDERS * PER_SENDER
    # The worker ran jobs while they were sent; let it record some more (its main process writes successes in
    # batches, after Celery logged them), then look at everything.
    deadline = time.monotonic() + 120
    while True:
        with JobStore.open(database_url) as store:
            states = Counter(store.get(job_id).state for job_id in ids)
        if states["SUCCESS"] >= len(ids) // 10 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert set(states) <= {"QUEUED", "STARTED", "SUCCESS"}, states
    assert states["SUCCESS"] >= len(ids) // 10, (states, worker.log[-3000:])
    everything = "".join(out + err for out, err in outputs) + worker.log
    assert "locked" not in everything
    assert "Could not record" not in worker.log and "Job store unavailable" not in worker.log


def test_a_worker_started_before_rabbitmq_answers_retries_then_works_when_it_comes(start_worker, broker_url,
                                                                                   database_url):
    port = free_port()
    proxy = TcpProxy(port)
    worker = start_worker(wait=False, env={"SCHEDCLI_BROKER_URL": proxy.url(broker_url)})

    worker.wait_for_log("Trying again in", timeout=30)
    assert f"Cannot connect to amqp://guest:**@127.0.0.1:{port}/" in worker.log
    proxy.start()
    try:
        worker.wait_ready(timeout=30)
        result = run_schedcli("call", ECHO, "back", "-q")
        assert result.returncode == 0, result.stderr
        assert wait_for_state(database_url, result.stdout.strip(), "SUCCESS").result == {"args": ["back"],
                                                                                        "kwargs": {}}
        assert worker.process.poll() is None
    finally:
        worker.kill()
        proxy.cut()
