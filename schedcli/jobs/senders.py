"""Who sends a job, and whether the sender of a job still SENDING is gone.

A sender killed without running any code of its own (SIGKILL, the OOM killer, a power cut) leaves
the jobs it was sending in SENDING: some reached RabbitMQ, some never left. Each SENDING job records
its sender (host, pid and the process's start time, so a reused pid is not taken for it) and a lease.
The sender is gone when that process no longer runs on this host, or, wherever it ran, once the lease
has passed: a batch is SENDING only while RabbitMQ confirms it, which takes seconds, never minutes.
"""

from __future__ import annotations

import os
import socket

SENDING_LEASE = 300.0  # seconds; far above the confirm timeout, which bounds how long a batch is SENDING


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux); empty where /proc does not say."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def this_sender() -> str:
    """This process as a sender: `host pid start`."""
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {_start_time(pid)}".rstrip()


def sender_is_gone(job, now: float) -> bool:
    """Whether nobody is sending `job` (a SENDING job) any more."""
    if job.lease_until is not None and job.lease_until < now:
        return True
    if job.sender is None:  # recorded before senders were: only its age tells
        return job.lease_until is None and job.created_at + SENDING_LEASE < now
    host, _, rest = job.sender.partition(" ")
    pid_text, _, started = rest.partition(" ")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    return bool(started) and _start_time(pid) not in ("", started)
