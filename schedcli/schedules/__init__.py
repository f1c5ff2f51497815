"""Recurring schedules: the `--every` expressions, their occurrences (DST rules), editing, and the top-up.

May import exceptions, settings, timeparse, store, amqp and jobs; nothing below it imports it (the worker's
top-up step is installed by `schedcli worker start`, a command). Never Click or Rich.
"""
