"""The object every command receives as `ctx.obj`: the global flags and, on demand, the settings."""

from __future__ import annotations


class Application:
    """What every command receives as `ctx.obj`: the flags given and, on demand, the settings."""

    def __init__(self, flags: dict[str, str | None]):
        self.flags = flags
        self._settings = None

    @property
    def settings(self):
        if self._settings is None:
            from schedcli.settings import resolve_settings

            self._settings = resolve_settings(self.flags)
        return self._settings
