"""Failures the core reports; the CLI turns each into a one-line error with its exit code.

The core knows nothing of Click: commands catch `ScheduleError` at the boundary (see `cli.py`).
"""


class ScheduleError(Exception):
    """Base of every expected failure; `exit_code` is what the process exits with."""

    exit_code = 1


class BadInput(ScheduleError):
    """The user asked for something malformed: bad option, time, JSON, task name."""

    exit_code = 2


class TimeExpressionError(BadInput):
    """A time expression that cannot be read, or names a moment that cannot be scheduled."""


class UnknownJob(ScheduleError):
    """No job (or article) with that id or prefix was ever recorded."""

    exit_code = 3


class BrokerUnavailable(ScheduleError):
    """RabbitMQ does not answer, refuses the login, or refused a message."""

    exit_code = 69  # EX_UNAVAILABLE, as Celery's own CLI uses


class DatabaseError(ScheduleError):
    """The job store cannot be opened, written, or has a schema this version does not know."""

    exit_code = 74  # EX_IOERR


class ConfigError(ScheduleError):
    """A config file that is not TOML, or names settings schedcli does not have."""

    exit_code = 78  # EX_CONFIG


class ReportsFolderError(ScheduleError):
    """The reports folder cannot be created or written."""

    exit_code = 73  # EX_CANTCREAT
