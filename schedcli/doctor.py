"""What `schedcli doctor` checks: RabbitMQ, quorum queues, the delay topology, the app's queues, RabbitMQ's
consumer_timeout, the cluster (nodes, each quorum queue's leader and members), the job store and the workers.

Every check returns one `Check` and never raises for what it finds wrong, so one failure never hides
the others. Levels: "ok"; "warning" (works, or will once something runs, but deserves a look);
"error" (jobs cannot be sent or would be lost: doctor exits 1). Apart from a quorum test queue it
creates and deletes, and the job store's schema on first use, doctor changes nothing: objects are
looked up with passive declarations, and an existing queue is compared by declaring it again with
the app's own arguments, which RabbitMQ refuses (and reports the difference) when they differ.
No Click, no Rich.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from schedcli.amqp.delays import DELAY_LEVELS, DELIVERY_EXCHANGE, level_name
from schedcli.amqp.publisher import confirm_probe, connection_options, watch_blocking
from schedcli.exceptions import START_RABBITMQ, BadInput, BrokerUnavailable, DatabaseError, PublishersBlocked
from schedcli.amqp.routes import Route, queue_route
from schedcli.settings import Settings, mask_url

OK, WARNING, ERROR = "ok", "warning", "error"
CONNECT_TIMEOUT = 3.0  # seconds: doctor reports a broker that is down, it does not wait for it
RABBITMQCTL_TIMEOUT = 5.0
ALARM_TIMEOUT = 3.0  # seconds for RabbitMQ to confirm the probe message
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# The consumer_timeout of the node rabbitmqctl reaches, and the ports it listens on (to be sure it is
# the broker of the URL, not another one on the same machine).
CONSUMER_TIMEOUT_EVAL = (
    "{application:get_env(rabbit, consumer_timeout), "
    "[P || {listener, _, Proto, _, _, P, _} <- rabbit_networking:node_listeners(node()), Proto =/= clustering]}."
)
START_RABBITMQ_FIX = f"start RabbitMQ with {START_RABBITMQ}"


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was seen (`detail`) and, unless ok, what to do (`fix`)."""

    check: str
    level: str
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.level == OK

    def to_json(self) -> dict:
        return {"check": self.check, "ok": self.ok, "level": self.level, "detail": self.detail, "fix": self.fix}


def healthy(checks: list[Check]) -> bool:
    """No check at error level: warnings are shown but do not make the setup unhealthy."""
    return all(check.level != ERROR for check in checks)


def not_checked(name: str, reason: str) -> Check:
    return Check(name, WARNING, f"not checked: {reason}")


def diagnose(settings: Settings, worker_timeout: float = 1.0, fix: bool = False) -> list[Check]:
    """Every check, in this order: rabbitmq, alarms, quorum queues, delay topology, app queues,
    consumer_timeout, cluster, database, unconfirmed, workers. With `fix`, jobs left unconfirmed are sent again."""
    from concurrent.futures import ThreadPoolExecutor

    celery_app, app_error = _load_app(settings)
    routes = app_routes(celery_app) if celery_app is not None else []
    probe, rabbitmq = connect(settings)
    # First: asking the workers publishes, and a blocked publisher waits for ever.
    alarms = _on_broker("alarms", probe, alarms_check)
    # Waiting for workers' answers and rabbitmqctl's start-up take a second or two each: wait for both at once.
    with ThreadPoolExecutor(max_workers=1) as background:
        pending_workers = None
        if app_error is not None:
            workers = not_checked("workers", "the app cannot be loaded")
        elif probe is None:
            workers = not_checked("workers", "RabbitMQ is not reachable")
        elif not alarms.ok:
            workers = not_checked("workers", "RabbitMQ takes no messages, so the workers cannot be asked")
        else:
            pending_workers = background.submit(workers_check, celery_app, settings, worker_timeout)
        try:
            quorum = _on_broker("quorum queues", probe, quorum_check)
            topology = _on_broker("delay topology", probe, lambda probe: delay_topology_check(probe, routes))
            timeout_ms, consumer_timeout = consumer_timeout_check(settings, reachable=probe is not None)
            cluster = cluster_check(settings, reachable=probe is not None, routes=routes)
            if app_error is not None:
                app_queues = Check("app queues", ERROR, app_error, "correct --app / SCHEDCLI_APP")
            else:
                app_queues = app_queues_check(celery_app, routes, probe, timeout_ms)
        finally:
            if probe is not None:
                probe.close()
        database = database_check(settings.database_url)
        if not database.ok:
            unconfirmed = not_checked("unconfirmed", "the job store cannot be read")
        else:
            unconfirmed = unconfirmed_check(settings, fix=fix and probe is not None and alarms.ok)
        if pending_workers is not None:
            workers = pending_workers.result()
    return [rabbitmq, alarms, quorum, topology, app_queues, consumer_timeout, cluster, database, unconfirmed,
            workers]


def _load_app(settings: Settings):
    from schedcli.worker.apps import load_celery_app

    try:
        return load_celery_app(settings), None
    except BadInput as exc:
        return None, str(exc)


# -- RabbitMQ ----------------------------------------------------------------------------------------


class BrokerProbe:
    """One connection for the broker checks. A refused declaration (404, 406, 403) closes the channel, so
    every refusal reopens it before the probe goes on."""

    def __init__(self, connection):
        self.connection = connection
        self.channel = connection.channel()
        self.alive = True

    @property
    def version(self) -> str:
        version = self.connection.server_properties.get("version", "")
        return version.decode() if isinstance(version, bytes) else str(version)

    def refusal(self, action) -> str | None:
        """Run `action(channel)`; None when RabbitMQ accepted it, else the reason it gave."""
        import amqp

        try:
            action(self.channel)
            return None
        except amqp.exceptions.ChannelError as exc:
            self.channel = self.connection.channel()
            return _reason(exc)

    def exists(self, kind: str, name: str) -> bool:
        """Whether the exchange or queue exists; any other refusal raises (a ChannelError)."""
        import amqp

        try:
            if kind == "exchange":
                self.channel.exchange_declare(name, "topic", passive=True)
            else:
                self.channel.queue_declare(name, passive=True)
            return True
        except amqp.exceptions.ChannelError as exc:
            self.channel = self.connection.channel()
            if isinstance(exc, amqp.exceptions.NotFound):
                return False
            raise

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # closing a broken connection: nothing left to save
            self.connection.collect()


def connect(settings: Settings) -> tuple[BrokerProbe | None, Check]:
    """The probe (None when RabbitMQ cannot be reached) and the "rabbitmq" check."""
    import amqp

    from schedcli.settings import broker_urls

    shown = mask_url(settings.broker_url)
    try:  # a failover list: the first node that answers, as a sender and a worker pick it
        every_options = [connection_options(settings, CONNECT_TIMEOUT, url) for url in broker_urls(settings.broker_url)]
    except BadInput as exc:
        return None, Check("rabbitmq", ERROR, str(exc), "correct --broker / SCHEDCLI_BROKER_URL")
    failures = []
    for options in every_options:
        connection = amqp.Connection(**options)
        watch_blocking(connection, _raise_blocked)
        try:
            connection.connect()
            probe = BrokerProbe(connection)
            break
        except amqp.exceptions.AccessRefused as exc:
            connection.collect()
            return None, Check("rabbitmq", ERROR, f"{shown} refused the login ({_reason(exc)})",
                               "check the user and password in the broker URL (--broker / SCHEDCLI_BROKER_URL)")
        except amqp.exceptions.NotAllowed as exc:
            connection.collect()
            vhost, user = options["virtual_host"], options["userid"]
            return None, Check("rabbitmq", ERROR, f"{shown}: virtual host {vhost!r} refused ({_reason(exc)})",
                               f"create it and let the user in: rabbitmqctl add_vhost {vhost} && "
                               f"rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'")
        except (OSError, amqp.exceptions.AMQPError) as exc:
            connection.collect()
            failures.append(f"{options['host']}: {_reason(exc)}" if len(every_options) > 1 else _reason(exc))
    else:
        return None, Check("rabbitmq", ERROR, f"cannot reach {shown} ({'; '.join(failures)})",
                           f"{START_RABBITMQ_FIX}, or correct --broker / SCHEDCLI_BROKER_URL")
    if failures:
        shown = f"{shown} ({'; '.join(failures)})"
    version = probe.version
    if _version_tuple(version) < (3, 10):
        return probe, Check("rabbitmq", WARNING, f"RabbitMQ {version} at {shown}",
                            "upgrade to RabbitMQ 3.10 or newer: delayed jobs move between delay levels with "
                            "at-least-once dead-lettering, which older versions lack")
    return probe, Check("rabbitmq", OK, f"RabbitMQ {version} at {shown}")


def _raise_blocked(reason: str) -> None:
    raise PublishersBlocked(reason)


def alarms_check(probe: BrokerProbe) -> Check:
    """Publish one message nobody receives and wait for its confirm: a memory or disk alarm blocks it."""
    import socket

    try:
        confirm_probe(probe.connection, ALARM_TIMEOUT)
    except PublishersBlocked as blocked:
        probe.alive = False  # a blocked connection reads nothing more: the later broker checks are skipped
        return Check("alarms", ERROR, f"RabbitMQ is blocking publishers: {blocked}; no job can be sent",
                     "free memory or disk on the RabbitMQ host, or raise its limits "
                     "(vm_memory_high_watermark, disk_free_limit); `rabbitmq-diagnostics alarms` lists them")
    except socket.timeout:
        probe.alive = False
        return Check("alarms", ERROR, f"RabbitMQ did not confirm a message within {ALARM_TIMEOUT:g} s",
                     "look for alarms with `rabbitmq-diagnostics alarms`")
    return Check("alarms", OK, "none: RabbitMQ takes messages")


def _on_broker(name: str, probe: BrokerProbe | None, run) -> Check:
    """`run(probe)`, its unexpected refusal an error. A connection lost on the way is this check's error, and
    the later broker checks are skipped."""
    import amqp

    if probe is None or not probe.alive:
        return not_checked(name, "RabbitMQ is not reachable")
    try:
        return run(probe)
    except amqp.exceptions.ChannelError as exc:
        return Check(name, ERROR, f"RabbitMQ refused a lookup: {_reason(exc)}",
                     "give the user permissions on the virtual host (rabbitmqctl set_permissions)")
    except (OSError, amqp.exceptions.ConnectionError) as exc:
        probe.alive = False
        return Check(name, ERROR, f"lost the connection to RabbitMQ ({_reason(exc)})", START_RABBITMQ_FIX)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "reply_text", None) or str(exc)  # RabbitMQ's own words, without py-amqp's prefix
    return " ".join(text.split()) or type(exc).__name__


def _version_tuple(version: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def quorum_check(probe: BrokerProbe) -> Check:
    """Quorum queues work when RabbitMQ is 3.8+ and it accepts one: a test queue, declared then deleted."""
    if _version_tuple(probe.version) < (3, 8):
        return Check("quorum queues", ERROR, f"RabbitMQ {probe.version} has no quorum queues",
                     "upgrade to RabbitMQ 3.10 or newer")
    name = f"schedcli.doctor.{uuid.uuid4().hex}"

    def declare_and_delete(channel):
        channel.queue_declare(name, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_delete(name)

    refusal = probe.refusal(declare_and_delete)
    if refusal is None:
        return Check("quorum queues", OK, "a test quorum queue was declared and deleted")
    if refusal.startswith("ACCESS_REFUSED"):
        return Check("quorum queues", WARNING, f"cannot test: {refusal}",
                     "give the user configure permission on the virtual host (rabbitmqctl set_permissions)")
    return Check("quorum queues", ERROR, f"RabbitMQ refused a quorum queue: {refusal}",
                 "enable quorum queues: `rabbitmqctl enable_feature_flag all`, on RabbitMQ 3.10 or newer")


def delay_topology_check(probe: BrokerProbe, routes: list[Route]) -> Check:
    """Celery's 28 delay levels (exchange and queue each) and the delivery exchange, looked up passively."""
    name = "delay topology"
    if routes and not any(route.native_delay for route in routes):
        return Check(name, OK, "not used: the app's queues cannot use delayed delivery (see app queues)")
    wanted = [("exchange", level_name(level)) for level in range(DELAY_LEVELS)]
    wanted += [("queue", level_name(level)) for level in range(DELAY_LEVELS)]
    wanted.append(("exchange", DELIVERY_EXCHANGE))
    missing = [f"{object_name} ({kind})" for kind, object_name in wanted if not probe.exists(kind, object_name)]
    if not missing:
        return Check(name, OK, f"{DELAY_LEVELS} delay levels and {DELIVERY_EXCHANGE} are declared")
    if len(missing) == len(wanted):
        return Check(name, WARNING, f"not declared yet: celery_delayed_0..{DELAY_LEVELS - 1} and {DELIVERY_EXCHANGE}",
                     "start a worker (`schedcli worker start`) or send a job: both declare it")
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return Check(name, ERROR, f"incomplete, missing {shown}: delayed jobs passing there would be lost",
                 "start a worker (`schedcli worker start`): it declares every delay level again")


# -- the app's queues ----------------------------------------------------------------------------------


def app_routes(celery_app) -> list[Route]:
    """The queues a worker of the app consumes by default."""
    return [queue_route(queue) for queue in celery_app.amqp.queues.values()]


def describe_route(route: Route) -> str:
    queue_type = dict(route.queue_arguments).get("x-queue-type", "classic")
    exchange = f"{route.exchange_type} exchange {route.exchange!r}" if route.exchange else "the default exchange"
    return f"queue {route.queue!r}: {queue_type}, on {exchange}"


def format_minutes(milliseconds: int) -> str:
    return f"{milliseconds / 60000:.4g} min"


def native_delay_fix(queue: str, vhost: str) -> str:
    """The Celery settings that let RabbitMQ hold a user's delayed jobs."""
    return (
        "set in the Celery app's configuration:\n"
        '    task_default_queue_type = "quorum"\n'
        '    task_default_exchange_type = "topic"\n'
        '    broker_native_delayed_delivery_queue_type = "quorum"\n'
        "and give each queue of task_queues a topic exchange, e.g.\n"
        f'    Queue("{queue}", Exchange("{queue}", type="topic"), routing_key="{queue}",\n'
        '          queue_arguments={"x-queue-type": "quorum"})\n'
        "RabbitMQ keeps the type a queue or exchange was first declared with: once the old one is empty, "
        f"delete it (`rabbitmqctl delete_queue -p {vhost} {queue}`; an exchange in the management UI) "
        "and start a worker, which declares it again."
    )


def app_queues_check(celery_app, routes: list[Route], probe: BrokerProbe | None, timeout_ms: int | None) -> Check:
    """Each queue quorum behind a non-direct exchange, and, when it exists, declared on RabbitMQ that way too."""
    name = "app queues"
    vhost = probe.connection.virtual_host if probe is not None else "VHOST"
    held = [route for route in routes if not route.native_delay]
    if held:
        limit = format_minutes(timeout_ms) if timeout_ms else "30 min by default"
        configured = Check(name, WARNING, (
            f"{'; '.join(describe_route(route) for route in held)}: RabbitMQ cannot hold its delayed jobs, so "
            f"workers hold them unacknowledged until due, and one held beyond RabbitMQ's consumer_timeout "
            f"({limit}) makes RabbitMQ close the worker's channel: with Celery's defaults the worker exits "
            "and its jobs wait for a restart"
        ), native_delay_fix(held[0].queue, vhost))
    else:
        configured = Check(name, OK, "; ".join(describe_route(route) for route in routes))
    if probe is None or not probe.alive:
        return configured
    declared = _on_broker(name, probe, lambda probe: _declared_as_configured(probe, celery_app))
    if declared.ok:
        return configured
    return Check(name, ERROR, f"{configured.detail}; {declared.detail}",
                 "\n".join(fix for fix in (configured.fix, declared.fix) if fix))


def _declared_as_configured(probe: BrokerProbe, celery_app) -> Check:
    """Whether RabbitMQ accepts each existing queue and exchange of the app as the app declares it."""
    differences = _declared_differently(probe, celery_app)
    if not differences:
        return Check("app queues", OK, "declared on RabbitMQ as configured, where they exist")
    vhost = probe.connection.virtual_host
    return Check(
        "app queues", ERROR, "but RabbitMQ has them declared otherwise: " + "; ".join(differences.values()),
        "RabbitMQ keeps what was declared first: once it is empty, delete "
        + ", ".join(f"{kind} {object_name!r}" for kind, object_name in differences)
        + f" (`rabbitmqctl delete_queue -p {vhost} NAME`; an exchange in the management UI) "
        "and start a worker, which declares it again",
    )


def _declared_differently(probe: BrokerProbe, celery_app) -> dict[tuple[str, str], str]:
    """(kind, name) -> RabbitMQ's reason, for each existing queue or exchange it refuses as the app declares it."""
    from kombu.transport.base import to_rabbitmq_queue_arguments

    differences = {}
    for queue in celery_app.amqp.queues.values():
        if queue.no_declare or queue.exclusive or not probe.exists("queue", queue.name):
            continue
        arguments = to_rabbitmq_queue_arguments(
            queue.queue_arguments or {}, expires=queue.expires, message_ttl=queue.message_ttl,
            max_length=queue.max_length, max_length_bytes=queue.max_length_bytes, max_priority=queue.max_priority,
        )
        refusal = probe.refusal(lambda channel: channel.queue_declare(
            queue.name, durable=queue.durable, auto_delete=queue.auto_delete, arguments=arguments or None))
        if refusal:
            differences["queue", queue.name] = refusal
        exchange = queue.exchange
        if exchange and exchange.name and probe.exists("exchange", exchange.name):
            refusal = probe.refusal(lambda channel: channel.exchange_declare(
                exchange.name, exchange.type, durable=exchange.durable, auto_delete=exchange.auto_delete,
                arguments=exchange.arguments or None))
            if refusal:
                differences["exchange", exchange.name] = refusal
    return differences


# -- consumer_timeout ----------------------------------------------------------------------------------


def parse_consumer_timeout(output: str) -> tuple[str | None, list[int]] | None:
    """rabbitmqctl's answer to CONSUMER_TIMEOUT_EVAL as (value, listening ports); None when unreadable.

    The value is the Erlang term: digits (milliseconds), or e.g. `false`; None when not set at all.
    """
    match = re.fullmatch(r"\{(?:undefined|\{ok,([^{}]*)\}),\[([0-9,]*)\]\}", "".join(output.split()))
    if match is None:
        return None
    return match[1], [int(port) for port in match[2].split(",") if port]


def consumer_timeout_check(settings: Settings, reachable: bool) -> tuple[int | None, Check]:
    """RabbitMQ's consumer_timeout in milliseconds (None when unknown) and its check, always informative.

    AMQP cannot read it: it is read with `rabbitmqctl eval` when the broker runs on this machine.
    """
    name = "consumer_timeout"
    if not reachable:
        return None, not_checked(name, "RabbitMQ is not reachable")
    try:
        parts = urlsplit(settings.broker_url)
        host, port = parts.hostname, parts.port or (5671 if parts.scheme == "amqps" else 5672)
    except ValueError:
        return None, Check(name, OK, "not readable from here (malformed broker URL)")
    if host not in LOCAL_HOSTS:
        return None, Check(name, OK, f"not readable from here (RabbitMQ runs on {unquote(host or '')})")
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return None, Check(name, OK, "not readable from here (rabbitmqctl is not on PATH)")
    try:
        result = subprocess.run([rabbitmqctl, "-q", "eval", CONSUMER_TIMEOUT_EVAL], capture_output=True,
                                text=True, timeout=RABBITMQCTL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, Check(name, OK, f"not readable from here (rabbitmqctl: {_reason(exc)})")
    parsed = parse_consumer_timeout(result.stdout) if result.returncode == 0 else None
    if parsed is None:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        return None, Check(name, OK, f"not readable from here (rabbitmqctl: {said[0] if said else 'no answer'})")
    value, ports = parsed
    if ports and port not in ports:
        return None, Check(name, OK, f"not readable from here (the local RabbitMQ listens on "
                                     f"{', '.join(map(str, ports))}, the broker URL names {port})")
    if value is None or not value.isdigit():
        return None, Check(name, OK, "disabled: RabbitMQ never times out a delivery")
    milliseconds = int(value)
    return milliseconds, Check(name, OK, f"{format_minutes(milliseconds)} ({milliseconds} ms): how long a "
                                         "worker may hold a delivery unacknowledged")


# -- the cluster ---------------------------------------------------------------------------------------

CLUSTER_SIZE = 3  # members a quorum queue needs to survive the loss of one node


def _rabbitmqctl_json(rabbitmqctl: str, *args: str):
    """rabbitmqctl's JSON answer; raises RuntimeError with its first line of complaint when it has none."""
    import json

    try:
        result = subprocess.run([rabbitmqctl, "-q", *args, "--formatter", "json"], capture_output=True, text=True,
                                timeout=RABBITMQCTL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(_reason(exc)) from None
    # Erlang may print a report before the answer (e.g. a .erlang file it may not read): the JSON starts a line.
    start = re.search(r"^[\[{]", result.stdout, re.MULTILINE)
    try:
        if result.returncode == 0 and start is not None:
            return json.loads(result.stdout[start.start():])
    except ValueError:
        pass
    said = (result.stderr.strip() or result.stdout.strip()).splitlines()
    raise RuntimeError(said[0] if said else f"exit code {result.returncode}")


def _broker_nodes(settings: Settings) -> list[tuple[str, int, str]]:
    """(host, AMQP port, virtual host) of each node of the broker setting, a failover list included."""
    from schedcli.settings import broker_urls

    nodes = []
    for url in broker_urls(settings.broker_url):
        try:
            parts = urlsplit(url)
            port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
        except ValueError:
            continue
        vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
        nodes.append((unquote(parts.hostname or ""), port, vhost or "/"))
    return nodes


def _queue_names(names: list[str]) -> str:
    """`celery_delayed_0..27`-style ranges for the delay levels, other names as they are."""
    levels = sorted(int(name.rsplit("_", 1)[1]) for name in names if re.fullmatch(r"celery_delayed_\d+", name))
    others = [name for name in names if not re.fullmatch(r"celery_delayed_\d+", name)]
    ranges, start = [], None
    for index, level in enumerate(levels):
        if start is None:
            start = level
        if index + 1 == len(levels) or levels[index + 1] != level + 1:
            ranges.append(f"celery_delayed_{start}" if start == level else f"celery_delayed_{start}..{level}")
            start = None
    return ", ".join(others + ranges)


def cluster_check(settings: Settings, reachable: bool, routes: list[Route]) -> Check:
    """The RabbitMQ cluster's nodes and, for the app's queues and the delay levels, each quorum queue's leader
    and members, read with `rabbitmqctl` when the broker runs on this machine (the node rabbitmqctl reaches:
    RABBITMQ_NODENAME, else its default). A quorum queue survives the loss of a node only with three members."""
    name = "cluster"
    if not reachable:
        return not_checked(name, "RabbitMQ is not reachable")
    nodes = _broker_nodes(settings)
    local = [(port, vhost) for host, port, vhost in nodes if host in LOCAL_HOSTS]
    if not local:
        hosts = ", ".join(sorted({host for host, _, _ in nodes}))
        return Check(name, OK, f"not readable from here (RabbitMQ runs on {hosts}); "
                               "`rabbitmqctl cluster_status` on a node shows it")
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return Check(name, OK, "not readable from here (rabbitmqctl is not on PATH)")
    try:
        status = _rabbitmqctl_json(rabbitmqctl, "cluster_status")
    except RuntimeError as exc:
        return Check(name, OK, f"not readable from here (rabbitmqctl: {exc})")
    ports = sorted({listener.get("port") for listeners in (status.get("listeners") or {}).values()
                    for listener in listeners if listener.get("protocol") in ("amqp", "amqp/ssl")})
    if not any(port in ports for port, _ in local):
        return Check(name, OK, f"not readable from here (the cluster rabbitmqctl reaches listens on "
                               f"{', '.join(map(str, ports)) or 'no AMQP port'}, the broker URL names "
                               f"{', '.join(str(port) for port, _ in local)}; set RABBITMQ_NODENAME to its node)")
    members = sorted(status.get("disk_nodes", []) + status.get("ram_nodes", []))
    running = set(status.get("running_nodes", []))
    down = [node for node in members if node not in running]
    vhost = local[0][1]
    try:
        queues = _rabbitmqctl_json(rabbitmqctl, "list_queues", "-p", vhost, "name", "type", "leader", "members",
                                   "online")
    except RuntimeError as exc:
        return Check(name, WARNING, f"{len(members)} node(s); queues not readable (rabbitmqctl: {exc})")
    wanted = {route.queue for route in routes} | {level_name(level) for level in range(DELAY_LEVELS)}
    groups: dict[tuple, list[str]] = {}
    short = []  # quorum queues with fewer than CLUSTER_SIZE members
    for queue in queues:
        if queue.get("name") not in wanted or queue.get("type") != "quorum":
            continue
        queue_members = sorted(queue.get("members") or [])
        offline = sorted(set(queue_members) - set(queue.get("online") or []))
        groups.setdefault((queue.get("leader") or "none", tuple(queue_members), tuple(offline)), []).append(queue["name"])
        if len(queue_members) < CLUSTER_SIZE:
            short.append(queue["name"])
    shown_nodes = ", ".join(f"{node} ({'running' if node in running else 'NOT running'})" for node in members)
    parts = [f"{len(members)} node(s): {shown_nodes}"]
    for (leader, queue_members, offline), names in sorted(groups.items(), key=lambda item: item[1][0]):
        line = f"{_queue_names(sorted(names))}: leader {leader}, members {', '.join(queue_members)}"
        parts.append(line + (f" ({', '.join(offline)} offline)" if offline else ""))
    if not groups:
        parts.append("no quorum queue of the app or the delay levels declared yet")
    detail = "; ".join(parts)
    if len(members) <= 1:
        return Check(name, WARNING, f"RabbitMQ is a single node, fine for development: {detail}",
                     f"in production run a cluster of {CLUSTER_SIZE} nodes and list them all in the broker URL "
                     "(`amqp://h1//;amqp://h2//;amqp://h3//`): see docs/deployment.md")
    if short or down:
        problems = []
        if down:
            problems.append(f"{', '.join(down)} not running")
        if short:
            problems.append(f"{_queue_names(sorted(short))} with fewer than {CLUSTER_SIZE} members: losing a node "
                            "may stop them")
        return Check(name, WARNING, f"{'; '.join(problems)}; {detail}",
                     "start the stopped nodes (`rabbitmq-diagnostics check_running`), and give each queue "
                     f"{CLUSTER_SIZE} members (`rabbitmq-queues grow NODE all` for a node that joined later)")
    return Check(name, OK, detail)


# -- the job store and the workers ---------------------------------------------------------------------


def database_check(database_url: str) -> Check:
    from schedcli.store import JobStore

    shown = mask_url(database_url)
    try:
        with JobStore.open(database_url) as store:
            version = store.schema_version()
    except DatabaseError as exc:
        return Check("database", ERROR, str(exc),
                     "check --database / SCHEDCLI_DATABASE_URL and that the database is up; a schema newer "
                     "than this schedcli needs a newer schedcli (pip install -U schedcli)")
    return Check("database", OK, f"{shown}, schema version {version}")


def unconfirmed_check(settings: Settings, fix: bool) -> Check:
    """Jobs left SENDING by a sender that is gone (killed mid-send): RabbitMQ may or may not have them."""
    import time
    from dataclasses import replace

    from schedcli.jobs.senders import sender_is_gone
    from schedcli.jobs.sending import Dispatcher
    from schedcli.store import JobStore

    now = time.time()
    with JobStore.open(settings.database_url) as store:
        left = [job for job in store.unconfirmed() if sender_is_gone(job, now)]
    if not left:
        return Check("unconfirmed", OK, "no job left unconfirmed by a sender that is gone")
    if not fix:
        return Check("unconfirmed", WARNING,
                     f"{len(left):,} job(s) SENDING whose sender is gone (killed mid-send): RabbitMQ may or may not "
                     "have them", "`schedcli doctor --fix` sends them again under their own ids (each runs once)")
    by_app: dict[str, list] = {}
    for job in left:
        by_app.setdefault(job.app, []).append(job)
    problems, sent = [], 0
    for app, jobs in by_app.items():
        try:
            results = Dispatcher(replace(settings, app=app)).resend(jobs)
        except (BadInput, BrokerUnavailable, DatabaseError) as exc:
            problems.append(f"{app}: {exc}")
            continue
        sent += sum(result.sent for result in results)
        problems += [f"{result.job_id}: {result.error}" for result in results if result.error]
    if problems:
        return Check("unconfirmed", ERROR, f"sent {sent:,} of {len(left):,} again; not sent: {'; '.join(problems[:5])}",
                     "run `schedcli doctor --fix` again once RabbitMQ takes messages")
    return Check("unconfirmed", OK, f"sent {sent:,} job(s) again that a sender left unconfirmed")


def workers_check(celery_app, settings: Settings, timeout: float) -> Check:
    from schedcli.worker.inspection import answering_workers

    try:
        workers = answering_workers(celery_app, timeout=timeout)
    except BrokerUnavailable as exc:
        return Check("workers", ERROR, str(exc), START_RABBITMQ_FIX)
    if not workers:
        start = "schedcli worker start" if settings.uses_bundled_app else f"schedcli --app {settings.app} worker start"
        return Check("workers", WARNING, f"none answered within {timeout:g} s; jobs wait in RabbitMQ until one runs",
                     f"start one: {start}")
    shown = ", ".join(f"{worker['hostname']} (concurrency {worker['concurrency']})" for worker in workers)
    return Check("workers", OK, f"{len(workers)} answering: {shown}")
