"""Settings resolution: flag > environment > config file > default, with sources and masking."""

import json
from pathlib import Path

import pytest

from helpers import run_schedcli
from schedcli.exceptions import BadInput, ConfigError
from schedcli.settings import DEFAULT_BROKER_URL, UNKNOWN_ZONE_SOURCE, mask_url, resolve_settings


def write_config(folder: Path, text: str) -> Path:
    path = folder / "schedcli.toml"
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
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


def test_user_config_folder_is_read_when_no_local_file(tmp_path, monkeypatch):
    folder = tmp_path / "cfg" / "schedcli"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('timezone = "Europe/Berlin"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
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


# -- the zone ------------------------------------------------------------------------------------


def test_tz_naming_a_zone_file_as_colon_path_reads_that_zone(tmp_path, monkeypatch):
    """TZ=:/etc/localtime is a common setting (glibc reads a zone file from a path after a colon)."""
    monkeypatch.delenv("SCHEDCLI_TZ")
    localtime = tmp_path / "localtime"
    localtime.symlink_to("/usr/share/zoneinfo/Asia/Tokyo")
    result = run_schedcli("when", "tomorrow 12:00", "--now", "2026-11-25T10:00:00", "--json",
                          env={"TZ": f":{localtime}"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["timezone"] == "Asia/Tokyo"


def test_a_system_that_does_not_say_its_zone_reads_utc_and_says_so(monkeypatch, tmp_path):
    import tzlocal

    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: None)
    settings = resolve_settings({}, environ={}, cwd=tmp_path)
    assert settings.timezone == "UTC"
    assert settings.sources["timezone"] == UNKNOWN_ZONE_SOURCE


def test_the_unknown_system_zone_is_said_once_on_stderr(cli_runner, monkeypatch):
    import tzlocal

    monkeypatch.delenv("SCHEDCLI_TZ")
    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: None)
    result = cli_runner("when", "tomorrow 12:00", "--now", "2026-11-25T10:00:00")
    assert result.exit_code == 0
    assert result.stderr == ("note: the system's time zone is unknown, so times are read and shown in UTC; "
                             "set --tz or SCHEDCLI_TZ\n")


@pytest.mark.parametrize("given, error, where", [
    ({"flags": {"timezone": "Mars/Base"}}, BadInput, "--tz"),
    ({"environ": {"SCHEDCLI_TZ": "Mars/Base"}}, ConfigError, "SCHEDCLI_TZ"),
])
def test_a_zone_setting_schedcli_cannot_use_is_refused_naming_the_setting(tmp_path, given, error, where):
    with pytest.raises(error) as caught:
        resolve_settings(given.get("flags", {}), environ=given.get("environ", {}), cwd=tmp_path)
    assert str(caught.value) == (f"unknown time zone 'Mars/Base' in {where}; use an IANA name such as "
                                 "'Europe/Berlin', 'America/New_York' or 'UTC', or an offset like +05:30")


def test_a_bad_tz_flag_is_reported_as_the_zone_not_as_the_time(cli_runner, database_url):
    result = cli_runner("--tz", "Mars/Base", "call", "schedcli.tasks.echo", "--in", "1h")
    assert result.exit_code == 2
    assert result.stderr == ("Error: unknown time zone 'Mars/Base' in --tz; use an IANA name such as "
                             "'Europe/Berlin', 'America/New_York' or 'UTC', or an offset like +05:30\n")
