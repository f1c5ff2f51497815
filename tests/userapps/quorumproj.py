"""A user's own Celery app set up for native delayed delivery: a quorum queue behind a topic exchange."""

import os
from pathlib import Path

from celery import Celery

app = Celery("quorumproj", broker=os.environ.get("SCHEDCLI_BROKER_URL"))
app.conf.update(
    task_serializer="json", accept_content=["json"], task_default_queue="quorumproj",
    task_default_exchange_type="topic", task_default_queue_type="quorum",
    broker_native_delayed_delivery_queue_type="quorum", worker_detect_quorum_queues=True,
)


@app.task(bind=True, name="quorumproj.flaky", max_retries=3)
def flaky(self, marker, countdown):
    """Fails the first time (no `marker` file yet) and retries after `countdown` seconds; succeeds the second time."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise self.retry(exc=OSError("not yet"), countdown=countdown)
    return "second time lucky"
