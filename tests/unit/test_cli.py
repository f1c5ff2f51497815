"""The root command: instant help, version, and the lazy command table."""

import subprocess
import sys

import pytest

from helpers import run_schedcli

from schedcli import __version__
from schedcli.cli import COMMANDS


def test_help_lists_every_command(cli_runner):
    result = cli_runner("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output


def test_version(cli_runner):
    result = cli_runner("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"schedcli, version {__version__}"


def test_help_and_version_import_neither_celery_nor_kombu_nor_rich():
    code = (
        "import sys\n"
        "from schedcli.cli import cli\n"
        "for argv in (['--help'], ['--version']):\n"
        "    try:\n"
        "        cli.main(argv, prog_name='schedcli')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'celery', 'kombu', 'amqp', 'rich', 'sqlalchemy'})\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_every_command_has_help_with_an_example(cli_runner):
    import click

    from schedcli.cli import cli

    ctx = click.Context(cli)
    missing = []

    def walk(command, path):
        if "Example:" not in (command.help or ""):
            missing.append(" ".join(path))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])

    walk(cli, ["schedcli"])
    assert missing == []


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F _schedcli_completion schedcli"),
                                           ("zsh", "compdef _schedcli_completion schedcli"),
                                           ("fish", "complete --no-files --command schedcli")])
def test_completion_prints_the_script_for_each_shell(cli_runner, shell, marker):
    result = cli_runner("completion", shell)
    assert result.exit_code == 0
    assert marker in result.stdout and "_SCHEDCLI_COMPLETE" in result.stdout


def test_the_completion_script_completes_commands_and_their_options():
    def complete(words: str) -> list[str]:
        env = {"_SCHEDCLI_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        return run_schedcli(env=env).stdout.split()

    assert complete("schedcli wor") == ["plain,worker"]
    assert "plain,--terminate" in complete("schedcli cancel --te")


def test_completion_for_an_unknown_shell_is_bad_usage(cli_runner):
    result = cli_runner("completion", "powershell")
    assert result.exit_code == 2 and "'powershell' is not one of 'bash', 'zsh', 'fish'" in result.stderr
