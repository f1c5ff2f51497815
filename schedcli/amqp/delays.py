"""Celery's native delayed delivery on RabbitMQ, as arithmetic: 28 delay levels, one per bit of the delay.

A job due in N seconds goes through the levels of N's set bits (`celery_delayed_27` .. `celery_delayed_0`,
each a queue whose messages dead-letter after 2**level seconds) and lands in its queue when due.
Pure: no kombu, no schedcli imports, so the time parser can use its limit.
"""

from __future__ import annotations

import re
from functools import lru_cache

DELAY_LEVELS = 28  # Celery's native delayed delivery: celery_delayed_0 .. celery_delayed_27
MAX_DELAY_SECONDS = 2**DELAY_LEVELS - 1
DELIVERY_EXCHANGE = "celery_delayed_delivery"
EARLY_ARRIVAL_SECONDS = 1


def level_name(level: int) -> str:
    return f"celery_delayed_{level}"


def delayed_routing_key(delay_seconds: int, routing_key: str) -> str:
    """Celery's delay routing key: the delay's 28 bits, dot-separated, then the queue's routing key."""
    return f"{_delay_bits(delay_seconds)}.{routing_key}"


@lru_cache(maxsize=2**16)  # a bulk send's jobs share delays; the join took a seventh of its publishing
def _delay_bits(delay_seconds: int) -> str:
    return ".".join(f"{delay_seconds:0{DELAY_LEVELS}b}")


def rabbitmq_delay(seconds_until_due: float) -> int:
    """Whole seconds a job waits in the delay levels: it reaches the worker 1-2 s before it is due.

    The worker holds it for the rest, as Celery does with an ETA. The margin absorbs the late
    dead-lettering of RabbitMQ's delay levels (up to ~200 ms measured for 1,000 jobs due together);
    without it, jobs due just after a whole second started that late.
    """
    return max(0, int(seconds_until_due) - EARLY_ARRIVAL_SECONDS)


_DELAY_BITS = re.compile(rf"^(?:[01]\.){{{DELAY_LEVELS}}}")


def undelayed_routing_key(routing_key: str) -> str:
    """The queue's routing key of a message routed through the delay levels (its 28 delay bits read past)."""
    return _DELAY_BITS.sub("", routing_key, count=1)
