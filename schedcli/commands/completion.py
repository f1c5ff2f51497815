"""`schedcli completion`: the shell completion script for bash, zsh or fish (Click writes it)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell):
    """Print the completion script for SHELL; load it from your shell's startup file.

    \b
    Example:
        schedcli completion bash > ~/.local/share/bash-completion/completions/schedcli
        schedcli completion zsh > ~/.zfunc/_schedcli
        schedcli completion fish > ~/.config/fish/completions/schedcli.fish
    """
    from click.shell_completion import get_completion_class

    from schedcli.cli.root import cli

    completion = get_completion_class(shell)(cli, {}, "schedcli", "_SCHEDCLI_COMPLETE")
    click.echo(completion.source())
