"""The server's confirmed publisher connections, kept open, and the threads that send on them.

Requests that arrive together are sent together: a sending thread takes every request waiting
when it is free and hands them to `Dispatcher.send` as one batch, so 50 concurrent clients cost one
store transaction and one round of confirms, not 50. There are `LANES` such threads, each with a
connection of its own, so that while one waits for RabbitMQ's confirms (a quorum queue confirms
once its write is on disk, a few milliseconds) the next batch is already being recorded and
published on another: a request waits for about one batch, not for the one before it too. Each
connection is opened once and checked before each batch; one that broke (RabbitMQ restarted) is
opened again, so only a batch that was on the wire when it broke fails, each of its requests with 503.
"""

from __future__ import annotations

import queue
import socket
import threading
from concurrent.futures import Future

from schedcli.amqp.publisher import Publisher
from schedcli.exceptions import BrokerUnavailable
from schedcli.jobs.requests import JobRequest
from schedcli.jobs.sending import Dispatched, Dispatcher
from schedcli.settings import Settings

MAX_BATCH = 1000  # requests sent in one Dispatcher.send
LANES = 2  # sending threads, each with its own connection: one publishes while another waits for its confirms


class SharedPublisher:
    """Sends job requests over one long-lived confirmed connection; `submit` returns a Future of `Dispatched`."""

    def __init__(self, settings: Settings, lanes: int = LANES):
        self.settings = settings
        self.confirmed = 0  # jobs RabbitMQ confirmed (new ones; a held key is not a send)
        self.failed = 0  # jobs not sent: refused, unconfirmed, or RabbitMQ down
        self._counts_lock = threading.Lock()
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._dispatchers: dict[str | None, Dispatcher] = {}
        self._routes_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, name=f"schedcli-publisher-{number}", daemon=True)
                         for number in range(lanes)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._waiting.put(None)  # each lane stops at the first None it takes
        for thread in self._threads:
            thread.join(10)

    def dispatcher(self, queue_name: str | None) -> Dispatcher:
        with self._routes_lock:
            if queue_name not in self._dispatchers:
                self._dispatchers[queue_name] = Dispatcher(self.settings, queue=queue_name)
            return self._dispatchers[queue_name]

    def check_task(self, task: str, queue_name: str | None = None) -> None:
        """BadInput (with the closest names) unless the app has `task`: checked before the request joins a batch,
        so one bad task name fails its own request only."""
        dispatcher = self.dispatcher(queue_name)
        with self._routes_lock:  # loading a user's app, once, must not run twice at the same time
            dispatcher.route(task)

    def submit(self, request: JobRequest, queue_name: str | None = None) -> Future:
        """Queue `request` for the next batch; the Future gives its `Dispatched`, or raises BrokerUnavailable."""
        future: Future = Future()
        self._waiting.put((request, queue_name, future))
        return future

    def send(self, request: JobRequest, queue_name: str | None = None, timeout: float = 60.0) -> Dispatched:
        """`submit` and wait (for threads that are not the event loop's)."""
        return self.submit(request, queue_name).result(timeout)

    def _run(self) -> None:
        lane = _Lane(self)
        while True:
            first = self._waiting.get()
            if first is None:
                break
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            by_queue: dict[str | None, list] = {}
            for item in batch:
                by_queue.setdefault(item[1], []).append(item)
            for queue_name, items in by_queue.items():
                lane.send(queue_name, items)
            if stop:
                break
        lane.close()

    def _count(self, confirmed: int, failed: int) -> None:
        with self._counts_lock:
            self.confirmed += confirmed
            self.failed += failed


class _Lane:
    """One sending thread's connection: opened when first needed, checked before each batch, opened again when
    RabbitMQ closed it."""

    def __init__(self, shared: SharedPublisher):
        self.shared = shared
        self.publisher: Publisher | None = None

    def connected(self) -> Publisher:
        """The open publisher; a new one when there is none or RabbitMQ closed it while we were idle."""
        if self.publisher is not None and self.publisher.connection is not None:
            try:
                self.publisher.connection.drain_events(timeout=0)
            except (socket.timeout, BlockingIOError):
                pass  # nothing to read: the connection is alive
            except Exception:  # closed by RabbitMQ (a restart, a forced close): open another
                self.publisher.close()
        if self.publisher is None or self.publisher.connection is None:
            publisher = Publisher(self.shared.dispatcher(None).broker_settings())
            publisher.open()  # BrokerUnavailable when RabbitMQ does not answer
            self.publisher = publisher
        return self.publisher

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()

    def send(self, queue_name: str | None, items: list) -> None:
        futures = [future for _, _, future in items if future.set_running_or_notify_cancel()]
        items = [item for item in items if item[2] in futures]
        if not items:
            return
        try:
            publisher = self.connected()
            results = self.shared.dispatcher(queue_name).send([request for request, _, _ in items],
                                                              publisher=publisher)
        except Exception as exc:  # SchedcliError (RabbitMQ down, the store) or unexpected: each request reports it
            self.shared._count(0, len(items))
            for _, _, future in items:
                future.set_exception(exc)
            return
        confirmed = failed = 0
        for result, (_, _, future) in zip(results, items):
            if result.error:
                failed += 1
                future.set_exception(BrokerUnavailable(f"job not sent: {result.error}"))
            else:
                confirmed += 0 if result.existing else 1
                future.set_result(result)
        self.shared._count(confirmed, failed)
