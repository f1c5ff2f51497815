"""How the server's requests are sent: through its sending process (schedcli.web.sending_process).

The server keeps one sending process, started with the server and started again if it ends: it
keeps the confirmed RabbitMQ connections and the store open and sends what it is given in
batches. The event loop hands it every request that arrived in one turn of the loop as one
frame, and settles the requests' futures as the answers come back; so the server's own process
does nothing but HTTP and never waits for the GIL behind a thread that sends.
"""

from __future__ import annotations

import asyncio
import itertools
import pickle
import socket
import subprocess
import sys
import threading

from schedcli.exceptions import BrokerUnavailable
from schedcli.jobs.requests import JobRequest
from schedcli.jobs.sending import Dispatched, Dispatchers
from schedcli.settings import Settings
from schedcli.web.sending_process import FRAME_HEADER, encode_frame

STOP_TIMEOUT = 10.0  # seconds the sending process has to finish its batches when the server stops


class SharedPublisher:
    """Sends job requests through the sending process; `submit` returns a future of `Dispatched`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.confirmed = 0  # jobs RabbitMQ confirmed (new ones; a held key is not a send)
        self.failed = 0  # jobs not sent: refused, unconfirmed, or RabbitMQ down
        self._dispatchers = Dispatchers(settings)
        self._routes_lock = threading.Lock()
        self._numbers = itertools.count()
        self._unsent: list[tuple[int, JobRequest, str | None]] = []  # for the next frame
        self._unanswered: dict[int, tuple[JobRequest, asyncio.Future]] = {}
        self._sender: _SendingProcess | None = None
        self._starting: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        self._sender = await _SendingProcess.start(self.settings, self._answered, self._ended)

    async def stop(self) -> None:
        self._stopping = True
        if self._starting is not None:
            await self._starting
        if self._sender is not None:
            await self._sender.stop()

    def check_task(self, task: str, queue_name: str | None = None) -> None:
        """BadInput (with the closest names) unless the app has `task`: checked before the request joins a batch,
        so one bad task name fails its own request only."""
        dispatcher = self._dispatchers.for_queue(queue_name)
        with self._routes_lock:  # loading a user's app, once, must not run twice at the same time
            dispatcher.route(task)

    def submit(self, request: JobRequest, queue_name: str | None = None) -> asyncio.Future:
        """From the event loop: queue `request` for the next frame; the future gives its `Dispatched`, or raises
        BrokerUnavailable."""
        future = asyncio.get_running_loop().create_future()
        number = next(self._numbers)
        self._unanswered[number] = (request, future)
        if not self._unsent:
            asyncio.get_running_loop().call_soon(self._flush)
        self._unsent.append((number, request, queue_name))
        return future

    def _flush(self) -> None:
        if not self._unsent:
            return
        if self._sender is None:
            if self._stopping:
                self._fail([number for number, _, _ in self._unsent], "the server is stopping")
                self._unsent = []
            elif self._starting is None:
                self._starting = asyncio.get_running_loop().create_task(self._restart())
            return
        # A client that went away meanwhile cancelled its future: its request is not sent.
        unsent = [item for item in self._unsent if not self._unanswered[item[0]][1].cancelled()]
        self._unsent = []
        if unsent:
            self._sender.send(unsent)

    async def _restart(self) -> None:
        try:
            self._sender = await _SendingProcess.start(self.settings, self._answered, self._ended)
        except OSError as exc:
            self._fail([number for number, _, _ in self._unsent], f"cannot start the sending process ({exc})")
            self._unsent = []
        finally:
            self._starting = None
        self._flush()

    def _answered(self, answers: list) -> None:
        for number, job, existing, error in answers:
            request, future = self._unanswered.pop(number)
            if error is None:
                self.confirmed += 0 if existing else 1
            else:
                self.failed += 1
            if future.cancelled():
                continue
            if error is None:
                future.set_result(Dispatched.of_job(request, job, existing))
            else:
                future.set_exception(error)

    def _ended(self, sender: _SendingProcess, why: str) -> None:
        """The sending process ended: what it had not answered fails (it may have been sent, as when a connection
        drops before RabbitMQ confirmed), and the next request starts another."""
        if self._sender is sender:
            self._sender = None
        unsent = {number for number, _, _ in self._unsent}
        self._fail([number for number in self._unanswered if number not in unsent], why)
        if self._unsent:
            self._flush()

    def _fail(self, numbers: list[int], why: str) -> None:
        for number in numbers:
            _, future = self._unanswered.pop(number)
            self.failed += 1
            if not future.cancelled():
                future.set_exception(BrokerUnavailable(f"job not confirmed: {why}"))


class _SendingProcess:
    """One run of `python -m schedcli.web.sending_process`, and the loop's two ends of its socket."""

    def __init__(self, process: subprocess.Popen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.process = process
        self.reader = reader
        self.writer = writer
        self.reading: asyncio.Task | None = None

    @classmethod
    async def start(cls, settings: Settings, answered, ended) -> _SendingProcess:
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen([sys.executable, "-m", "schedcli.web.sending_process", str(theirs.fileno())],
                                       pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        sender = cls(process, reader, writer)
        writer.write(encode_frame(settings))
        sender.reading = asyncio.get_running_loop().create_task(sender._read(answered, ended))
        return sender

    def send(self, items: list) -> None:
        self.writer.write(encode_frame(items))

    async def _read(self, answered, ended) -> None:
        try:
            while True:
                (length,) = FRAME_HEADER.unpack(await self.reader.readexactly(FRAME_HEADER.size))
                answered(pickle.loads(await self.reader.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        self.writer.close()
        code = await asyncio.get_running_loop().run_in_executor(None, self.process.wait)
        ended(self, f"schedcli serve's sending process ended (exit code {code})")

    async def stop(self) -> None:
        """Close our end for writing: the process sends what it was given, answers, and ends."""
        if self.writer.can_write_eof() and not self.writer.is_closing():
            self.writer.write_eof()
        try:
            await asyncio.wait_for(asyncio.shield(self.reading), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.reading

