"""Load the Celery app the settings name: schedcli's own, or a user's module like `celery -A`."""

from __future__ import annotations

from schedcli.exceptions import BadInput
from schedcli.settings import BROKER_URL_FORM, Settings, broker_urls, mask_url


def load_celery_app(settings: Settings):
    """The configured Celery app. A user's app keeps its own broker unless schedcli's was set explicitly."""
    if settings.uses_bundled_app:
        from schedcli.app import create_app

        celery_app = create_app(settings)
        check_broker_url(celery_app.conf.broker_url)
        return celery_app
    from celery.app.utils import find_app

    try:
        celery_app = find_app(settings.app)
    except (ImportError, AttributeError) as exc:
        raise BadInput(
            f"cannot load Celery app {settings.app!r}: {exc}; give it as module or module:attribute, "
            "e.g. --app myproj.celery:app"
        ) from None
    if settings.sources.get("broker_url", "default") != "default":
        celery_app.conf.broker_url = settings.broker_url
    celery_app.conf.schedcli_settings = settings
    check_broker_url(celery_app.conf.broker_url)
    return celery_app


def check_broker_url(url: str | None) -> None:
    """BadInput for a broker URL kombu cannot use (unreadable, or naming no transport it has); Celery itself
    would crash on it with a bare ValueError or KeyError when it first connects."""
    if not isinstance(url, str) or not url:  # unset, or a list of failover URLs: left to kombu
        return
    if ";" in url:  # Celery's failover form: each node's URL must be usable
        for node in broker_urls(url):
            check_broker_url(node)
        return
    from urllib.parse import urlsplit

    from kombu.transport import TRANSPORT_ALIASES

    try:
        parts = urlsplit(url)
        parts.port  # reading the port is what checks it
    except ValueError:
        raise BadInput(f"malformed broker URL {mask_url(url)!r}; expected {BROKER_URL_FORM}") from None
    # Looked up, not imported: a transport's module fails to import without its client library (redis, ...).
    transport = parts.scheme.split("+", 1)[0]
    if transport not in TRANSPORT_ALIASES:
        raise BadInput(f"malformed broker URL {mask_url(url)!r}: no transport {transport!r}; expected "
                       f"{BROKER_URL_FORM}")
