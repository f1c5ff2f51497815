"""The baseline of bench/serve_bench.py: what the seed's reader would write, a FastAPI endpoint calling Celery.

    uvicorn bench.serve_baseline:app

`apply_async` with `countdown` on schedcli's own Celery app (its defaults: no publisher confirms, so
the baseline is spared the wait schedcli's confirmed send pays), in a plain `def` endpoint: FastAPI
runs it on its thread pool, since Celery's call blocks.
"""

from __future__ import annotations

from fastapi import Body, FastAPI

from schedcli.tasks import echo

app = FastAPI()


@app.post("/jobs", status_code=201)
def send(body: dict = Body(...)):
    result = echo.apply_async(args=body.get("args", []), countdown=float(body.get("countdown", 0)))
    return {"id": result.id}
