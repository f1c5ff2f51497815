"""Rich views for the terminal; plain text when stdout is not a terminal or NO_COLOR is set.

Job data is untrusted: it is always passed to Rich as `Text`, never parsed as markup, and
terminal control characters in it are made visible.
"""

from __future__ import annotations

import json
import re

from rich.console import Console
from rich.table import Table
from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def console(stderr: bool = False) -> Console:
    """One console per stream; markup off so nothing from job data is interpreted."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=False)


def visible(value: str) -> str:
    """Make control characters visible: ESC becomes `\\x1b`, so data cannot drive the terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), value)


def safe_text(value, style: str = "") -> Text:
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return Text(visible(value), style=style)


def render_workers(workers: list[dict]) -> None:
    out = console()
    if not workers:
        console(stderr=True).print("No worker answered. Start one with: schedcli worker start")
        return
    table = Table("worker", "concurrency", "running")
    for worker in workers:
        table.add_row(safe_text(worker["hostname"]), str(worker["concurrency"]), str(worker["active"]))
    out.print(table)


def render_settings(rows: list[tuple[str, str | None, str]]) -> None:
    table = Table("setting", "value", "from")
    for name, value, source in rows:
        table.add_row(name, safe_text("" if value is None else value), safe_text(source))
    console().print(table)
