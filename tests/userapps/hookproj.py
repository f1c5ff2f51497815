"""A user's Celery app whose jobs fail, retry and report progress: what the worker hooks must record."""

import os
import time
from pathlib import Path

from celery import Celery

from schedcli.worker.hooks import report_progress

app = Celery("hookproj", broker=os.environ.get("SCHEDCLI_BROKER_URL"))
app.conf.update(task_serializer="json", accept_content=["json"], task_default_queue="hookproj")


@app.task(name="hookproj.touch")
def touch(path, text="done"):
    """Write `text` into `path`; the test reads it to see whether the job ran."""
    Path(path).write_text(text)
    return text


@app.task(name="hookproj.add")
def add(x, y):
    return x + y


@app.task(name="hookproj.unstorable")
def unstorable(fail):
    """Its result, or its error, holds half a surrogate pair: text no database stores as it is."""
    text = "half a pair: \ud800"
    if fail:
        raise ValueError(text)
    return text


@app.task(name="hookproj.boom")
def boom(message):
    raise ValueError(message)


@app.task(bind=True, name="hookproj.flaky", max_retries=3)
def flaky(self, marker):
    """Fails the first time (no `marker` file yet), succeeds on the retry."""
    path = Path(marker)
    if not path.exists():
        path.write_text("tried")
        raise self.retry(exc=OSError("not yet"), countdown=1)
    return "second time lucky"


@app.task(bind=True, name="hookproj.steps")
def steps(self, release):
    """Reports step 1 of 2, waits for the test to create `release`, then finishes."""
    report_progress(self, 1, 2, "waiting for release")
    deadline = time.monotonic() + 30
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    report_progress(self, 2, 2, "done")
    return "released"


@app.task(name="hookproj.counted", acks_late=True)
def counted(runs, release=None):
    """Adds a line to `runs` each time it runs, waits for `release` (when given) to exist, and returns how many times
    it ran. Acknowledged when it ends, as schedcli's own jobs are."""
    with open(runs, "a") as file:
        file.write("ran\n")
    deadline = time.monotonic() + 30
    while release and not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(Path(runs).read_text().splitlines())
