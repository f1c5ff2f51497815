"""The object every command receives as `ctx.obj`: the global flags and, on demand, the settings."""

from __future__ import annotations

import click


class Application:
    """What every command receives as `ctx.obj`: the flags given and, on demand, the settings."""

    def __init__(self, flags: dict[str, str | None]):
        self.flags = flags
        self._settings = None

    @property
    def settings(self):
        if self._settings is None:
            from schedcli.settings import UNKNOWN_ZONE_SOURCE, resolve_settings

            self._settings = resolve_settings(self.flags)
            if self._settings.sources.get("timezone") == UNKNOWN_ZONE_SOURCE:
                click.echo("note: the system's time zone is unknown, so times are read and shown in UTC; "
                           "set --tz or SCHEDCLI_TZ", err=True)
        return self._settings
