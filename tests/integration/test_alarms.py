"""RabbitMQ refusing to take messages (a memory alarm blocks every publisher): said at once, exit 69, nothing sent;
`worker status`, which asks the workers with a publish, says so too instead of waiting for ever.

The alarm is raised for real with `rabbitmqctl set_vm_memory_high_watermark` and the limit is restored after,
whatever happens: while it is in force, every publisher on this RabbitMQ is blocked.
"""

from __future__ import annotations

import json
import time

import pytest

from helpers import rabbitmqctl, run_schedcli

pytestmark = [pytest.mark.broker, pytest.mark.broker_wide]


def evaluate(expression: str) -> str:
    """What `rabbitmqctl eval` answers: its last line (Erlang may log a report before it)."""
    return rabbitmqctl("eval", expression).stdout.strip().splitlines()[-1]


def alarms() -> str:
    return evaluate("rabbit_alarm:get_alarms().")


def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout}s; alarms: {alarms()}")
        time.sleep(0.2)


@pytest.fixture
def memory_alarm(broker_url):
    """A memory alarm in force on the real RabbitMQ for the test's duration."""
    limit = evaluate("vm_memory_monitor:get_vm_memory_high_watermark().")
    restore = ["set_vm_memory_high_watermark", *(limit.strip("{}").replace(",", " ").split())]
    try:
        rabbitmqctl("set_vm_memory_high_watermark", "0.00001")
        wait_until(lambda: "memory" in alarms(), "no memory alarm")
        yield
    finally:
        rabbitmqctl(*restore)
        wait_until(lambda: alarms() == "[]", "the memory alarm did not clear")


def test_a_send_while_rabbitmq_blocks_publishers_says_so_at_once_and_sends_nothing(memory_alarm, database_url):
    started = time.monotonic()
    result = run_schedcli("call", "schedcli.tasks.echo", "1", "--in", "1h")
    took = time.monotonic() - started
    assert result.returncode == 69, result.stderr
    assert "is blocking publishers: low on memory; nothing was sent" in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert took < 15, f"took {took:.1f} s: it waited for a confirm that could not come"
    listed = json.loads(run_schedcli("list", "--json").stdout)
    assert [job["state"] for job in listed] in ([], ["CANCELLED"])  # never shown as sent


def test_worker_status_while_rabbitmq_blocks_publishers_says_so_at_once(memory_alarm):
    started = time.monotonic()
    result = run_schedcli("worker", "status")
    took = time.monotonic() - started
    assert result.returncode == 69, result.stderr
    assert "is blocking publishers: low on memory; no message can reach the workers" in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert took < 15, f"took {took:.1f} s: asking the workers waited on a blocked publish"


def test_doctor_reports_the_alarm(memory_alarm):
    result = run_schedcli("doctor", "--json", "--timeout", "0.5")
    assert result.returncode == 1
    checks = {check["check"]: check for check in json.loads(result.stdout)["checks"]}
    alarm = checks["alarms"]
    assert alarm["level"] == "error"
    assert "blocking publishers: low on memory" in alarm["detail"]
    assert "vm_memory_high_watermark" in alarm["fix"]
    assert checks["workers"]["detail"] == "not checked: RabbitMQ takes no messages, so the workers cannot be asked"
