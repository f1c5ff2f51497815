"""deploy/'s systemd units and environment file are sound: systemd itself verifies the units where it is
installed (`systemd-analyze verify`, on copies whose ExecStart names this checkout's schedcli, since the
/opt path exists only on a real host), the command lines parse as schedcli's own options, and the
environment file's settings resolve to a three-node failover list and a PostgreSQL store."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))
INSTALLED_BINARY = "/opt/schedcli/venv/bin/schedcli"
ENV_FILE = "/etc/schedcli/schedcli.env"


def sections(path: Path) -> dict[str, dict[str, str]]:
    """A unit file's sections and keys, read the way systemd reads them (comments, no continuation lines)."""
    parsed: dict[str, dict[str, str]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = parsed.setdefault(header[1], {})
            continue
        assert current is not None and re.fullmatch(r"[A-Za-z]+=.*", line), f"{path.name}:{number}: {line!r}"
        key, value = line.split("=", 1)
        assert key not in current, f"{path.name}:{number}: {key} twice"
        current[key] = value
    return parsed


def test_the_units_are_a_worker_template_and_the_server():
    assert [unit.name for unit in UNITS] == ["schedcli-serve.service", "schedcli-worker@.service"]
    for unit in UNITS:
        parsed = sections(unit)
        assert set(parsed) == {"Unit", "Service", "Install"}
        service = parsed["Service"]
        assert service["ExecStart"].startswith(INSTALLED_BINARY + " ")
        assert service["EnvironmentFile"] == ENV_FILE
        assert service["User"] == "schedcli" and service["KillSignal"] == "SIGTERM"
        assert parsed["Install"]["WantedBy"] == "multi-user.target"
        # systemd expands %h to the user's home: Celery's own %h would have to be written %%h.
        assert not re.search(r"(?<!%)%h", service["ExecStart"])


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_exec_start_is_a_schedcli_command_line_it_accepts(unit, cli_runner):
    command = sections(unit)["Service"]["ExecStart"]
    arguments = shlex.split(command.replace("%i", "schedcli").replace("%H", "host"))[1:]
    result = cli_runner(*arguments, "--help")
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    schedcli = Path(sys.executable).parent / "schedcli"
    assert schedcli.exists()
    names = []
    for unit in UNITS:
        text = unit.read_text().replace(INSTALLED_BINARY, str(schedcli)).replace(ENV_FILE, str(DEPLOY / "schedcli.env"))
        (tmp_path / unit.name).write_text(text)
        if unit.name.endswith("@.service"):  # a template is verified through an instance of it
            instance = tmp_path / unit.name.replace("@.", "@schedcli.")
            instance.symlink_to(tmp_path / unit.name)
            names.append(str(instance))
        else:
            names.append(str(tmp_path / unit.name))
    result = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60)
    # An unknown key or a bad value is only a warning (exit 0): any line about these files fails the test.
    about_ours = [line for line in (result.stdout + result.stderr).splitlines()
                  if "schedcli" in line or str(tmp_path) in line]
    assert result.returncode == 0 and not about_ours, result.stdout + result.stderr


def test_the_environment_file_names_a_three_node_cluster_and_a_postgresql_store():
    from schedcli.settings import broker_urls, resolve_settings

    environ = {}
    for line in (DEPLOY / "schedcli.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            assert key.startswith("SCHEDCLI_"), key
            environ[key] = value
    settings = resolve_settings(environ=environ, cwd=DEPLOY)
    assert len(broker_urls(settings.broker_url)) == 3
    assert settings.database_url.startswith("postgresql://")
