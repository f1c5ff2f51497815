"""One module per command; each exposes a Click command as `command`. Thin: it reads options and calls the core.

May import schedcli.cli and every core package."""
