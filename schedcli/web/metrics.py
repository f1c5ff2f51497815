"""GET /metrics in Prometheus' text format: jobs by state and task, start lateness, the delay levels, sends.

The job counts come from the store, so they survive restarts and cover every worker; the delay
levels' message counts come from RabbitMQ itself (a passive declare per level), which is where a
job scheduled for later actually waits.
"""

from __future__ import annotations

from schedcli.amqp.delays import DELAY_LEVELS, level_name
from schedcli.amqp.publisher import connection_options
from schedcli.store import JobStore
from schedcli.store.metrics import LATENESS_BUCKETS

CONNECT_TIMEOUT = 3.0


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def delay_level_counts(settings) -> dict[int, int] | None:
    """{level: messages waiting in it} from RabbitMQ; None when it cannot be reached. Levels not declared yet
    hold nothing."""
    import amqp

    try:
        connection = amqp.Connection(**connection_options(settings, CONNECT_TIMEOUT))
        connection.connect()
    except Exception:  # down, refused, or a malformed URL: the metric says RabbitMQ is not up
        return None
    counts = {}
    try:
        channel = connection.channel()
        for level in range(DELAY_LEVELS):
            try:
                _, messages, _ = channel.queue_declare(level_name(level), passive=True)
            except amqp.exceptions.NotFound:
                channel = connection.channel()  # a failed passive declare closes the channel
                messages = 0
            counts[level] = messages
    except Exception:
        return None
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection: nothing left to save
            connection.collect()
    return counts


def render_metrics(context) -> str:
    """The whole scrape, as text."""
    settings = context.settings
    lines = []

    def metric(name: str, kind: str, help_text: str):
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    with JobStore.open(settings.database_url) as store:
        by_state_task = store.metrics.jobs_by_state_and_task()
        buckets, count, seconds = store.metrics.start_lateness()
    metric("schedcli_jobs", "gauge", "Jobs in the job store by state and task.")
    for state, task, number in by_state_task:
        lines.append(f'schedcli_jobs{{state="{_label(state)}",task="{_label(task)}"}} {number}')
    metric("schedcli_job_start_lateness_seconds", "histogram",
           "How late jobs started after the time they were due (negative: early), over the store's started jobs.")
    for bound, number in zip(LATENESS_BUCKETS, buckets):
        lines.append(f'schedcli_job_start_lateness_seconds_bucket{{le="{bound}"}} {number}')
    lines.append(f'schedcli_job_start_lateness_seconds_bucket{{le="+Inf"}} {count}')
    lines.append(f"schedcli_job_start_lateness_seconds_sum {seconds}")
    lines.append(f"schedcli_job_start_lateness_seconds_count {count}")
    levels = delay_level_counts(settings)
    metric("schedcli_rabbitmq_up", "gauge", "1 when RabbitMQ answered this scrape.")
    lines.append(f"schedcli_rabbitmq_up {0 if levels is None else 1}")
    if levels is not None:
        metric("schedcli_delay_level_messages", "gauge",
               "Messages waiting in each of RabbitMQ's delay levels (celery_delayed_N holds delays of 2^N s).")
        for level, number in levels.items():
            lines.append(f'schedcli_delay_level_messages{{level="{level}"}} {number}')
    metric("schedcli_sends_confirmed_total", "counter", "Jobs this server sent that RabbitMQ confirmed.")
    lines.append(f"schedcli_sends_confirmed_total {context.publisher.confirmed}")
    metric("schedcli_sends_failed_total", "counter", "Jobs this server could not send.")
    lines.append(f"schedcli_sends_failed_total {context.publisher.failed}")
    return "\n".join(lines) + "\n"
