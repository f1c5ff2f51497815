"""A real `schedcli serve` process on a free port, for the API and browser tests (tests/integration/test_serve_*)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2

from helpers import free_port


class ServerProcess:
    """`schedcli serve` as a subprocess; `client` talks to it; its log is kept in a file and in `lines`."""

    def __init__(self, log_path: Path, *extra: str, token: str | None = None, env: dict | None = None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "schedcli", "serve", "--port", str(self.port), *extra],
            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx2.Client(base_url=self.base_url, headers=headers, timeout=30)

    def _read(self) -> None:
        with open(self.log_path, "a") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line)

    def wait_ready(self, timeout: float = 30) -> "ServerProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._reader.join(5)
                raise AssertionError(f"schedcli serve exited {self.process.returncode}:\n{self.log}")
            try:
                httpx2.get(f"{self.base_url}/static/dashboard.css", timeout=1)
                return self
            except httpx2.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"schedcli serve did not answer within {timeout}s:\n{self.log}")

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
        self._reader.join(5)
