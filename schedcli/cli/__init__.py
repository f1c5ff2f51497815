"""The command line: the root command, shared options, Rich rendering. The only layer that imports Click or Rich.

May import every other schedcli package; nothing outside `schedcli.cli` and `schedcli.commands` imports it.
"""

from schedcli.cli.root import COMMANDS, cli, main

__all__ = ["COMMANDS", "cli", "main"]
