"""Resolve schedcli's settings: command-line flag > environment variable > config file > default.

Every value remembers where it came from so `schedcli config` can say so. Pure: no Click, no Celery.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from schedcli.exceptions import ConfigError

DEFAULT_BROKER_URL = "amqp://guest:guest@localhost:5672//"
DEFAULT_APP = "schedcli.app"
QUEUE_NAME = "schedcli"
# What a malformed broker URL is told. Never the parser's own words: they can quote part of the password.
BROKER_URL_FORM = "amqp://user:password@host:5672/vhost (in the password, write / # ? @ as %2F %23 %3F %40)"


def data_dir() -> Path:
    """The user's data folder for schedcli: `$XDG_DATA_HOME/schedcli` (`~/.local/share/schedcli`) on Linux, each
    system's own elsewhere (`~/Library/Application Support/schedcli`, `%LOCALAPPDATA%\\schedcli`)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("schedcli", appauthor=False))


def config_dir() -> Path:
    """The user's config folder for schedcli: `$XDG_CONFIG_HOME/schedcli` (`~/.config/schedcli`) on Linux."""
    import platformdirs

    return Path(platformdirs.user_config_dir("schedcli", appauthor=False))


UNKNOWN_ZONE_SOURCE = "default: the system's zone is unknown, so UTC (set --tz or SCHEDCLI_TZ)"


def system_timezone_name() -> str | None:
    """The IANA name of the machine's zone, None when the system does not say.

    tzlocal reads what the system may say it with: TZ (also `:/etc/localtime` and other paths to a zone file),
    /etc/localtime's link, /etc/timezone and the other distributions' files.
    """
    import zoneinfo

    import tzlocal

    try:
        return tzlocal.get_localzone_name()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # conflicting or unreadable configuration
        return None


@dataclass(frozen=True)
class Setting:
    """One setting: its config-file key, environment variable, command-line flag and default."""

    name: str
    env: str
    flag: str | None
    help: str
    secret_url: bool = False


SETTINGS = (
    Setting("broker_url", "SCHEDCLI_BROKER_URL", "--broker", "RabbitMQ URL (amqp:// or amqps://)", True),
    Setting("database_url", "SCHEDCLI_DATABASE_URL", "--database",
            "job store: an SQLAlchemy URL (sqlite:///path or postgresql://...)", True),
    Setting("app", "SCHEDCLI_APP", "--app", "Celery app to drive, as module or module:attribute"),
    Setting("timezone", "SCHEDCLI_TZ", "--tz", "zone in which times are read and shown"),
    Setting("reports_dir", "SCHEDCLI_REPORTS_DIR", None, "folder the report job writes into"),
    Setting("broker_ca_file", "SCHEDCLI_BROKER_CA_FILE", None, "CA bundle for amqps:// brokers"),
    Setting("broker_cert_file", "SCHEDCLI_BROKER_CERT_FILE", None, "client certificate for amqps://"),
    Setting("broker_key_file", "SCHEDCLI_BROKER_KEY_FILE", None, "client key for amqps://"),
)
SETTING_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The resolved settings and, for each, where its value came from."""

    broker_url: str
    database_url: str
    app: str
    timezone: str
    reports_dir: str
    broker_ca_file: str | None = None
    broker_cert_file: str | None = None
    broker_key_file: str | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    config_file: str | None = None

    @property
    def uses_bundled_app(self) -> bool:
        return self.app == DEFAULT_APP

    def masked(self) -> dict[str, str | None]:
        """The values as they may be shown: passwords in URLs replaced by `***`."""
        shown = {}
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            shown[setting.name] = mask_url(value) if setting.secret_url and value else value
        return shown


def broker_urls(url: str) -> list[str]:
    """The nodes of a broker setting, in the order to try them: `amqp://h1//;amqp://h2//` is Celery's own
    failover form (in a password, write `;` as `%3B`)."""
    return [part.strip() for part in url.split(";") if part.strip()] or [url]


def mask_url(url: str) -> str:
    """`amqp://user:secret@host//` -> `amqp://user:***@host//`; other URLs unchanged; each of a failover list.

    Read leniently, not as a URL: everything between `user:` and the last `@` is the password, so one
    holding characters a URL may not (`/`, `#`, `@`) is still masked whole.
    """
    if ";" in url:
        return ";".join(mask_url(part) for part in broker_urls(url))
    scheme, separator, rest = url.partition("://")
    userinfo, at, hostinfo = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not separator or not at or not colon or "/" in user:
        return url
    return f"{scheme}://{user}:***@{hostinfo}"


def find_config_file(environ: dict[str, str], cwd: Path) -> Path | None:
    """`./schedcli.toml`, else `$XDG_CONFIG_HOME/schedcli/config.toml`; None when neither exists."""
    explicit = environ.get("SCHEDCLI_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"SCHEDCLI_CONFIG names {explicit!r}, which is not a file")
        return path
    for candidate in (cwd / "schedcli.toml", config_dir() / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, str]:
    """The settings in a TOML file; unknown keys and non-TOML text are a `ConfigError`."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    table = data.get("schedcli", data)
    unknown = sorted(set(table) - set(SETTING_BY_NAME) - ({"schedcli"} if "schedcli" in data else set()))
    if unknown:
        known = ", ".join(SETTING_BY_NAME)
        raise ConfigError(f"config file {path} names unknown setting(s) {', '.join(unknown)}; known: {known}")
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"config file {path}: {key} must be a string, got {type(value).__name__}")
    return dict(table)


def default_values() -> dict[str, str | None]:
    return {
        "broker_url": DEFAULT_BROKER_URL,
        "database_url": f"sqlite:///{data_dir() / 'schedcli.db'}",
        "app": DEFAULT_APP,
        "reports_dir": str(data_dir() / "reports"),
        "broker_ca_file": None,
        "broker_cert_file": None,
        "broker_key_file": None,
    }


def resolve_settings(
    flags: dict[str, str | None] | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings from flags (by setting name), the environment, the config file and the defaults."""
    flags = flags or {}
    environ = dict(os.environ) if environ is None else environ
    config_path = find_config_file(environ, cwd or Path.cwd())
    from_file = read_config_file(config_path) if config_path else {}
    defaults = default_values()
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if flags.get(setting.name) is not None:
            values[setting.name], sources[setting.name] = flags[setting.name], f"flag {setting.flag}"
        elif environ.get(setting.env):
            values[setting.name], sources[setting.name] = environ[setting.env], f"env {setting.env}"
        elif setting.name in from_file:
            values[setting.name], sources[setting.name] = from_file[setting.name], f"file {config_path}"
        elif setting.name == "timezone":  # asking the system costs an import: only when nothing else says
            zone = system_timezone_name()
            values[setting.name], sources[setting.name] = (zone, "default") if zone else ("UTC", UNKNOWN_ZONE_SOURCE)
        else:
            values[setting.name], sources[setting.name] = defaults[setting.name], "default"
    check_zone(values["timezone"], sources["timezone"])
    known = {f.name for f in fields(Settings)}
    return Settings(
        **{k: v for k, v in values.items() if k in known},
        sources=sources,
        config_file=str(config_path) if config_path else None,
    )


def check_zone(name: str, source: str) -> None:
    """A zone setting schedcli cannot use is refused here, naming where it came from, before any time is read."""
    from schedcli.exceptions import BadInput, TimeExpressionError
    from schedcli.timetext import resolve_zone

    try:
        resolve_zone(name)
    except TimeExpressionError:
        where = source.removeprefix("flag ").removeprefix("env ").removeprefix("file ")
        if source.startswith("file "):
            where = f"the config file {where} (timezone)"
        message = (f"unknown time zone {name!r} in {where}; use an IANA name such as 'Europe/Berlin', "
                   "'America/New_York' or 'UTC', or an offset like +05:30")
        raise (BadInput if source.startswith("flag ") else ConfigError)(message) from None


def broker_ssl_options(settings: Settings) -> dict | bool | None:
    """TLS options for amqps:// URLs (Celery's `broker_use_ssl`, py-amqp's `ssl`): CA and client certificate."""
    if not settings.broker_url.startswith("amqps://"):
        return None
    import ssl

    # server_hostname None: kombu fills in the URL's host, so Celery checks the certificate names it; without the
    # key it checks no name at all, and any certificate the CA signed would do.
    options: dict = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": None}
    if settings.broker_ca_file:
        options["ca_certs"] = settings.broker_ca_file
    if settings.broker_cert_file:
        options["certfile"] = settings.broker_cert_file
    if settings.broker_key_file:
        options["keyfile"] = settings.broker_key_file
    return options
