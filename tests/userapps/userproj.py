"""A user's own Celery project, as schedcli's tests drive it with --app (a classic layout: no quorum queue)."""

import os
from pathlib import Path

from celery import Celery

app = Celery("userproj", broker=os.environ.get("SCHEDCLI_BROKER_URL"))
app.conf.update(task_serializer="json", accept_content=["json"], task_default_queue="userproj")


@app.task(name="userproj.touch")
def touch(path, text="done"):
    """Write `text` into `path`; the test reads it to see the job ran."""
    Path(path).write_text(text)
    return text


@app.task(name="userproj.add")
def add(x, y):
    return x + y
