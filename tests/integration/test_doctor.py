"""`schedcli doctor`: each check against the real RabbitMQ, real workers and a real job store."""

import json
import time

import pytest
from helpers import DOCTOR_FIX_SETTINGS, doctor, free_port, run_schedcli

from schedcli.settings import resolve_settings
from schedcli.store.schema import SCHEMA_VERSION

CHECKS = ["rabbitmq", "alarms", "quorum queues", "delay topology", "app queues", "consumer_timeout", "cluster",
          "database", "unconfirmed", "workers"]


def on_test_vhost(action) -> None:
    """Run `action(channel)` on a py-amqp channel to the test's virtual host."""
    import amqp

    from schedcli.amqp.publisher import connection_options

    connection = amqp.Connection(**connection_options(resolve_settings(), 5))
    connection.connect()
    try:
        action(connection.channel())
    finally:
        connection.close()


@pytest.mark.broker
def test_healthy_setup_exits_0_with_every_check_ok(start_worker):
    start_worker()  # declares the delay topology and answers
    code, checks = doctor(timeout="2")
    assert list(checks) == CHECKS
    assert code == 0
    # The shared test RabbitMQ is one node: fine for development, and said so (tests/integration/test_cluster.py
    # has the three-node cluster).
    assert {name: check["level"] for name, check in checks.items()} == {**dict.fromkeys(CHECKS, "ok"),
                                                                        "cluster": "warning"}, checks["cluster"]
    assert all(check["ok"] and check["fix"] is None for name, check in checks.items() if name != "cluster")
    cluster = checks["cluster"]
    assert cluster["detail"].startswith("RabbitMQ is a single node, fine for development: 1 node(s): rabbit@")
    assert "schedcli, celery_delayed_0..27: leader rabbit@" in cluster["detail"]
    assert "docs/deployment.md" in cluster["fix"]
    assert checks["rabbitmq"]["detail"].startswith("RabbitMQ 3.")
    assert "1 answering: w0-" in checks["workers"]["detail"]
    assert checks["database"]["detail"].endswith(f"schema version {SCHEMA_VERSION}")


@pytest.mark.broker
def test_classic_queue_user_app_warns_with_the_settings_that_fix_it_and_exits_0(broker_url, database_url):
    code, checks = doctor("--app", "userproj:app")
    assert code == 0
    app_queues = checks["app queues"]
    assert app_queues["level"] == "warning"
    assert "consumer_timeout" in app_queues["detail"] and "workers hold them" in app_queues["detail"]
    assert all(setting in app_queues["fix"] for setting in DOCTOR_FIX_SETTINGS)
    assert checks["delay topology"]["level"] == "ok"  # not used by such an app
    assert checks["workers"]["fix"] == "start one: schedcli --app userproj:app worker start"


@pytest.mark.broker
def test_fresh_vhost_without_worker_warns_that_the_topology_is_missing_and_how_to_create_it(broker_url, database_url):
    result = run_schedcli("doctor", "--timeout", "0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["rabbitmq", "alarms", "quorum", "delay"]
    assert lines[3].split()[2] == "warning" and "not declared yet: celery_delayed_0..27" in lines[3]
    fixes = result.stdout.split("To fix:\n", 1)[1]
    assert "- delay topology: start a worker (`schedcli worker start`) or send a job: both declare it" in fixes
    assert "- workers: start one: schedcli worker start" in fixes


@pytest.mark.broker
def test_missing_delay_level_is_an_error(broker_url, database_url):
    from schedcli.amqp.publisher import Publisher
    from schedcli.amqp.routes import bundled_route

    with Publisher(resolve_settings()) as publisher:
        publisher.ensure_topology(bundled_route())
    on_test_vhost(lambda channel: channel.queue_delete("celery_delayed_3"))
    code, checks = doctor()
    assert code == 1
    assert checks["delay topology"]["level"] == "error"
    assert "missing celery_delayed_3 (queue)" in checks["delay topology"]["detail"]


@pytest.mark.broker
def test_queue_declared_otherwise_on_rabbitmq_is_an_error_saying_what_differs(broker_url, database_url):
    on_test_vhost(lambda channel: channel.queue_declare("schedcli", durable=True, auto_delete=False))  # classic
    code, checks = doctor()
    assert code == 1
    assert checks["app queues"]["level"] == "error"
    assert "inequivalent arg 'x-queue-type' for queue 'schedcli'" in checks["app queues"]["detail"]
    assert "delete queue 'schedcli'" in checks["app queues"]["fix"]


@pytest.mark.broker
def test_broker_down_is_an_error_row_within_5_seconds_without_the_password(database_url):
    url = f"amqp://guest:topsecret@127.0.0.1:{free_port()}//"
    started = time.monotonic()
    result = run_schedcli("--broker", url, "doctor", "--json")
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 5
    assert "topsecret" not in result.stdout + result.stderr
    checks = {check["check"]: check for check in json.loads(result.stdout)["checks"]}
    assert list(checks) == CHECKS
    assert checks["rabbitmq"]["level"] == "error"
    assert "amqp://guest:***@127.0.0.1" in checks["rabbitmq"]["detail"]
    assert "rabbitmq-server -detached" in checks["rabbitmq"]["fix"]
    assert checks["workers"]["detail"] == "not checked: RabbitMQ is not reachable"
    assert checks["database"]["level"] == "ok"
