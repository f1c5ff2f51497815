"""`schedcli doctor`: each check against the real RabbitMQ, real workers and a real job store."""

import sqlite3

from celery import Celery
from helpers import DOCTOR_FIX_SETTINGS, doctor, free_port

from schedcli.doctor import OK, WARNING, app_queues_check, app_routes, parse_consumer_timeout


def test_rabbitmqctl_answer_gives_consumer_timeout_and_listening_ports():
    assert parse_consumer_timeout("{{ok,1800000},[5672]}\n") == ("1800000", [5672])
    assert parse_consumer_timeout("{{ok,false},\n [5672,5671]}") == ("false", [5672, 5671])
    assert parse_consumer_timeout("{undefined,[]}") == (None, [])
    assert parse_consumer_timeout("Error: unable to perform an operation on node") is None


def test_classic_user_app_warns_about_consumer_timeout_and_names_the_fixing_settings():
    import userproj

    check = app_queues_check(userproj.app, app_routes(userproj.app), probe=None, timeout_ms=5 * 60_000)
    assert check.level == WARNING
    assert "queue 'userproj': classic, on direct exchange 'userproj'" in check.detail
    assert "consumer_timeout (5 min)" in check.detail
    assert all(setting in check.fix for setting in DOCTOR_FIX_SETTINGS)


def test_the_settings_doctor_recommends_make_a_user_app_pass():
    fixed = Celery("fixed", set_as_current=False)
    fixed.conf.update(task_default_queue="userproj", task_default_queue_type="quorum",
                      task_default_exchange_type="topic", broker_native_delayed_delivery_queue_type="quorum")
    check = app_queues_check(fixed, app_routes(fixed), probe=None, timeout_ms=None)
    assert check.level == OK, check.detail
    assert check.detail == "queue 'userproj': quorum, on topic exchange 'userproj'"


def test_job_store_with_a_newer_schema_is_an_error(database_url):
    from schedcli.store import JobStore

    JobStore.open(database_url).close()
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE schedcli_meta SET value = '999' WHERE name = 'schema_version'")
    code, checks = doctor("--broker", f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # no broker needed
    assert code == 1
    assert checks["database"]["level"] == "error"
    assert "schema version 999, newer than this schedcli knows" in checks["database"]["detail"]
    assert "pip install -U schedcli" in checks["database"]["fix"]


def test_the_cluster_check_names_the_delay_levels_as_ranges():
    from schedcli.doctor import _queue_names

    levels = [f"celery_delayed_{level}" for level in (*range(0, 5), 7, *range(9, 28))]
    assert _queue_names(["schedcli", *levels]) == "schedcli, celery_delayed_0..4, celery_delayed_7, celery_delayed_9..27"
