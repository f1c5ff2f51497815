"""Publish Celery task messages to RabbitMQ quickly and safely, without building a Celery app.

- Publisher confirms always, many messages in flight, counted as RabbitMQ returns them: a job is
  sent only once RabbitMQ confirmed it.
- Delayed jobs go straight into the delay level of the delay's highest set bit (Celery publishes
  into `celery_delayed_27` and lets RabbitMQ route through up to 28 topic hops; the skipped levels
  only forward zero bits, so where the message ends up is identical). It is asked to wait one
  second less than the job's delay, and the worker holds it for the rest (see `rabbitmq_delay`).
- The topology the messages rely on (the worker's queue and Celery's delay levels) is declared by
  the sender too, exactly as the worker declares it, so a job sent before any worker ever ran is
  delivered when one starts. A marker exchange records that it was done, so a send checks it with
  one round trip instead of declaring ~115 objects every time.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

from schedcli.amqp.frames import longstr_field, publish_frames, shortstr, table
from schedcli.exceptions import BadInput, BrokerUnavailable, PublishersBlocked
from schedcli.amqp.delays import (
    DELAY_LEVELS, DELIVERY_EXCHANGE, MAX_DELAY_SECONDS, delayed_routing_key, level_name, rabbitmq_delay,
)
from schedcli.amqp.routes import Route
from schedcli.settings import BROKER_URL_FORM, Settings, broker_ssl_options, broker_urls, mask_url

TOPOLOGY_VERSION = 1
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp", "librabbitmq")
IN_FLIGHT = 2000  # unconfirmed messages allowed on the wire before waiting for confirms
WRITE_BUFFER_BYTES = 256 * 1024
SECOND_CHANNEL_FROM = 1000  # messages in one publish() from which a second channel is worth its round trips
CONFIRM_TIMEOUT = 30.0  # seconds to wait for RabbitMQ to confirm; a new quorum queue can take seconds


def delayed_destination(delay_seconds: int, route: Route) -> tuple[str, str]:
    """(exchange, routing key) for a job due in `delay_seconds` whole seconds."""
    if delay_seconds < 1 or not route.native_delay:
        return route.exchange, route.routing_key
    level = min(delay_seconds, MAX_DELAY_SECONDS).bit_length() - 1
    return level_name(level), delayed_routing_key(delay_seconds, route.routing_key)


@dataclass
class TaskMessage:
    """One Celery protocol-2 task message, ready to publish."""

    job_id: str
    task: str
    args: list
    kwargs: dict
    eta: float | None = None  # epoch seconds UTC
    expires: float | None = None
    route: Route | None = None
    payload_json: tuple[str, str] | None = None  # args and kwargs as JSON text already (JobRequest.payload_json)

    def headers(self, origin: str) -> dict:
        """The protocol-2 headers Celery's `as_task_v2` writes (used where speed does not matter)."""
        return {
            "lang": "py", "task": self.task, "id": self.job_id, "shadow": None, "eta": _iso(self.eta),
            "expires": _iso(self.expires), "group": None, "group_index": None, "retries": 0,
            "timelimit": [None, None], "root_id": self.job_id, "parent_id": None,
            "argsrepr": self.argsrepr(), "kwargsrepr": self.kwargsrepr(), "origin": origin,
            "ignore_result": False, "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
        }

    def encoded_headers(self, origin: str) -> bytes:
        """`headers()` as an AMQP table, built from pre-encoded constant parts (the bulk send's hot path)."""
        return encode_task_headers(self.task, self.job_id, _iso(self.eta), _iso(self.expires), self.argsrepr(),
                                   self.kwargsrepr(), origin)

    def argsrepr(self) -> str:
        text = repr(self.args)
        return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT - 3] + "..."

    def kwargsrepr(self) -> str:
        text = repr(self.kwargs)
        return text if len(text) <= REPR_LIMIT else text[:REPR_LIMIT - 3] + "..."

    def body(self) -> bytes:
        if self.payload_json is None:
            return json.dumps([self.args, self.kwargs, _EMBED], ensure_ascii=False).encode("utf-8")
        args_json, kwargs_json = self.payload_json
        return f"[{args_json}, {kwargs_json}, {_EMBED_JSON}]".encode("utf-8")  # what json.dumps above writes


_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_EMBED_JSON = json.dumps(_EMBED)


REPR_LIMIT = 1024
_NONE_FIELDS = {name: shortstr(name) + b"V" for name in ("eta", "expires")}
_HEADER_PARTS = [table(part)[4:] for part in (
    {"lang": "py"},
    {"shadow": None},
    {"group": None, "group_index": None, "retries": 0, "timelimit": [None, None]},
    {"parent_id": None},
    {"ignore_result": False, "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {}},
)]


def encode_task_headers(task: str, job_id: str, eta: str | None, expires: str | None, argsrepr: str,
                        kwargsrepr: str, origin: str) -> bytes:
    """The table `TaskMessage.headers()` encodes to, in the same field order, assembled without a generic encoder."""
    lang, shadow, middle, parent, tail = _HEADER_PARTS
    encoded = b"".join((
        lang, longstr_field("task", task), longstr_field("id", job_id), shadow,
        longstr_field("eta", eta) if eta else _NONE_FIELDS["eta"],
        longstr_field("expires", expires) if expires else _NONE_FIELDS["expires"],
        middle, longstr_field("root_id", job_id), parent, longstr_field("argsrepr", argsrepr),
        longstr_field("kwargsrepr", kwargsrepr), longstr_field("origin", origin), tail,
    ))
    return len(encoded).to_bytes(4, "big") + encoded


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


@dataclass
class PublishOutcome:
    """Which jobs RabbitMQ confirmed, and why the others were not sent."""

    confirmed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # set when the connection failed part-way; unlisted jobs were not sent
    # Failed jobs that were on their way when the connection failed: RabbitMQ may hold them all the same.
    unconfirmed: list[str] = field(default_factory=list)


def connection_options(settings: Settings, connect_timeout: float, url: str | None = None) -> dict:
    """py-amqp connection arguments from the broker URL (`url`, else the setting's first node) and TLS settings."""
    url = url or broker_urls(settings.broker_url)[0]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts = port = None
    if parts is not None and parts.scheme not in AMQP_SCHEMES and _is_kombu_transport(parts.scheme):
        raise BadInput(f"the broker {mask_url(url)} uses the {parts.scheme!r} transport; schedcli "
                       "sends jobs over RabbitMQ only: give an amqp:// or amqps:// URL (the app's broker_url, or "
                       "--broker / SCHEDCLI_BROKER_URL)")
    if parts is None or parts.scheme not in AMQP_SCHEMES or not parts.hostname:
        raise BadInput(f"malformed broker URL {mask_url(url)!r}; expected {BROKER_URL_FORM}")
    secure = parts.scheme == "amqps"
    vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
    options = {
        "host": f"{parts.hostname}:{port or (5671 if secure else 5672)}",
        "userid": unquote(parts.username) if parts.username else "guest",
        "password": unquote(parts.password) if parts.password else "guest",
        "virtual_host": vhost or "/",
        "connect_timeout": connect_timeout,
        "read_timeout": connect_timeout,
        "write_timeout": connect_timeout,
    }
    if secure:
        options["ssl"] = {**broker_ssl_options(settings), "server_hostname": parts.hostname}
    return options


def watch_blocking(connection, on_blocked) -> None:
    """Call `on_blocked(reason)` when RabbitMQ blocks the connection's publishers (a memory or disk alarm).

    py-amqp handles `connection.blocked` but reads it without its reason ("low on memory", "low on disk");
    this connection reads the reason too.
    """
    from amqp import spec

    blocked = spec.Connection.Blocked
    connection._METHODS = {**connection._METHODS, blocked: spec.method(blocked, "s")}
    connection.on_blocked = None
    connection._callbacks[blocked] = lambda reason="": on_blocked(reason or "a resource alarm")


def confirm_probe(connection, timeout: float) -> None:
    """Publish one message that no queue receives and wait for RabbitMQ's confirm. Under a memory or disk alarm
    the callback given to `watch_blocking` raises instead; socket.timeout when no confirm came within `timeout`."""
    import uuid

    import amqp

    channel = connection.channel()
    channel.basic_publish_confirm(amqp.Message(b""), exchange="", routing_key=f"schedcli.probe.{uuid.uuid4()}",
                                  confirm_timeout=timeout)
    channel.close()  # not when it raised: a blocked connection reads nothing more, not even a close


def _is_kombu_transport(scheme: str) -> bool:
    from kombu.transport import TRANSPORT_ALIASES  # only on the way to an error: the send path needs no kombu

    return scheme.split("+", 1)[0] in TRANSPORT_ALIASES


class Publisher:
    """A confirmed-publish channel to RabbitMQ. Use as a context manager; closes the connection properly."""

    def __init__(self, settings: Settings, connect_timeout: float = 4.0):
        self.settings = settings
        self.connect_timeout = connect_timeout
        self.connection = None
        self.channel = None
        self._extra_channel = None
        self._next_delivery_tags: dict[int, int] = {}  # by channel id: the tag RabbitMQ gives the next publish
        self._origin = f"schedcli{os.getpid()}@{socket.gethostname()}"
        self._ensured: set[Route] = set()
        self._blocked = False
        self.node = 0  # the number, in the broker setting's failover list, of the node connected to

    def __enter__(self) -> "Publisher":
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _unavailable(self, exc: BaseException) -> BrokerUnavailable:
        return BrokerUnavailable.not_answering(mask_url(self.settings.broker_url), _describe(exc))

    def open(self, first: int = 0) -> None:
        """Connect to the first node of the broker setting that answers (a failover list is tried in order,
        from its node number `first`, round to the ones before it)."""
        import amqp

        urls = broker_urls(self.settings.broker_url)
        options = [connection_options(self.settings, self.connect_timeout, url) for url in urls]  # all read first
        failures = []
        for offset in range(len(urls)):
            number = (first + offset) % len(urls)
            url, node_options = urls[number], options[number]
            try:
                self.connection = amqp.Connection(**node_options)
                watch_blocking(self.connection, self._on_blocked)
                self.connection.connect()
                self._open_channel()
                self.node = number
                return
            except (OSError, amqp.exceptions.AMQPError) as exc:
                self.close()
                failures.append((url, exc))
        if len(failures) == 1:
            raise self._unavailable(failures[0][1]) from None
        raise BrokerUnavailable.not_answering(
            mask_url(self.settings.broker_url),
            "; ".join(f"{mask_url(url)}: {_describe(exc)}" for url, exc in failures)) from None

    def reopen(self) -> None:
        """After the connection was lost: connect again, to the next node of a failover list first (the one
        lost is tried last). BrokerUnavailable when none answers. The topology is the cluster's, declared once."""
        self.close()
        self.open(first=self.node + 1)

    def _on_blocked(self, reason: str) -> None:
        # Raised out of the confirm wait: a blocked connection would otherwise wait out CONFIRM_TIMEOUT.
        self._blocked = True
        raise PublishersBlocked.by(mask_url(self.settings.broker_url), reason)

    def _open_channel(self) -> None:
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self._next_delivery_tags[self.channel.channel_id] = 1

    def close(self) -> None:
        if self.connection is not None:
            try:
                if self._blocked:  # RabbitMQ reads nothing from a blocked connection, not even its close
                    raise ConnectionError("blocked")
                self.connection.close()
            except Exception:  # closing a broken connection: nothing left to save
                self.connection.collect()
            self.connection = None
            self.channel = self._extra_channel = None

    # -- topology -------------------------------------------------------------------------------

    def ensure_topology(self, route: Route) -> None:
        """Make sure the queue and, for native delays, the delay levels exist, as the worker declares them."""
        if route in self._ensured:
            return
        import amqp

        marker = f"schedcli.topology.v{TOPOLOGY_VERSION}.{route.exchange}.{route.queue}"
        try:
            try:
                self.channel.exchange_declare(marker, "fanout", passive=True)
            except amqp.exceptions.NotFound:
                self._open_channel()  # a failed passive declare closes the channel
                self._declare_topology(route)
                self.channel.exchange_declare(marker, "fanout", durable=True, auto_delete=False)
        except amqp.exceptions.PreconditionFailed as exc:
            self._open_channel()
            raise BadInput(
                f"RabbitMQ already has {route.queue!r} or a delay queue declared with other settings ({exc.reply_text}); "
                "run `schedcli doctor` to see what differs"
            ) from None
        except (OSError, amqp.exceptions.AMQPError) as exc:
            raise self._unavailable(exc) from None
        self._ensured.add(route)

    def _declare_topology(self, route: Route) -> None:
        channel = self.channel
        queue_arguments = dict(route.queue_arguments)
        if route.exchange:
            channel.exchange_declare(route.exchange, route.exchange_type, durable=True, auto_delete=False,
                                     nowait=True)
        channel.queue_declare(route.queue, durable=True, auto_delete=False, arguments=queue_arguments or None,
                              nowait=True)
        if route.exchange:
            channel.queue_bind(route.queue, route.exchange, route.routing_key, nowait=True)
        if route.native_delay:
            self._declare_delay_levels(queue_arguments.get("x-queue-type", "quorum"))
            delivery_key = route.routing_key if route.routing_key.startswith("#") else f"#.{route.routing_key}"
            channel.exchange_bind(route.exchange, DELIVERY_EXCHANGE, delivery_key, nowait=True)
            channel.queue_bind(route.queue, route.exchange, delivery_key, nowait=True)
        # One synchronous call flushes the pipelined declarations and surfaces any error they caused.
        channel.queue_declare(route.queue, passive=True)

    def _declare_delay_levels(self, queue_type: str) -> None:
        """Celery's delay levels, with the very arguments kombu's worker-side declaration uses."""
        channel = self.channel
        routing_key = "1.#"
        for level in range(DELAY_LEVELS - 1, -1, -1):
            name = level_name(level)
            channel.exchange_declare(name, "topic", durable=True, auto_delete=False, nowait=True)
            arguments = {
                "x-queue-type": queue_type,
                "x-overflow": "reject-publish",
                "x-message-ttl": pow(2, level) * 1000,
                "x-dead-letter-exchange": level_name(level - 1) if level > 0 else DELIVERY_EXCHANGE,
            }
            if queue_type == "quorum":
                arguments["x-dead-letter-strategy"] = "at-least-once"
            channel.queue_declare(name, durable=True, auto_delete=False, arguments=arguments, nowait=True)
            channel.queue_bind(name, name, routing_key, nowait=True)
            routing_key = "*." + routing_key
        routing_key = "0.#"
        for level in range(DELAY_LEVELS - 1, 0, -1):
            channel.exchange_bind(level_name(level - 1), level_name(level), routing_key, nowait=True)
            routing_key = "*." + routing_key
        channel.exchange_declare(DELIVERY_EXCHANGE, "topic", durable=True, auto_delete=False, nowait=True)
        channel.exchange_bind(DELIVERY_EXCHANGE, level_name(0), routing_key, nowait=True)

    # -- publishing -----------------------------------------------------------------------------

    def _read_confirms(self, wait: bool) -> None:
        """Handle the confirms that arrived; with `wait`, block until at least one frame came."""
        try:
            self.connection.drain_events(timeout=CONFIRM_TIMEOUT if wait else 0)
            while True:
                self.connection.drain_events(timeout=0)
        except (socket.timeout, BlockingIOError):
            pass

    def publish(self, messages: list[TaskMessage], now: float) -> PublishOutcome:
        """Publish every message with confirms in flight; return which were confirmed and which failed.

        A message counts as sent only when RabbitMQ acknowledged it. Messages RabbitMQ returned
        (unroutable) or refused (nack), and any still unconfirmed when the connection fails, are
        reported as failed, never as sent.
        """
        import amqp

        for route in {message.route for message in messages}:
            self.ensure_topology(route)  # may replace the channel, so before anything is bound to it
        outcome = PublishOutcome()
        returned: set[str] = set()
        lanes = []
        try:
            channels = [self.channel]
            if len(messages) >= SECOND_CHANNEL_FROM:
                channels.append(self._second_channel())
            for channel in channels:
                lanes.append(_Lane(channel, self._next_delivery_tags, outcome, returned))
            write = self.connection.transport.write
            frame_max = self.connection.frame_max
            buffered: list[bytes] = []
            buffered_bytes = 0
            for number, message in enumerate(messages):
                lane = lanes[number % len(lanes)]
                delay = 0 if message.eta is None else rabbitmq_delay(message.eta - now)
                exchange, routing_key = delayed_destination(delay, message.route)
                frames = publish_frames(
                    lane.channel.channel_id, frame_max, exchange, routing_key,
                    headers=message.encoded_headers(self._origin), body=message.body(), correlation_id=message.job_id,
                )
                lane.sent(message.job_id)
                buffered.append(frames)
                buffered_bytes += len(frames)
                in_flight = sum(len(lane.pending) for lane in lanes)
                if buffered_bytes > WRITE_BUFFER_BYTES or in_flight > IN_FLIGHT:
                    write(b"".join(buffered))
                    buffered.clear()
                    buffered_bytes = 0
                    self._read_confirms(wait=in_flight > IN_FLIGHT)
            if buffered:
                write(b"".join(buffered))
            while any(lane.pending for lane in lanes):
                self.connection.drain_events(timeout=CONFIRM_TIMEOUT)
        except (OSError, socket.timeout, amqp.exceptions.AMQPError) as exc:
            reason = f"not confirmed: {_describe(exc)}"
            for lane in lanes:
                for job_id in lane.pending.values():
                    outcome.failed[job_id] = reason
                    outcome.unconfirmed.append(job_id)
                lane.pending.clear()
            outcome.error = str(self._unavailable(exc))
            self.close()
        finally:
            for lane in lanes:
                lane.detach()
        return outcome

    def _second_channel(self):
        """Another confirmed channel: RabbitMQ routes each channel's messages in a process of its own,
        so a bulk send over two goes ~1.6x as fast as over one (routing into the delay levels' topic
        exchanges is the cost that limits it)."""
        if self._extra_channel is None:
            self._extra_channel = self.connection.channel()
            self._extra_channel.confirm_select()
            self._next_delivery_tags[self._extra_channel.channel_id] = 1
        return self._extra_channel


class _Lane:
    """One channel's part of a publish: its unconfirmed messages by delivery tag, settled as confirms come."""

    def __init__(self, channel, next_tags: dict[int, int], outcome: PublishOutcome, returned: set[str]):
        self.channel = channel
        self.pending: dict[int, str] = {}
        self._next_tags = next_tags
        self._outcome = outcome
        self._returned = returned
        self._handlers = {"basic_ack": lambda tag, multiple: self._settle(tag, multiple, True),
                          "basic_nack": lambda tag, multiple: self._settle(tag, multiple, False),
                          "basic_return": lambda exc, exchange, routing_key, message:
                              returned.add(message.properties.get("correlation_id"))}
        for event, handler in self._handlers.items():
            channel.events[event].add(handler)

    def sent(self, job_id: str) -> None:
        # RabbitMQ numbers a channel's publishes 1, 2, ... across every publish() call on it.
        tag = self._next_tags[self.channel.channel_id]
        self.pending[tag] = job_id
        self._next_tags[self.channel.channel_id] = tag + 1

    def _settle(self, tag: int, multiple: bool, ok: bool) -> None:
        # Tags are issued in increasing order and `pending` keeps insertion order.
        tags = list(itertools.takewhile(lambda t: t <= tag, self.pending)) if multiple else [tag]
        for settled_tag in tags:
            job_id = self.pending.pop(settled_tag, None)
            if job_id is None:
                continue
            if ok and job_id not in self._returned:
                self._outcome.confirmed.append(job_id)
            else:
                self._outcome.failed[job_id] = "RabbitMQ could not route the message" \
                    if job_id in self._returned else "RabbitMQ refused the message"

    def detach(self) -> None:
        for event, handler in self._handlers.items():
            self.channel.events[event].discard(handler)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.replace("\n", " ")
