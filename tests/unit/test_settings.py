"""Settings resolution: flag > environment > config file > default, with sources and masking."""

from pathlib import Path

import pytest

from schedcli.exceptions import ConfigError
from schedcli.settings import DEFAULT_BROKER_URL, mask_url, resolve_settings


def write_config(folder: Path, text: str) -> Path:
    path = folder / "schedcli.toml"
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_set(tmp_path):
    settings = resolve_settings({}, environ={"XDG_DATA_HOME": str(tmp_path)}, cwd=tmp_path)
    assert settings.broker_url == DEFAULT_BROKER_URL
    assert settings.database_url == f"sqlite:///{tmp_path / 'schedcli' / 'schedcli.db'}"
    assert settings.app == "schedcli.app"
    assert settings.reports_dir == str(tmp_path / "schedcli" / "reports")
    assert settings.sources["broker_url"] == "default"


def test_file_beats_default(tmp_path):
    config = write_config(tmp_path, 'broker_url = "amqp://file@h//"\n')
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
    assert settings.broker_url == "amqp://file@h//"
    assert settings.sources["broker_url"] == f"file {config}"


def test_env_beats_file(tmp_path):
    write_config(tmp_path, 'broker_url = "amqp://file@h//"\n')
    settings = resolve_settings({}, environ={"SCHEDCLI_BROKER_URL": "amqp://env@h//"}, cwd=tmp_path)
    assert settings.broker_url == "amqp://env@h//"
    assert settings.sources["broker_url"] == "env SCHEDCLI_BROKER_URL"


def test_flag_beats_env(tmp_path):
    write_config(tmp_path, 'broker_url = "amqp://file@h//"\n')
    settings = resolve_settings({"broker_url": "amqp://flag@h//"},
                                environ={"SCHEDCLI_BROKER_URL": "amqp://env@h//"}, cwd=tmp_path)
    assert settings.broker_url == "amqp://flag@h//"
    assert settings.sources["broker_url"] == "flag --broker"


def test_user_config_folder_is_read_when_no_local_file(tmp_path):
    folder = tmp_path / "cfg" / "schedcli"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('timezone = "Europe/Berlin"\n')
    settings = resolve_settings({}, environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, cwd=tmp_path)
    assert settings.timezone == "Europe/Berlin"


def test_config_file_that_is_not_toml_is_a_config_error(tmp_path):
    write_config(tmp_path, "broker_url = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve_settings({}, environ={}, cwd=tmp_path)


def test_config_file_naming_unknown_settings_is_a_config_error(tmp_path):
    write_config(tmp_path, 'brokr_url = "amqp://x//"\n')
    with pytest.raises(ConfigError, match="unknown setting.*brokr_url.*known: broker_url"):
        resolve_settings({}, environ={}, cwd=tmp_path)


@pytest.mark.parametrize("url, shown", [
    ("amqp://guest:guest@localhost:5672//", "amqp://guest:***@localhost:5672//"),
    ("postgresql://app:s3cr3t@db:5432/jobs", "postgresql://app:***@db:5432/jobs"),
    ("amqp://localhost//", "amqp://localhost//"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_mask_url_hides_passwords(url, shown):
    assert mask_url(url) == shown


def test_config_command_masks_passwords_and_names_sources(cli_runner, monkeypatch):
    monkeypatch.setenv("SCHEDCLI_DATABASE_URL", "postgresql://app:hunter2@db/jobs")
    result = cli_runner("--broker", "amqp://u:pa55word@h//", "config", "--json")
    assert result.exit_code == 0
    assert "hunter2" not in result.output and "pa55word" not in result.output
    import json

    data = json.loads(result.stdout)
    assert data["broker_url"] == {"value": "amqp://u:***@h//", "source": "flag --broker"}
    assert data["database_url"] == {"value": "postgresql://app:***@db/jobs", "source": "env SCHEDCLI_DATABASE_URL"}


def test_bad_config_file_is_one_line_exit_78(schedcli_process):
    Path("schedcli.toml").write_text("not toml at all [")
    result = schedcli_process("config")
    assert result.returncode == 78
    assert "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
