"""The README tells the truth: its command reference is what the commands print, its commands exist."""

import runpy
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_command_reference_matches_help():
    generator = runpy.run_path(str(ROOT / "scripts" / "command-reference"))
    assert generator["readme_with_reference"](README) == README, (
        "the README's command reference is out of date: run scripts/command-reference --write")


def test_every_command_has_its_section_in_the_reference():
    from schedcli.cli import COMMANDS

    for name in COMMANDS:
        assert f"### schedcli {name}\n" in README


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest" in README
    assert ".venv/bin/python -m pytest" in ci


def test_quickstart_scripts_exist_and_are_valid_bash():
    for script in ("scripts/demo", "scripts/ensure-rabbitmq", ".ci/run"):
        assert f"{script}" in README or script == "scripts/ensure-rabbitmq"
        subprocess.run(["bash", "-n", str(ROOT / script)], check=True)
