"""Ask the broker which workers answer (Celery's remote control)."""

from __future__ import annotations

from schedcli.exceptions import BrokerUnavailable, PublishersBlocked
from schedcli.settings import mask_url


def ensure_broker_takes_messages(celery_app, timeout: float = 4.0) -> None:
    """Raise `BrokerUnavailable` within `timeout` seconds instead of Celery's endless retry, and
    `PublishersBlocked` when a memory or disk alarm blocks publishers: what comes next is a broadcast
    to the workers, a publish, and a blocked one waits for ever."""
    import socket

    from schedcli.amqp.publisher import confirm_probe, watch_blocking

    shown = mask_url(celery_app.conf.broker_url)

    def blocked(reason: str) -> None:
        raise PublishersBlocked.by(shown, reason, "no message can reach the workers")

    connection = celery_app.connection_for_write()
    try:
        try:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        except Exception as exc:  # kombu wraps socket, auth and protocol failures differently
            raise BrokerUnavailable.not_answering(shown, str(exc)) from None
        if connection.transport.driver_type == "amqp":  # a user's app may use another broker: no alarms there
            watch_blocking(connection.connection, blocked)
            try:
                confirm_probe(connection.connection, timeout)
            except socket.timeout:
                raise BrokerUnavailable(f"RabbitMQ at {shown} did not confirm a message within {timeout:g} s, so no "
                                        "message can reach the workers; `schedcli doctor` looks for alarms") from None
    except BrokerUnavailable:
        connection.collect()  # a blocked connection reads nothing more, not even its close
        raise
    connection.release()


def check_broker_login(celery_app, timeout: float = 4.0) -> None:
    """`BrokerUnavailable` when the broker answers but refuses the login or the virtual host: a worker would
    retry that forever, several times a second. A broker that does not answer is left to the worker, which
    waits for it."""
    from kombu.exceptions import OperationalError

    connection = celery_app.connection_for_read()
    try:
        connection.ensure_connection(max_retries=0, timeout=timeout)
    except (OperationalError, OSError):
        return
    except Exception as exc:  # kombu passes the transport's own refusals through (amqp's AccessRefused, ...)
        raise BrokerUnavailable(
            f"RabbitMQ at {mask_url(celery_app.conf.broker_url)} refused the connection ({exc}); check the user, "
            "password and virtual host in the broker URL (--broker / SCHEDCLI_BROKER_URL)"
        ) from None
    finally:
        connection.release()


def answering_workers(celery_app, timeout: float) -> list[dict]:
    """One dict per answering worker: hostname, concurrency, active (jobs running now)."""
    ensure_broker_takes_messages(celery_app)
    inspector = celery_app.control.inspect(timeout=timeout)
    stats = inspector.stats() or {}
    active = inspector.active() or {}
    workers = []
    for hostname in sorted(stats):
        pool = stats[hostname].get("pool") or {}
        concurrency = pool.get("max-concurrency")
        workers.append({
            "hostname": hostname,
            "concurrency": concurrency,
            "active": len(active.get(hostname) or []),
        })
    return workers
