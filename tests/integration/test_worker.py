"""`schedcli worker start` / `worker status` against the real RabbitMQ, with real worker processes."""

import json
import time

import pytest
from helpers import rabbitmqctl, run_schedcli

pytestmark = pytest.mark.broker


def test_bundled_worker_runs_a_job_sent_to_it(start_worker):
    worker = start_worker()
    from schedcli.app import create_app
    from schedcli.settings import resolve_settings

    celery_app = create_app(resolve_settings())
    result = celery_app.send_task("schedcli.tasks.echo", args=[1, "two"])
    worker.wait_for_log(f"Task schedcli.tasks.echo[{result.id}] succeeded")
    assert "[1, 'two']" in worker.log or "'args': [1, 'two']" in worker.log


def test_user_app_given_with_app_is_driven_by_worker_start(start_worker, tmp_path):
    worker = start_worker(app_args=("--app", "userproj:app"))
    import userproj

    marker = tmp_path / "ran.txt"
    userproj.app.conf.broker_url = __import__("os").environ["SCHEDCLI_BROKER_URL"]
    userproj.touch.delay(str(marker), "hello")
    worker.wait_for_log("userproj.touch")
    worker.wait_for_log("succeeded")
    assert marker.read_text() == "hello"


def test_worker_status_lists_answering_workers(start_worker):
    worker = start_worker("--concurrency", "3")
    result = run_schedcli("worker", "status", "--json", "--timeout", "1.5")
    assert result.returncode == 0, result.stderr
    workers = json.loads(result.stdout)
    assert len(workers) == 1
    assert workers[0]["concurrency"] == 3
    assert workers[0]["active"] == 0
    assert workers[0]["hostname"].startswith("w0-")
    assert worker.stop() == 0


def test_worker_status_with_no_worker_prints_empty_array_and_exits_1(broker_url):
    result = run_schedcli("worker", "status", "--json", "--timeout", "0.5")
    assert result.returncode == 1
    assert json.loads(result.stdout) == []


def test_broker_down_is_one_line_exit_69_within_5_seconds(database_url):
    from helpers import free_port

    url = f"amqp://guest:topsecret@127.0.0.1:{free_port()}//"
    started = time.monotonic()
    result = run_schedcli("--broker", url, "worker", "status")
    elapsed = time.monotonic() - started
    assert result.returncode == 69
    assert elapsed < 5
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "127.0.0.1" in lines[0] and "rabbitmq-server -detached" in lines[0]
    assert "topsecret" not in result.stderr and "Traceback" not in result.stderr


def prefetch_counts(broker_url: str) -> tuple[list[int], list[int]]:
    """(prefetch count of each consumer of the queue, each channel's count for new consumers) in the test's vhost."""
    vhost = broker_url.rsplit("/", 1)[1]
    consumers = [line.split("\t") for line in
                 rabbitmqctl("list_consumers", "-p", vhost, "queue_name", "prefetch_count").stdout.splitlines()]
    channels = [line.split("\t") for line in rabbitmqctl("list_channels", "vhost", "prefetch_count").stdout.splitlines()]
    return ([int(fields[1]) for fields in consumers if fields[0] == "schedcli"],
            [int(fields[1]) for fields in channels if len(fields) == 2 and fields[0] == vhost])


def test_a_worker_holds_128_jobs_a_process_and_never_resends_its_prefetch(broker_url, start_worker):
    worker = start_worker("--concurrency", "2")
    # Due in 1.9 s, it goes straight to the worker, which holds it until then. Stock Celery raises
    # the prefetch count for each job it holds, which RabbitMQ applies only to later consumers.
    result = run_schedcli("call", "schedcli.tasks.echo", "held", "--in", "1.9s", "-q")
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    worker.wait_for_log(f"[{job_id}] received")
    consumers, channels = prefetch_counts(broker_url)
    assert consumers == [256]
    assert set(channels) <= {0, 256}
    worker.wait_for_log(f"[{job_id}] succeeded")


def test_prefetch_multiplier_sets_what_a_worker_may_hold(broker_url, start_worker):
    start_worker("--concurrency", "1", "--prefetch-multiplier", "3")
    assert prefetch_counts(broker_url)[0] == [3]
