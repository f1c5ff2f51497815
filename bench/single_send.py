"""Figure 2: one confirmed dispatch from a fresh process, `schedcli call` against `celery call`.

Both send `publish_article 42` due in an hour, with publisher confirms, into the same vhost, in
turn. One send first declares the topology (what a worker or schedcli's first send does), so
neither pays for it; at the end RabbitMQ's delay queues must hold every job sent.
"""

from __future__ import annotations

from bench.harness import Bench, Row, Target, celery, delayed_count, schedcli, vhost, wait_until

TARGET_RATIO = 0.5


def run(bench: Bench) -> list[Row]:
    repeats = bench.size(15, 5)
    with vhost("send") as broker_url:
        env = bench.environment(broker_url, bench.store_url("send"))
        commands = {
            "schedcli": schedcli("call", "schedcli.tasks.publish_article", "42", "--in", "1h", "-q"),
            "celery": celery("-A", "schedcli.app", "call", "schedcli.tasks.publish_article", "--args", "[42]",
                             "--countdown", "3600"),
        }
        bench.run(commands["schedcli"], env)  # declares the queue and the delay levels
        times = bench.median_times(commands, repeats, env)
        expected = 1 + 2 * (repeats + 1)
        wait_until(lambda: delayed_count(broker_url) == expected, 30, f"all {expected} jobs in the delay queues")
    return [Row("2 one confirmed send, fresh process", times["schedcli"] * 1000, times["celery"] * 1000, "ms",
                Target(TARGET_RATIO, on_ratio=True), "celery -A schedcli.app call",
                note=f"all {expected} jobs sent are held by RabbitMQ")]
