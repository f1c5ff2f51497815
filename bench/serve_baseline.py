"""The baseline of bench/serve_bench.py: what the seed's reader would write, a FastAPI endpoint calling Celery.

    SCHEDCLI_BROKER_URL=amqp://... uvicorn bench.serve_baseline:app

`apply_async` with `countdown` on a Celery app with Celery's defaults but the broker (no publisher
confirms, so the baseline is spared the wait schedcli's confirmed send pays; a classic queue, so the
job goes there at once with its ETA in a header), in a plain `def` endpoint: FastAPI runs it on its
thread pool, since Celery's call blocks. The broker is the run's virtual host, deleted with it:
Celery's default app would publish into the shared broker's `/` and leave the jobs there.
"""

from __future__ import annotations

import os

from celery import Celery
from fastapi import Body, FastAPI

celery_app = Celery("serve_baseline", broker=os.environ["SCHEDCLI_BROKER_URL"])


@celery_app.task(name="schedcli.tasks.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


app = FastAPI()


@app.post("/jobs", status_code=201)
def send(body: dict = Body(...)):
    result = echo.apply_async(args=body.get("args", []), countdown=float(body.get("countdown", 0)))
    return {"id": result.id}
