"""Load the Celery app the settings name: schedcli's own, or a user's module like `celery -A`."""

from __future__ import annotations

from schedcli.exceptions import BadInput
from schedcli.settings import Settings


def load_celery_app(settings: Settings):
    """The configured Celery app. A user's app keeps its own broker unless schedcli's was set explicitly."""
    if settings.uses_bundled_app:
        from schedcli.app import create_app

        return create_app(settings)
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
    return celery_app
