"""How schedcli's own processes run, apart from what they do. Imports nothing of schedcli."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Python's default thresholds run a collection every 700 allocations, and every so often a full one walks
# every object alive. A server's requests make objects that live for milliseconds: the slowest requests
# waited for those walks. A bulk send keeps each job of its file until it prints their ids: the walks took
# 0.45 s of the 3.5 s of CPU a send of 100,000 jobs needs, which on a small machine RabbitMQ would have used.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """For a long-running process (the server), once its start-up imports are done."""
    gc.freeze()  # what start-up made is never collected: later collections skip it
    gc.set_threshold(*GC_THRESHOLDS)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """`tune_garbage_collector` while a bulk send runs, and the collector as it was after it."""
    thresholds = gc.get_threshold()
    tune_garbage_collector()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
