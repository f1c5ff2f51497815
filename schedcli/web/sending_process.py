"""The sending process of `schedcli serve`: it records and publishes what the server's requests ask for.

    python -m schedcli.web.sending_process FD

The server starts it (schedcli.web.publishing) with one end of a socket pair as FD, sends the
settings first, then batches of `(number, JobRequest, queue)`, and reads back batches of
`(number, Job | None, existing, error)`. It is a process of its own because sending in threads of
the server's process made them and the event loop take turns at the GIL: a batch of sends waited
longer for the GIL than for the store and RabbitMQ together, and every request waited with it.

Requests that arrive together are sent together: a lane takes every request waiting when it is
free and hands them to `Dispatcher.send` as one batch, so 50 concurrent clients cost one store
transaction and one round of confirms, not 50. There are `LANES` lanes, each a thread with a
connection of its own, so that while one waits for RabbitMQ's confirms (a quorum queue confirms
once its write is on disk) the next batch is already being recorded and published on another.
Each lane's connection and store are opened once and checked before each batch; one that broke
(RabbitMQ restarted, the store failed) is opened again, so only a batch that was on the wire when
it broke fails, each of its requests with 503. The process ends when the server closes its end.
"""

from __future__ import annotations

import pickle
import queue
import socket
import struct
import sys
import threading
from typing import BinaryIO

from schedcli.amqp.publisher import Publisher
from schedcli.exceptions import BrokerUnavailable, DatabaseError
from schedcli.jobs.sending import Dispatchers
from schedcli.settings import Settings
from schedcli.store import JobStore
from schedcli.runtime import tune_garbage_collector

LANES = 2  # sending threads, each with its own connection: one publishes while another waits for its confirms
MAX_BATCH = 1000  # requests sent in one Dispatcher.send
FRAME_HEADER = struct.Struct(">I")  # a frame is its length, then a pickle


def encode_frame(value) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME_HEADER.pack(len(payload)) + payload


def read_frame(stream: BinaryIO):
    """The next frame's value; None at the end of the stream."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return pickle.loads(payload)


class Lanes:
    """The sending threads and the queue of requests they take from."""

    def __init__(self, settings: Settings, answers: socket.socket, lanes: int = LANES):
        self.settings = settings
        self.waiting: queue.SimpleQueue = queue.SimpleQueue()
        self.store_lock = threading.Lock()  # the lanes write to one store: they take turns here, not in SQLite
        self._answers = answers
        self._answers_lock = threading.Lock()
        self.dispatchers = Dispatchers(settings)
        self._threads = [threading.Thread(target=self._run, name=f"schedcli-lane-{number}")
                         for number in range(lanes)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Let each lane finish what it took, then end it."""
        for _ in self._threads:
            self.waiting.put(None)  # each lane stops at the first None it takes
        for thread in self._threads:
            thread.join()

    def answer(self, answers: list) -> None:
        with self._answers_lock:
            try:
                self._answers.sendall(encode_frame(answers))
            except OSError:  # the server is gone: nobody is left to tell
                pass

    def _run(self) -> None:
        lane = _Lane(self)
        try:
            while True:
                first = self.waiting.get()
                if first is None:
                    break
                batch = [first]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        item = self.waiting.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                by_queue: dict[str | None, list] = {}
                for item in batch:
                    by_queue.setdefault(item[2], []).append(item)
                for queue_name, items in by_queue.items():
                    self.answer(lane.send(queue_name, items))
                if stop:
                    break
        finally:
            lane.close()


class _Lane:
    """One sending thread's connection and store: opened when first needed, opened again after they broke."""

    def __init__(self, lanes: Lanes):
        self.lanes = lanes
        self.publisher: Publisher | None = None
        self.store: JobStore | None = None  # opened on this lane's thread: SQLite connections belong to one

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
            publisher = Publisher(self.lanes.dispatchers.for_queue(None).broker_settings())
            publisher.open()  # BrokerUnavailable when RabbitMQ does not answer
            self.publisher = publisher
        return self.publisher

    def open_store(self) -> JobStore:
        if self.store is None:
            self.store = JobStore.open(self.lanes.settings.database_url)
        return self.store

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        if self.store is not None:
            self.store.close()

    def send(self, queue_name: str | None, items: list) -> list:
        """Send `items`; one answer `(number, job, existing, error)` for each."""
        try:
            results = self.lanes.dispatchers.for_queue(queue_name).send(
                [request for _, request, _ in items], publisher=self.connected(), store=self.open_store(),
                store_lock=self.lanes.store_lock)
        except Exception as exc:  # SchedcliError (RabbitMQ down, the store) or unexpected: each request reports it
            if isinstance(exc, DatabaseError) and self.store is not None:
                self.store.close()  # the next batch opens it again, as a send of the CLI would
                self.store = None
            return [(number, None, False, exc) for number, _, _ in items]
        return [(number, None, False, BrokerUnavailable(f"job not sent: {result.error}")) if result.error
                else (number, result.job, result.existing, None)
                for (number, _, _), result in zip(items, results)]


def main(fd: int) -> None:
    connection = socket.socket(fileno=fd)
    requests = connection.makefile("rb")
    settings = read_frame(requests)
    tune_garbage_collector()
    lanes = Lanes(settings, connection)
    lanes.start()
    try:
        while (batch := read_frame(requests)) is not None:
            for item in batch:
                lanes.waiting.put(item)
    finally:
        lanes.stop()
        connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
