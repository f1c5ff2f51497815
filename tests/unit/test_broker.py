"""The publisher: wire format identical to Celery's, delay routing, topology, confirms (real RabbitMQ)."""


import pytest
from kombu.transport.native_delayed_delivery import calculate_routing_key

from schedcli.amqp.frames import table
from schedcli.amqp.delays import MAX_DELAY_SECONDS, delayed_routing_key, rabbitmq_delay
from schedcli.amqp.publisher import TaskMessage, delayed_destination
from schedcli.amqp.routes import Route, bundled_route


def test_header_table_is_byte_identical_to_py_amqp_encoding():
    from amqp.serialization import dumps

    message = TaskMessage("id-1", "schedcli.tasks.echo", [1, "é", None, [2.5, True]], {"k": {"n": 2**40}},
                          eta=1_800_000_000.25, expires=1_800_000_100.0)
    headers = message.headers("gen1@host")
    assert table(headers) == dumps("F", [headers])
    assert message.encoded_headers("gen1@host") == table(headers)


def test_headers_without_eta_encode_none():
    message = TaskMessage("id-2", "t", [], {})
    assert message.encoded_headers("o") == table(message.headers("o"))


@pytest.mark.parametrize("args, kwargs", [([], {}), ([1, "é", None, [2.5, True]], {"k": {"n": 2**40}}),
                                          (["привет", "\\", "\"", "\u001b"], {"a": 1.5, "b": [{}]})])
def test_a_body_built_from_the_size_checks_json_is_the_one_json_dumps_writes(args, kwargs):
    import json

    from schedcli.jobs.requests import check_payload

    plain = TaskMessage("id-3", "t", args, kwargs)
    reused = TaskMessage("id-3", "t", args, kwargs, payload_json=check_payload(args, kwargs))
    assert reused.body() == plain.body()
    assert json.loads(reused.body()) == [args, kwargs, {"callbacks": None, "errbacks": None, "chain": None,
                                                        "chord": None}]


def test_job_ids_are_random_version_4_uuids_written_as_uuid_writes_them():
    import uuid

    from schedcli.jobs.sending import new_job_ids

    ids = new_job_ids(2000) + new_job_ids(1)
    assert len(ids) == 2001 and len(set(ids)) == len(ids)
    for job_id in ids:
        parsed = uuid.UUID(job_id)
        assert str(parsed) == job_id and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert {job_id[19] for job_id in ids} == set("89ab")


@pytest.mark.parametrize("delay", [1, 2, 3, 7, 3600, 7200, 86_399, MAX_DELAY_SECONDS])
def test_delay_routing_key_matches_celery(delay):
    assert delayed_routing_key(delay, "schedcli") == calculate_routing_key(delay, "schedcli")


@pytest.mark.parametrize("delay, level", [(1, 0), (2, 1), (3, 1), (3600, 11), (7200, 12), (MAX_DELAY_SECONDS, 27)])
def test_delayed_job_goes_to_the_level_of_its_highest_bit(delay, level):
    exchange, routing_key = delayed_destination(delay, bundled_route())
    assert exchange == f"celery_delayed_{level}"
    assert routing_key.endswith(".schedcli")


@pytest.mark.parametrize("seconds_until_due, delay", [(0.3, 0), (1.0, 0), (1.99, 0), (2.0, 1), (2.5, 1),
                                                      (3599.2, 3598), (86_400.0, 86_399)])
def test_a_job_reaches_the_worker_one_to_two_seconds_before_it_is_due(seconds_until_due, delay):
    assert rabbitmq_delay(seconds_until_due) == delay
    assert 0 <= seconds_until_due - rabbitmq_delay(seconds_until_due) < 2
    if seconds_until_due >= 2:
        assert seconds_until_due - rabbitmq_delay(seconds_until_due) >= 1


def test_job_due_now_or_on_a_classic_queue_goes_straight_to_its_exchange():
    assert delayed_destination(0, bundled_route()) == ("schedcli", "schedcli")
    classic = Route("userproj", "userproj", "direct", "userproj", ())
    assert delayed_destination(3600, classic) == ("userproj", "userproj")


def test_a_user_app_on_another_transport_is_told_schedcli_sends_over_rabbitmq_only(cli_runner, database_url):
    result = cli_runner("--app", "redisproj:app", "call", "redisproj.add", "1", "2")
    assert result.exit_code == 2
    assert result.stderr == ("Error: the broker redis://127.0.0.1:6379/0 uses the 'redis' transport; schedcli sends "
                             "jobs over RabbitMQ only: give an amqp:// or amqps:// URL (the app's broker_url, or "
                             "--broker / SCHEDCLI_BROKER_URL)\n")
    assert cli_runner("list", "--json").stdout == "[]\n"  # nothing recorded
