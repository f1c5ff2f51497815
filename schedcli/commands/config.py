"""`schedcli config`: the resolved settings and where each came from."""

from __future__ import annotations

import click


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: {setting: {value, source}}.")
@click.pass_obj
def command(application, as_json):
    """Print the resolved settings and where each came from, passwords masked.

    Order: command-line flag, environment variable, config file (./schedcli.toml, else
    $XDG_CONFIG_HOME/schedcli/config.toml), default.

    \b
    Example:
        schedcli config
        SCHEDCLI_BROKER_URL=amqp://u:p@rabbit// schedcli config --json
    """
    settings = application.settings
    shown = settings.masked()
    if as_json:
        import json

        data = {name: {"value": value, "source": settings.sources[name]} for name, value in shown.items()}
        click.echo(json.dumps(data, indent=2))
        return
    from schedcli.cli.rendering import render_settings

    render_settings([(name, value, settings.sources[name]) for name, value in shown.items()])
