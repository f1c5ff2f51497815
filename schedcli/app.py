"""schedcli's Celery app, built from the settings; `celery -A schedcli.app ...` works on it.

Importing this module builds the app from the environment and config file (no flags), which is
what Celery's own tools and the worker's pool processes see. The send path never imports it:
building a Celery app costs more than the whole start-up budget of `schedcli call`.
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from schedcli.send_recording import install
from schedcli.settings import DEFAULT_APP, QUEUE_NAME, Settings, broker_ssl_options, resolve_settings

# Jobs reach the worker's queue 1-2 s before they are due (broker.rabbitmq_delay) and each process
# may hold this many. On quorum queues the prefetch count is fixed when the worker starts consuming,
# so it is also the bound on what a worker holds: due-now jobs and those due within two seconds,
# never the jobs scheduled later, which wait in RabbitMQ. Too small a window made jobs wait behind
# the ones held for their last second: with 8, 1,000 jobs due within 8 s started up to 0.9 s late.
PREFETCH_PER_PROCESS = 128


def scheduler_queue(name: str = QUEUE_NAME) -> Queue:
    """A durable quorum queue bound to a topic exchange of the same name: what native delayed delivery needs."""
    return Queue(
        name,
        Exchange(name, type="topic", durable=True),
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def scheduler_config(settings: Settings) -> dict:
    """Celery settings right for a scheduler rather than Celery's defaults."""
    return {
        "broker_url": settings.broker_url,
        "broker_use_ssl": broker_ssl_options(settings),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_channel_error_retry": True,
        "broker_transport_options": {"confirm_publish": True},
        "broker_native_delayed_delivery_queue_type": "quorum",
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "event_serializer": "json",
        "enable_utc": True,
        "timezone": "UTC",
        "task_queues": [scheduler_queue()],
        "task_default_queue": QUEUE_NAME,
        "task_default_exchange": QUEUE_NAME,
        "task_default_exchange_type": "topic",
        "task_default_routing_key": QUEUE_NAME,
        "task_default_queue_type": "quorum",
        "task_default_delivery_mode": "persistent",
        "task_create_missing_queues": False,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_track_started": True,
        # The job store is the one record of every job (see store.py); no second answer in a backend.
        "result_backend": None,
        "task_ignore_result": True,
        "worker_prefetch_multiplier": PREFETCH_PER_PROCESS,
        "worker_detect_quorum_queues": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }


def create_app(settings: Settings | None = None) -> Celery:
    """The Celery app for schedcli's bundled jobs, configured from `settings`."""
    settings = settings or resolve_settings()
    celery_app = Celery("schedcli", include=["schedcli.tasks"])
    celery_app.conf.update(scheduler_config(settings))
    celery_app.conf.schedcli_settings = settings
    install(celery_app, app_path=DEFAULT_APP, database_url=settings.database_url)
    return celery_app


app = create_app()
