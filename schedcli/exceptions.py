"""Failures the core reports; the CLI turns each into a one-line error with its exit code.

The core knows nothing of Click: the root command turns a `SchedcliError` into a `click.ClickException`
(`schedcli.cli.root.CommandError`) at the boundary. Imports nothing of schedcli.
"""

from __future__ import annotations


class SchedcliError(Exception):
    """Base of every expected failure; `exit_code` is what the process exits with."""

    exit_code = 1


class BadInput(SchedcliError):
    """The user asked for something malformed: bad option, time, JSON, task name."""

    exit_code = 2


class TimeExpressionError(BadInput):
    """A time expression that cannot be read, or names a moment that cannot be scheduled."""


class UnknownJob(SchedcliError):
    """No job (or article) with that id or prefix was ever recorded."""

    exit_code = 3


class UnknownSchedule(SchedcliError):
    """No recurring schedule has that name."""

    exit_code = 3


# How to start RabbitMQ, for every message that finds it down.
START_RABBITMQ = "`rabbitmq-server -detached` or `docker run -d -p 5672:5672 rabbitmq:3`"


class BrokerUnavailable(SchedcliError):
    """RabbitMQ does not answer, refuses the login, or refused a message."""

    exit_code = 69  # EX_UNAVAILABLE, as Celery's own CLI uses

    @classmethod
    def not_answering(cls, masked_url: str, reason: str) -> BrokerUnavailable:
        """RabbitMQ at `masked_url` (password already masked) cannot be reached, and how to start it."""
        return cls(f"RabbitMQ at {masked_url} is not available ({reason}); start it with {START_RABBITMQ}")


class PublishersBlocked(BrokerUnavailable):
    """RabbitMQ takes no messages now: a memory or disk alarm blocks every publisher until it clears."""

    @classmethod
    def by(cls, masked_url: str, reason: str, consequence: str = "nothing was sent") -> PublishersBlocked:
        return cls(f"RabbitMQ at {masked_url} is blocking publishers: {reason}; {consequence}. It takes messages "
                   "again once the alarm clears (`schedcli doctor` shows it; free memory or disk on the broker)")


class DatabaseError(SchedcliError):
    """The job store cannot be opened, written, or has a schema this version does not know."""

    exit_code = 74  # EX_IOERR


class ConfigError(SchedcliError):
    """A config file that is not TOML, or names settings schedcli does not have."""

    exit_code = 78  # EX_CONFIG


class ServerDidNotStart(SchedcliError):
    """`schedcli serve` cannot listen on its address (a port in use, one it may not bind), or failed starting."""

    exit_code = 71  # EX_OSERR


class ReportsFolderError(SchedcliError):
    """The reports folder cannot be created or written."""

    exit_code = 73  # EX_CANTCREAT
