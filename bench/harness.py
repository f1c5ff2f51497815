"""What the figures share: result rows, interleaved timed runs, a private vhost and store, worker processes.

The machine is noisy (2 cores, other test suites running), so every figure compares medians of
repeated runs, and schedcli's runs alternate with the baseline's in the same loop.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's console scripts: schedcli, celery
BROKER = os.environ.get("SCHEDCLI_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


@dataclass(frozen=True)
class Target:
    """A figure's goal: its value (or its ratio to the baseline) at most / at least `limit`."""

    limit: float
    at_least: bool = False
    on_ratio: bool = False

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        measured = ratio if self.on_ratio else value
        if measured is None:
            return None
        return measured >= self.limit if self.at_least else measured <= self.limit

    def describe(self, unit: str) -> str:
        sign = ">=" if self.at_least else "<="
        return f"ratio {sign} {self.limit:g}" if self.on_ratio else f"{sign} {self.limit:,g} {unit}".rstrip()


@dataclass
class Row:
    """One line of the table: schedcli's figure beside its baseline from the same run."""

    figure: str
    schedcli: float | None
    baseline: float | None
    unit: str
    target: Target | None = None
    baseline_name: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.schedcli is None or not self.baseline:
            return None
        return self.schedcli / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.schedcli, self.ratio)

    def to_json(self) -> dict:
        return {"figure": self.figure, "schedcli": self.schedcli, "baseline": self.baseline, "unit": self.unit,
                "baseline_name": self.baseline_name, "ratio": self.ratio,
                "target": self.target.describe(self.unit) if self.target else None, "met": self.met,
                "note": self.note}


class Bench:
    """One benchmark run: its size (quick or full), a scratch folder, and the environment schedcli runs in."""

    def __init__(self, quick: bool, scratch: Path, log=None):
        self.quick = quick
        self.scratch = scratch
        self._log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        home = scratch / "home"
        # Nothing of the user's own schedcli setup (config file, store, zone) leaks into the figures. Bytecode
        # caching stays on, as for an installed package: the warm-up round writes what a start-up reads.
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith("SCHEDCLI_") and name != "PYTHONDONTWRITEBYTECODE"}
        self.env.update({
            "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"), "SCHEDCLI_TZ": "UTC",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "NO_COLOR": "1",
        })

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def log(self, text: str) -> None:
        self._log(text)

    def path(self, name: str) -> Path:
        return self.scratch / f"{name}-{uuid.uuid4().hex[:6]}"

    def store_url(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}.db"

    def environment(self, broker_url: str | None = None, database_url: str | None = None, **extra: str) -> dict:
        env = dict(self.env, **extra)
        if broker_url:
            env["SCHEDCLI_BROKER_URL"] = broker_url
        if database_url:
            env["SCHEDCLI_DATABASE_URL"] = database_url
        return env

    def run(self, command: list[str], env: dict | None = None, stdin=None, stdout=subprocess.DEVNULL) -> float:
        """Run `command` to its end; the wall-clock seconds it took. A failure stops the figure."""
        started = time.perf_counter()
        result = subprocess.run(command, env=env or self.env, cwd=self.scratch, stdin=stdin, stdout=stdout,
                                stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            last_line = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {last_line}")
        return elapsed

    def median_times(self, commands: dict[str, list[str]], repeats: int, env: dict | None = None) -> dict[str, float]:
        """Median wall-clock seconds of each command, run in turn `repeats` times after one warm-up round."""
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_number in range(repeats + 1):
            for name, command in commands.items():
                elapsed = self.run(command, env)
                if round_number:  # the first round only warms the page cache
                    times[name].append(elapsed)
        return {name: statistics.median(values) for name, values in times.items()}


def schedcli(*args: str) -> list[str]:
    return [str(BIN / "schedcli"), *args]


def celery(*args: str) -> list[str]:
    return [str(BIN / "celery"), *args]


def rabbitmqctl(*args: str) -> str:
    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError("rabbitmqctl is not on PATH; the figures that cross the broker create a vhost each")
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout


@contextmanager
def vhost(name: str):
    """A RabbitMQ virtual host of this figure's own; yields its URL and deletes it (and its queues) after."""
    host = f"schedcli-bench-{name}-{uuid.uuid4().hex[:6]}"
    try:
        rabbitmqctl("add_vhost", host)
    except subprocess.CalledProcessError:  # RabbitMQ restarting (other test suites share it): wait once
        rabbitmqctl("await_startup")
        rabbitmqctl("add_vhost", host)
    try:
        rabbitmqctl("set_permissions", "-p", host, "guest", ".*", ".*", ".*")
        parts = urlsplit(BROKER)
        yield f"{parts.scheme}://{parts.netloc}/{host}"
    finally:
        if subprocess.run(["rabbitmqctl", "-q", "delete_vhost", host], capture_output=True, timeout=120).returncode:
            rabbitmqctl("await_startup")
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", host], capture_output=True, timeout=120)


def vhost_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def queue_counts(broker_url: str) -> dict[str, tuple[int, int]]:
    """{queue: (ready, unacknowledged)} as RabbitMQ reports them."""
    out = rabbitmqctl("list_queues", "-p", vhost_of(broker_url), "name", "messages_ready", "messages_unacknowledged")
    counts = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            counts[parts[0]] = (int(parts[1]), int(parts[2]))
    return counts


def delayed_count(broker_url: str) -> int:
    """Messages waiting in Celery's delay levels."""
    return sum(ready + unacked for name, (ready, unacked) in queue_counts(broker_url).items()
               if name.startswith("celery_delayed_"))


def wait_until(condition, timeout: float, what: str, interval: float = 0.2):
    """Poll `condition()` until it returns something true; that value. RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def broker_processes() -> list[int]:
    """The pids of the RabbitMQ nodes (beam.smp) on this machine; not of a `rabbitmqctl` (an Erlang VM too)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
            if any(word.endswith(b"beam.smp") for word in words) and b"boot" in words and b"rabbit" in words:
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_idle_broker(timeout: float = 60, busy_below: float = 0.05, window: float = 0.5) -> None:
    """Wait until RabbitMQ uses less than `busy_below` of a core over `window` seconds (or `timeout` passed).

    A deleted vhost's quorum queues are cleaned up in the background for seconds after `delete_vhost`
    returned; a sender timed meanwhile shared the machine's cores with that clean-up (a bulk send
    measured 26.8 s, then 18.6 s with the broker idle)."""
    deadline = time.monotonic() + timeout
    pids = broker_processes()
    while pids and time.monotonic() < deadline:
        try:
            before = sum(cpu_seconds(pid) for pid in pids)
            time.sleep(window)
            if sum(cpu_seconds(pid) for pid in pids) - before < busy_below * window:
                return
        except (FileNotFoundError, ProcessLookupError):
            pids = broker_processes()


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants (VmRSS), in MB."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


class Worker:
    """A worker subprocess (schedcli's or plain Celery's) with its log in a file."""

    def __init__(self, bench: Bench, command: list[str], env: dict, name: str):
        self.log_path = bench.path(f"{name}-worker").with_suffix(".log")
        self._log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(command, env=env, cwd=bench.scratch, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log[-3000:]}")
            return " ready." in self.log

        wait_until(ready, timeout, "the worker to be ready", interval=0.1)

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self, timeout: float = 60) -> None:
        """A warm shutdown (SIGTERM); SIGKILL to the whole group if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)
        self._log_file.close()


@contextmanager
def worker(bench: Bench, command: list[str], env: dict, name: str):
    """A started worker, ready to take jobs; stopped after."""
    process = Worker(bench, command, env, name)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def schedcli_worker(bench: Bench, env: dict, concurrency: int = 2):
    return worker(bench, schedcli("worker", "start", "--concurrency", str(concurrency), "--loglevel", "info",
                                  "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h"), env, "schedcli")


def scratch_folder():
    return tempfile.TemporaryDirectory(prefix="schedcli-bench-")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: a value some job really had."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]
