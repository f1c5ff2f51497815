"""The publisher: wire format identical to Celery's, delay routing, topology, confirms (real RabbitMQ)."""

import time
import uuid

import pytest

from schedcli.amqp.publisher import Publisher, TaskMessage
from schedcli.amqp.routes import bundled_route
from schedcli.settings import resolve_settings
from schedcli.store import JobStore


@pytest.mark.broker
def test_confirmed_publish_before_any_worker_ran_is_delivered_when_one_starts(broker_url, start_worker):
    settings = resolve_settings()
    job_id = str(uuid.uuid4())
    now = time.time()
    with Publisher(settings) as publisher:
        outcome = publisher.publish(
            [TaskMessage(job_id, "schedcli.tasks.echo", ["early"], {}, eta=now + 2, route=bundled_route())], now)
    assert outcome.confirmed == [job_id] and not outcome.failed
    worker = start_worker()
    worker.wait_for_log(f"Task schedcli.tasks.echo[{job_id}] succeeded", timeout=30)


@pytest.mark.broker
def test_topology_is_declared_once_then_checked_with_one_call(broker_url):
    settings = resolve_settings()
    with Publisher(settings) as publisher:
        publisher.ensure_topology(bundled_route())
    with Publisher(settings) as publisher:
        publisher._declare_topology = lambda route: pytest.fail("declared again although the marker exists")
        publisher.ensure_topology(bundled_route())


@pytest.mark.broker
def test_unreachable_broker_fails_fast_with_masked_url():
    from helpers import free_port
    from schedcli.exceptions import BrokerUnavailable

    settings = resolve_settings({"broker_url": f"amqp://guest:s3cret@127.0.0.1:{free_port()}//"})
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        Publisher(settings).open()
    assert time.monotonic() - started < 5
    assert "s3cret" not in str(caught.value) and "guest:***@127.0.0.1" in str(caught.value)


@pytest.mark.broker
def test_wrong_credentials_are_broker_unavailable(rabbitmq):
    from schedcli.exceptions import BrokerUnavailable

    settings = resolve_settings({"broker_url": "amqp://guest:wrong-password@127.0.0.1:5672//"})
    with pytest.raises(BrokerUnavailable, match="not available"):
        Publisher(settings).open()


@pytest.mark.broker
@pytest.mark.parametrize("count", [10, 3000])  # 3,000: a bulk send, spread over two channels
def test_each_message_is_confirmed_or_failed_as_unroutable_on_every_channel(broker_url, count):
    settings = resolve_settings()
    routed, unbound = bundled_route(), bundled_route("nobody-reads")
    messages = [TaskMessage(str(uuid.uuid4()), "schedcli.tasks.echo", [n], {},
                            route=unbound if n % 3 == 0 else routed) for n in range(count)]
    with Publisher(settings) as publisher:
        publisher.ensure_topology(unbound)
        for binding_key in ("nobody-reads", "#.nobody-reads"):
            publisher.channel.queue_unbind("nobody-reads", "nobody-reads", binding_key)
        outcome = publisher.publish(messages, time.time())
        again = publisher.publish(messages[1:count // 2:3], time.time())  # confirm numbering goes on
    unroutable = {message.job_id for message in messages if message.route is unbound}
    assert set(outcome.confirmed) == {message.job_id for message in messages} - unroutable
    assert outcome.failed == {job_id: "RabbitMQ could not route the message" for job_id in unroutable}
    assert not outcome.error and not outcome.unconfirmed
    assert set(again.confirmed) == {message.job_id for message in messages[1:count // 2:3]}


def test_a_failover_list_sends_through_the_first_node_that_answers(broker_url, database_url, cli_runner):
    from helpers import free_port

    down = f"amqp://guest:secret@127.0.0.1:{free_port()}/"
    result = cli_runner("--broker", f"{down};{broker_url}", "call", "schedcli.tasks.echo", "1", "--in", "1h", "-q")
    assert result.exit_code == 0, result.stderr
    with JobStore.open(database_url) as store:
        assert store.get(result.stdout.strip()).state == "SCHEDULED"


def test_a_failover_list_with_no_node_answering_names_each_and_masks_their_passwords(database_url, cli_runner):
    from helpers import free_port

    nodes = [f"amqp://guest:secret@127.0.0.1:{free_port()}/" for _ in range(2)]
    result = cli_runner("--broker", ";".join(nodes), "call", "schedcli.tasks.echo", "1")
    assert result.exit_code == 69
    assert "secret" not in result.stderr and result.stderr.count("\n") == 1
    for node in nodes:
        assert node.replace("secret", "***") + ":" in result.stderr
