"""Issue 16's figure: `POST /api/jobs` on `schedcli serve` with 50 concurrent clients, throughput and p50/p99
latency, against a FastAPI endpoint calling Celery's `apply_async` with `countdown` (bench/serve_baseline.py),
also on uvicorn, in the same run.

    python -m bench.serve_bench [--seconds 5] [--clients 50]

Each server runs in a process of its own with one uvicorn worker and no access log; the clients
(keep-alive HTTP/1.1 on raw asyncio streams, lighter than any HTTP library) run in another. Runs
alternate schedcli, baseline, schedcli, baseline and the better of each is kept (the machine is
shared). At the end RabbitMQ's delay queues must hold every job schedcli said it sent.
Targets: at least 3x the baseline's throughput, p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Bench, Row, Target, delayed_count, vhost, wait_for_idle_broker, wait_until

CLIENTS = 50
THROUGHPUT_RATIO = 3.0
P99_LIMIT_MS = 50.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _client(host: str, port: int, path: str, body: bytes, until: float, latencies: list, errors: list):
    reader, writer = await asyncio.open_connection(host, port)
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if status_line.split()[1] not in (b"200", b"201"):
                errors.append(status_line.decode().strip())
                continue
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def load(port: int, path: str, body: dict, seconds: float, clients: int) -> dict:
    """Run `clients` keep-alive clients for `seconds`; throughput (requests/s) and p50/p99 latency (ms)."""
    latencies: list[float] = []
    errors: list[str] = []
    payload = json.dumps(body).encode()

    async def main():
        warm_until = time.perf_counter() + 0.5
        await asyncio.gather(*(_client("127.0.0.1", port, path, payload, warm_until, [], errors)
                               for _ in range(clients)))
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(_client("127.0.0.1", port, path, payload, until, latencies, errors)
                               for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    latencies.sort()
    if not latencies:
        raise RuntimeError(f"no request succeeded on port {port}: {errors[:3]}")

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"throughput": len(latencies) / elapsed, "p50": percentile(0.50), "p99": percentile(0.99),
            "requests": len(latencies), "errors": len(errors), "first_error": errors[0] if errors else None}


class Server:
    """A uvicorn server process; `ready` waits until it accepts connections."""

    def __init__(self, command: list[str], env: dict, cwd: Path):
        self.port = _free_port()
        self.process = subprocess.Popen([part.replace("{port}", str(self.port)) for part in command], env=env,
                                        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        import socket

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited: {self.process.stderr.read()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{command[:4]} did not listen within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run(bench: Bench, seconds: float | None = None, clients: int = CLIENTS) -> list[Row]:
    seconds = seconds or bench.size(5.0, 2.0)
    with vhost("serve") as broker_url:
        env = bench.environment(broker_url, bench.store_url("serve"))
        schedcli_cmd = [sys.executable, "-m", "schedcli", "serve", "--port", "{port}", "--no-access-log"]
        baseline_cmd = [sys.executable, "-m", "uvicorn", "bench.serve_baseline:app", "--port", "{port}",
                        "--no-access-log", "--log-level", "warning"]
        # Both publish a job due in an hour, none run while the figure runs: schedcli into the delay levels, the
        # baseline into Celery's default classic queue `celery`, its ETA in a header, both in this vhost.
        sides = {"schedcli": (schedcli_cmd, "/api/jobs", {"task": "schedcli.tasks.echo", "args": [42], "in": "1h"}),
                 "celery": (baseline_cmd, "/jobs", {"args": [42], "countdown": 3600})}
        best: dict[str, dict] = {}
        sent = 0
        for _ in range(2):
            for name, (command, path, body) in sides.items():
                wait_for_idle_broker()
                server = Server(command, env, bench.scratch)
                try:
                    figures = load(server.port, path, body, seconds, clients)
                finally:
                    server.stop()
                bench.log(f"  {name}: {figures['throughput']:,.0f} req/s, p50 {figures['p50']:.1f} ms, "
                          f"p99 {figures['p99']:.1f} ms ({figures['errors']} errors)")
                if name == "schedcli":
                    sent += figures["requests"]
                if name not in best or figures["throughput"] > best[name]["throughput"]:
                    best[name] = figures
        # schedcli answered 201 only for jobs RabbitMQ confirmed: the delay levels hold at least those (and the
        # warm-up's).
        wait_until(lambda: delayed_count(broker_url) >= sent, 60, f"at least {sent:,} jobs in the delay queues")
    ours, theirs = best["schedcli"], best["celery"]
    label = f"11 POST /api/jobs, {clients} clients"
    note = "apply_async(countdown=3600) on uvicorn, Celery's defaults but the broker (no confirms)"
    return [
        Row(f"{label}: throughput", ours["throughput"], theirs["throughput"], "req/s",
            Target(THROUGHPUT_RATIO, at_least=True, on_ratio=True), "FastAPI + apply_async", note=note),
        Row(f"{label}: p50 latency", ours["p50"], theirs["p50"], "ms", None, "FastAPI + apply_async"),
        Row(f"{label}: p99 latency", ours["p99"], theirs["p99"], "ms", Target(P99_LIMIT_MS), "FastAPI + apply_async"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load per run, after 0.5 s of warm-up")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args(argv)
    from bench.suite import format_table

    with tempfile.TemporaryDirectory(prefix="schedcli-serve-bench-") as scratch:
        rows = run(Bench(quick=False, scratch=Path(scratch)), args.seconds, args.clients)
    print(format_table(rows))
    return 0 if all(row.met is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
