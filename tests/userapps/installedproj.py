"""A user's Celery app with the one line that makes schedcli record its jobs as they are sent."""

import os

from celery import Celery

import schedcli

app = Celery("installedproj", broker=os.environ.get("SCHEDCLI_BROKER_URL"))
app.conf.update(task_default_queue="installedproj", task_default_exchange="installedproj",
                task_default_exchange_type="topic", task_default_routing_key="installedproj",
                task_default_queue_type="quorum", broker_transport_options={"confirm_publish": True})
schedcli.install(app)


@app.task(name="installedproj.add")
def add(x, y):
    return x + y
