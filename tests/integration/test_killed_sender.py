"""A bulk sender SIGKILLed at any instant loses nothing: sending the same file again sends each job exactly once.

A killed sender runs no code of its own, so it leaves jobs SENDING: some reached RabbitMQ, some never left.
Sending the same lines again (the same keys) takes over those jobs and publishes each under its own id;
the worker's gate runs an id at most once, so a copy that did arrive before is harmless.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from helpers import run_schedcli, wait_for_states

pytestmark = [pytest.mark.broker, pytest.mark.slow]

BATCH = 5000  # jobs a send records in one transaction (schedcli.jobs.sending.BATCH)


def job_file(tmp_path, lines: int):
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps({"args": [n], "key": f"line-{n}", "in": "3s"}) + "\n" for n in range(lines)))
    return path


def states(database_url: str) -> dict[str, int]:
    with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as connection:
        try:
            return dict(connection.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        except sqlite3.OperationalError:  # no schema yet: the sender has not opened the store
            return {}


def start_sender(path):
    return subprocess.Popen([sys.executable, "-m", "schedcli", "call", "schedcli.tasks.echo", "--from-file",
                             str(path), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)


def wait_until(sender, database_url: str, condition, timeout: float = 60) -> dict[str, int]:
    """Poll the store until `condition(states)` holds while `sender` still runs; the states seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = states(database_url)
        if condition(seen):
            return seen
        time.sleep(0.002)
    sender.kill()
    raise AssertionError(f"never saw the moment to kill: {states(database_url)}")


def kill(sender) -> None:
    sender.send_signal(signal.SIGKILL)
    sender.wait(10)


def rabbitmq_holds(broker_url: str) -> int:
    from helpers import queue_counts

    return sum(ready + unacked for ready, unacked in queue_counts(broker_url).values())


# One batch is long enough on the wire to be caught before its confirms; mid-stream needs a batch sent and the
# next one recorded.
@pytest.mark.parametrize("moment, lines", [("before the first confirm", 2000), ("mid-stream", 2 * BATCH),
                                           ("after the last confirm", 2000)])
def test_a_killed_bulk_sender_sent_again_runs_every_line_exactly_once(moment, lines, start_worker, broker_url,
                                                                     database_url, tmp_path):
    path = job_file(tmp_path, lines)
    sender = start_sender(path)
    if moment == "before the first confirm":
        wait_until(sender, database_url, lambda seen: seen.get("SENDING", 0) > 0)
        kill(sender)
    elif moment == "mid-stream":
        wait_until(sender, database_url, lambda seen: 0 < seen.get("SCHEDULED", 0) and seen.get("SENDING", 0) > 0)
        kill(sender)
    else:  # RabbitMQ confirmed every job, but the sender dies while the store waits to record it
        wait_until(sender, database_url, lambda seen: seen.get("SENDING", 0) == lines)
        lock = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # taken at once: the sender's mark_sent now waits for it
        deadline = time.monotonic() + 25
        while rabbitmq_holds(broker_url) < lines:
            assert time.monotonic() < deadline, f"RabbitMQ holds {rabbitmq_holds(broker_url)} of {lines} jobs"
            time.sleep(0.2)
        kill(sender)
        lock.execute("ROLLBACK")
        lock.close()
    before = states(database_url)
    assert before.get("SENDING", 0) > 0, f"the kill came too late to test anything: {before}"

    again = run_schedcli("call", "schedcli.tasks.echo", "--from-file", str(path), timeout=120)
    assert again.returncode == 0, again.stderr
    resent = before.get("SENDING", 0)
    assert "of them sent again: a send that was killed had left them unconfirmed" in again.stderr
    assert f", {resent} of them sent again" in again.stderr, (before, again.stderr)

    worker = start_worker("--concurrency", "2")
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM jobs WHERE state <> 'CANCELLED'")]
        by_key = dict(connection.execute("SELECT job_key, COUNT(*) FROM jobs WHERE state <> 'CANCELLED' "
                                         "GROUP BY job_key").fetchall())
    assert len(by_key) == lines and set(by_key.values()) == {1}  # one live job per line
    wait_for_states(ids, {"SUCCESS"}, timeout=120)
    worker.stop()
    ran = re.findall(r"Task schedcli\.tasks\.echo\[([0-9a-f-]+)\] succeeded", worker.log)
    assert len(ran) == len(set(ran)) == lines, f"{len(ran)} runs of {len(set(ran))} jobs for {lines} lines"
