"""Figure 4: a bulk send, `schedcli call TASK --from-file jobs.jsonl -q`, 100,000 jobs due in 1-2 h.

Timed as a user runs it, start-up included, into a fresh vhost and store; then every job must be
recorded as SCHEDULED and held in RabbitMQ's delay queues. Baselines, each in a fresh process:

- Celery's `apply_async` with publisher confirms, on schedcli's own app (5,000 jobs);
- the raw pipelined-confirm publisher (schedcli.amqp.publisher, no store) into the delay level of the
  delay's highest set bit, where schedcli publishes (the same count; target: schedcli >= 0.9x of it),
  and into `celery_delayed_27`, where Celery publishes every delayed job: what Celery's routing
  through the delay levels costs RabbitMQ.

    python -m bench.bulk celery|highest-bit|celery_delayed_27 COUNT   (one baseline sender, timed by the caller)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from bench.harness import (Bench, Row, Target, delayed_count, rabbitmqctl, schedcli, vhost, wait_for_idle_broker,
                           wait_until)

TARGET_JOBS_PER_SECOND = 10_000
RAW_RATIO_TARGET = 0.9  # what the store, the CLI and the checks may cost against publishing alone
TASK = "schedcli.tasks.echo"


def delay_of(n: int) -> int:
    """Seconds until job `n` is due: spread over 1-2 h."""
    return 3600 + n * 7 % 3600


def write_jobs_file(path, count: int) -> None:
    with open(path, "w") as lines:
        for n in range(count):
            lines.write(json.dumps({"args": [n], "in": f"{delay_of(n)}s"}) + "\n")


def scheduled_count(database_url: str) -> int:
    from schedcli.store import JobStore

    with JobStore.open(database_url) as store:
        return next(iter(store.query("SELECT count(*) FROM jobs WHERE state = 'SCHEDULED'")))[0]


def schedcli_rate(bench: Bench, env: dict, jobs_file, count: int) -> float:
    """Jobs/s of one `call --from-file` into a fresh store, after checking it printed and recorded every job."""
    ids_file = bench.path("ids")
    with open(jobs_file) as stdin, open(ids_file, "w") as stdout:
        elapsed = bench.run(schedcli("call", TASK, "--from-file", "-", "-q"), env, stdin=stdin, stdout=stdout)
    with open(ids_file) as ids:
        printed = sum(1 for _ in ids)
    recorded = scheduled_count(env["SCHEDCLI_DATABASE_URL"])
    if printed != count or recorded != count:
        raise RuntimeError(f"bulk send of {count:,}: {printed:,} ids printed, {recorded:,} recorded as SCHEDULED")
    return count / elapsed


def baseline_rate(bench: Bench, env: dict, kind: str, count: int) -> float:
    """Jobs/s of one baseline sender (see `main`), in a fresh process."""
    return count / bench.run([sys.executable, "-m", "bench.bulk", kind, str(count)], env)


def run(bench: Bench) -> list[Row]:
    counts = {"schedcli": bench.size(100_000, 20_000), "celery": bench.size(5000, 2000),
              "highest-bit": bench.size(100_000, 20_000), "celery_delayed_27": bench.size(5000, 5000)}
    jobs_file = bench.path("jobs").with_suffix(".jsonl")
    write_jobs_file(jobs_file, counts["schedcli"])
    rates: dict[str, list[float]] = {name: [] for name in counts}
    repeated = 0

    def one_round() -> dict[str, float]:
        round_rates = {}
        with vhost("bulk") as broker_url:
            env = bench.environment(broker_url)
            # Declares the queue and delay levels, as a worker would; recorded in a store of its own.
            bench.run(schedcli("call", TASK, "--in", "1h", "-q"), env)
            held = 1
            for name, count in counts.items():
                env["SCHEDCLI_DATABASE_URL"] = bench.store_url("bulk")
                wait_for_idle_broker()
                if name == "schedcli":
                    round_rates[name] = schedcli_rate(bench, env, jobs_file, count)
                else:
                    round_rates[name] = baseline_rate(bench, env, name, count)
                held += count
                wait_until(lambda: delayed_count(broker_url) == held, 60, f"all {held:,} jobs in the delay queues")
        return round_rates

    for _ in range(bench.size(3, 1)):
        try:
            round_rates = one_round()
        except (RuntimeError, subprocess.SubprocessError) as exc:
            # A round takes minutes and the broker is shared: a restart under it costs that round, not the figure.
            bench.log(f"[bench] bulk: a round failed ({exc}); once more when RabbitMQ answers")
            rabbitmqctl("await_startup")
            repeated += 1
            round_rates = one_round()
        for name, rate in round_rates.items():
            rates[name].append(rate)
        bench.log("[bench] bulk: " + ", ".join(f"{name} {rate:,.0f}/s" for name, rate in round_rates.items()))
    median = {name: statistics.median(values) for name, values in rates.items()}
    return [
        Row(f"4 bulk send {counts['schedcli']:,} jobs, start-up included", median["schedcli"], median["celery"],
            "jobs/s", Target(TARGET_JOBS_PER_SECOND, at_least=True),
            f"Celery apply_async with confirms ({counts['celery']:,} jobs)",
            note="every job confirmed, recorded SCHEDULED and held in the delay queues"
                 + (f"; {repeated} round(s) run again after a broker failure" if repeated else "")),
        Row(f"4 bulk send {counts['schedcli']:,} jobs, against the raw publisher", median["schedcli"],
            median["highest-bit"], "jobs/s", Target(RAW_RATIO_TARGET, at_least=True, on_ratio=True),
            "schedcli's publisher alone into the same delay levels, same count, no store, start-up included",
            note="by round, each sending one after the other: " + ", ".join(
                f"{ours / raw:.2f}x" for ours, raw in zip(rates["schedcli"], rates["highest-bit"]))),
        Row("4 raw publisher, no store: highest-bit level", median["highest-bit"], median["celery_delayed_27"],
            "jobs/s", None, "the same publisher into celery_delayed_27",
            note=f"{counts['highest-bit']:,} and {counts['celery_delayed_27']:,} jobs; the ratio is what Celery's "
                 "routing through the delay levels costs RabbitMQ"),
    ]


# -- the baseline senders, each run as `python -m bench.bulk KIND COUNT` in a fresh process ------------

def send_with_celery(count: int) -> None:
    from schedcli.app import app
    from schedcli.tasks import echo

    with app.producer_or_acquire() as producer:
        for n in range(count):
            echo.apply_async(args=[n], countdown=delay_of(n), producer=producer)


def send_raw(count: int, into_celery_delayed_27: bool) -> None:
    import uuid

    from schedcli.amqp import publisher
    from schedcli.amqp.delays import DELAY_LEVELS, delayed_routing_key, level_name
    from schedcli.amqp.routes import bundled_route
    from schedcli.settings import resolve_settings

    if into_celery_delayed_27:
        publisher.delayed_destination = lambda delay, route: (
            level_name(DELAY_LEVELS - 1), delayed_routing_key(delay, route.routing_key))
    route = bundled_route()
    now = time.time()
    messages = [publisher.TaskMessage(str(uuid.uuid4()), TASK, [n], {}, eta=now + delay_of(n), route=route)
                for n in range(count)]
    with publisher.Publisher(resolve_settings()) as sender:
        outcome = sender.publish(messages, now)
    if len(outcome.confirmed) != count:
        raise SystemExit(f"{count - len(outcome.confirmed)} messages not confirmed: {outcome.error}")


def main(argv: list[str]) -> None:
    kind, count = argv[0], int(argv[1])
    if kind == "celery":
        send_with_celery(count)
    else:
        send_raw(count, into_celery_delayed_27=kind == "celery_delayed_27")


if __name__ == "__main__":
    main(sys.argv[1:])
