"""Broker failover on a real three-node RabbitMQ cluster started on this machine for the test: the node
leading the queues is SIGKILLed while sends go on; every confirmed job runs once and on time; doctor shows the
node down, then warns of queues with fewer than three members once the dead node is taken out of them.

The nodes are the test's own (node names, AMQP and distribution ports, data folders of their own), so the
shared RabbitMQ on 5672 is never touched; they are killed by the pids in their pid files and their folders
removed at the end, whatever happened.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import WorkerProcess, free_port, run_schedcli

from schedcli.store import JobStore

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ECHO = "schedcli.tasks.echo"
NODES = 3
SENDS, PER_SEND = 10, 100  # 1,000 jobs, due 20-60 s after each send
KILL_AFTER_SENDS = 3  # the leader dies once this many sends are done, while the rest go on


class Node:
    def __init__(self, base: Path, number: int, session: str):
        self.name = f"schedcli-{session}-{number}@localhost"
        self.folder = base / f"node{number}"
        self.port, self.dist_port = free_port(), free_port()
        self.pid_file = self.folder / "pid"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def env(self) -> dict[str, str]:
        return {**os.environ, "RABBITMQ_NODENAME": self.name, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.folder / "log"), "RABBITMQ_PID_FILE": str(self.pid_file),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
                # /etc/rabbitmq/rabbitmq.conf may pin the listener to 5672: a config file of the node's own.
                "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf")}

    def prepare(self) -> None:
        self.folder.mkdir()
        (self.folder / "enabled_plugins").write_text("[].\n")
        # client-local: a queue is led by the node its declarer is connected to (the first of the broker list)
        (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
                                                   "queue_leader_locator = client-local\n")

    def ctl(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["rabbitmqctl", "-q", "-n", self.name, *args], capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"rabbitmqctl -n {self.name} {' '.join(args)}: {result.stderr or result.stdout}")
        return result

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env(), check=True, timeout=60,
                       capture_output=True)
        deadline = time.monotonic() + 90
        while self.ctl("await_startup", "--timeout", "60", timeout=70, check=False).returncode != 0:
            if time.monotonic() > deadline:  # still booting answers "not running" at first: ask again
                raise AssertionError(f"{self.name} did not start; log in {self.folder / 'log'}")
            time.sleep(0.5)

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM (its own pid, from its pid file) and wait until it is gone."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@pytest.fixture
def rabbitmq_cluster():
    """Three RabbitMQ nodes joined into one cluster; yields the nodes (first is the one the others joined)."""
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmq-server is not installed (`apt-get install -y rabbitmq-server`, or run `bash .ci/run`)")
    base = Path(tempfile.mkdtemp(prefix="schedcli-cluster-"))
    session = uuid.uuid4().hex[:8]
    nodes = [Node(base, number, session) for number in range(1, NODES + 1)]
    try:
        for node in nodes:
            node.prepare()
        if os.getuid() == 0:  # rabbitmq-server and rabbitmqctl switch to the rabbitmq user when run as root
            user = pwd.getpwnam("rabbitmq")
            for path in [base, *base.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)
        with ThreadPoolExecutor(NODES) as starting:  # in parallel: each takes several seconds
            list(starting.map(Node.start, nodes))
        for node in nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", nodes[0].name)
            node.ctl("start_app")
        yield nodes
    finally:
        for node in nodes:
            node.kill()
        shutil.rmtree(base, ignore_errors=True)


def queue_leaders(node: Node) -> dict[str, dict]:
    """schedcli's queue and the delay levels: {name: {"leader", "members", "online"}}."""
    output = node.ctl("list_queues", "name", "type", "leader", "members", "online", "--formatter", "json").stdout
    queues = json.loads(output[re.search(r"^\[", output, re.MULTILINE).start():])
    return {queue["name"]: queue for queue in queues
            if queue["name"] == "schedcli" or queue["name"].startswith("celery_delayed_")}


def doctor_cluster_check(env: dict, node: Node) -> dict:
    """`schedcli doctor --json`'s cluster check, read through `node` (the one rabbitmqctl asks)."""
    result = run_schedcli("doctor", "--json", "--timeout", "1", env={**env, "RABBITMQ_NODENAME": node.name})
    return next(check for check in json.loads(result.stdout)["checks"] if check["check"] == "cluster")


def send(jobs_file: Path, env: dict) -> tuple[list[str], list[str], int, str]:
    """One `schedcli call --from-file -q`: the ids it reported sent, its problem lines, its exit code, stderr."""
    result = run_schedcli("call", ECHO, "--from-file", jobs_file, "-q", env=env, timeout=120)
    sent = result.stdout.split()
    problems = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    return sent, problems, result.returncode, result.stderr


def test_killing_the_queues_leader_while_sending_loses_no_confirmed_job_and_runs_none_twice_or_early(
        rabbitmq_cluster, postgres_store_url, tmp_path):
    from schedcli.amqp.publisher import Publisher
    from schedcli.amqp.routes import bundled_route
    from schedcli.settings import resolve_settings

    nodes = rabbitmq_cluster
    # The queues first, declared over a connection to the first node: a quorum queue is led by the node its
    # declarer is connected to (client-local), though an election under load may move some.
    with Publisher(resolve_settings(environ={"SCHEDCLI_BROKER_URL": nodes[0].url})) as publisher:
        publisher.ensure_topology(bundled_route(None))
    queues = queue_leaders(nodes[1])
    assert len(queues) == 29 and all(len(queue["members"]) == NODES for queue in queues.values()), queues
    leader = next(node for node in nodes if node.name == queues["schedcli"]["leader"])
    survivor = next(node for node in nodes if node is not leader)
    print("leaders:", {node.name: sum(queue["leader"] == node.name for queue in queues.values()) for node in nodes})
    # The leader first in the list: the workers and the senders are connected to the node that is killed.
    broker = ";".join(node.url for node in [leader, *(node for node in nodes if node is not leader)])
    env = {**os.environ, "SCHEDCLI_BROKER_URL": broker, "SCHEDCLI_DATABASE_URL": postgres_store_url}
    workers = [WorkerProcess(["worker", "start", "--hostname", f"cluster{number}-{uuid.uuid4().hex[:6]}@%h",
                              "--loglevel", "info", "--concurrency", "2"], env, tmp_path / f"worker{number}.log")
               for number in (1, 2)]
    try:
        for worker in workers:
            worker.wait_ready()

        outcomes, killed = [], threading.Event()
        for number in range(SENDS):
            if number == KILL_AFTER_SENDS:  # killed while the next send starts, and the sends go on
                threading.Thread(target=lambda: (time.sleep(0.3), leader.kill(), killed.set()), daemon=True).start()
            jobs_file = tmp_path / f"jobs{number}.jsonl"
            jobs_file.write_text("".join(json.dumps({"args": [number, n], "in": f"{20 + (n * 40) // (PER_SEND - 1)}s"})
                                         + "\n" for n in range(PER_SEND)))
            outcomes.append(send(jobs_file, env))
        assert killed.wait(30)

        confirmed = [job_id for sent, *_ in outcomes for job_id in sent]
        print("sends:", [(len(sent), len(problems), code, stderr.splitlines()[-1:]) for sent, problems, code, stderr
                         in outcomes])
        for sent, problems, code, stderr in outcomes:
            # Every line is either confirmed (its id printed) or said to have failed, never neither.
            if code == 0:
                assert len(sent) == PER_SEND and not problems, stderr
            else:
                assert len(sent) + len(problems) == PER_SEND or not sent and "RabbitMQ" in stderr, stderr
        assert len(confirmed) == len(set(confirmed)) >= PER_SEND * (SENDS - 2), [o[2:] for o in outcomes]

        with JobStore.open(postgres_store_url) as store:
            deadline = time.monotonic() + 120  # the last jobs are due 60 s after the last send
            while True:
                jobs = {job_id: store.get(job_id) for job_id in confirmed}
                waiting = [job for job in jobs.values() if job.state != "SUCCESS"]
                if not waiting or time.monotonic() > deadline:
                    break
                time.sleep(1)
        assert not waiting, {job.state for job in waiting}
        early = [job for job in jobs.values() if job.started_at < job.eta]
        assert not early, [(job.id, job.eta - job.started_at) for job in early]
        time.sleep(2)  # a duplicate delivery would run right after the first: give it the chance to show
        logs = "".join(worker.log for worker in workers)
        ran = re.findall(r"Task schedcli\.tasks\.echo\[([0-9a-f-]+)\] succeeded", logs)
        assert sorted(ran) == sorted(confirmed)  # each confirmed job once; nothing that was not confirmed

        # doctor sees the cluster: the killed node down, every queue led by a node still running.
        cluster = doctor_cluster_check(env, survivor)
        assert cluster["level"] == "warning" and f"{leader.name} not running" in cluster["detail"], cluster
        assert f"{NODES} node(s)" in cluster["detail"] and f"{leader.name} (NOT running)" in cluster["detail"]
        assert f"leader {leader.name}" not in cluster["detail"]
        assert all(queue["leader"] != leader.name for queue in queue_leaders(survivor).values())

        # The dead node taken out of every quorum queue: two members left, which doctor warns about.
        shrink = subprocess.run(["rabbitmq-queues", "-q", "-n", survivor.name, "shrink", leader.name],
                                capture_output=True, text=True, timeout=120)
        assert shrink.returncode == 0, shrink.stdout + shrink.stderr
        cluster = doctor_cluster_check(env, survivor)
        assert cluster["level"] == "warning", cluster
        assert "schedcli, celery_delayed_0..27 with fewer than 3 members" in cluster["detail"], cluster
        assert "rabbitmq-queues grow" in cluster["fix"]
    finally:
        for worker in workers:
            worker.kill()
