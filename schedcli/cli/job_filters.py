"""`--state` and `--since`, shared by the commands that select jobs (`list`, `retry`)."""

from __future__ import annotations

import click


def states_option(ctx, param, values):
    """--state values in upper case; an unknown one is a usage error naming the valid states."""
    from schedcli.store import STATES

    states = [value.upper() for value in values]
    for state in states:
        if state not in STATES:
            raise click.BadParameter(f"unknown state {state!r}; valid states: {', '.join(STATES)}")
    return states


def since_option(ctx, param, value):
    """--since SPAN as the epoch it names (SPAN ago); a span that cannot be read is a usage error."""
    if value is None:
        return None
    import time

    from schedcli.exceptions import BadInput
    from schedcli.timeparse import parse_period

    try:
        return time.time() - parse_period(value)
    except BadInput as exc:
        raise click.BadParameter(str(exc)) from None
