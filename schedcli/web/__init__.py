"""`schedcli serve`: the HTTP API for web apps and the dashboard for people, on FastAPI and uvicorn.

May import exceptions, settings, timeparse, store, amqp, jobs, schedules, worker, doctor, articles and report;
never Click or Rich, so it cannot import schedcli.cli.
"""

# Objects made by a request live for milliseconds; Python's default thresholds ran a collection every 700
# allocations, and a full one walked every module loaded at start-up: the slowest requests waited for them.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """For a long-running server process, once its start-up imports are done."""
    import gc

    gc.freeze()  # what start-up made is never collected: later collections skip it
    gc.set_threshold(*GC_THRESHOLDS)
