"""Where a job goes: the queue, exchange and routing key the worker consumes, and the bundled task names.

For schedcli's own app this is known without building a Celery app (which costs ~200 ms); for a
user's `--app` it is read from the app's own router, as Celery would route the task.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from schedcli.exceptions import BadInput
from schedcli.settings import QUEUE_NAME

# Kept here, not read from tasks.py, so the send path never imports Celery; a test checks it
# against the app's registry.
BUNDLED_TASK_NAMES = (
    "schedcli.tasks.echo",
    "schedcli.tasks.generate_report",
    "schedcli.tasks.publish_article",
)


@dataclass(frozen=True)
class Route:
    """The worker side of a job: what to declare and where to publish."""

    queue: str
    exchange: str
    exchange_type: str
    routing_key: str
    queue_arguments: tuple[tuple[str, object], ...] = (("x-queue-type", "quorum"),)

    @property
    def native_delay(self) -> bool:
        """Whether RabbitMQ can hold this queue's delayed jobs (quorum queue behind a non-direct exchange)."""
        return dict(self.queue_arguments).get("x-queue-type") == "quorum" and self.exchange_type != "direct"


def bundled_route(queue: str | None = None) -> Route:
    name = queue or QUEUE_NAME
    return Route(queue=name, exchange=name, exchange_type="topic", routing_key=name)


def check_task_name(task: str, known: list[str] | tuple[str, ...]) -> None:
    """BadInput naming the closest known tasks when `task` is not registered."""
    if task in known:
        return
    close = difflib.get_close_matches(task, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known tasks: {', '.join(sorted(known)[:10])}"
    raise BadInput(f"unknown task {task!r}; {hint}")


def user_task_names(celery_app) -> list[str]:
    return sorted(name for name in celery_app.tasks if not name.startswith("celery."))


def queue_route(queue) -> Route:
    """A kombu Queue as a Route (the default exchange, named "", is a direct one)."""
    exchange = queue.exchange
    return Route(
        queue=queue.name,
        exchange=exchange.name if exchange else "",
        exchange_type=exchange.type if exchange and exchange.name else "direct",
        routing_key=queue.routing_key or queue.name,
        queue_arguments=tuple(sorted((queue.queue_arguments or {}).items())),
    )


def user_route(celery_app, task: str, queue: str | None = None) -> Route:
    """The route Celery itself would use for `task` in a user's app."""
    options = celery_app.amqp.router.route({"queue": queue} if queue else {}, task)
    declared = options.get("queue")
    if declared is None:
        raise BadInput(f"the app has no queue for task {task!r}")
    return queue_route(declared)
