"""schedcli: `at` for Celery. Schedule background jobs on RabbitMQ from the command line."""

__version__ = "0.1.0"


def install(celery_app, app_path: str | None = None, database_url: str | None = None) -> None:
    """Record every job your Celery app sends in schedcli's job store, when it is sent (see docs/sending.md).

    Example:
        app = Celery("proj")
        schedcli.install(app)  # then `schedcli list --scheduled` shows jobs sent with apply_async
    """
    from schedcli.send_recording import install as install_recording

    install_recording(celery_app, app_path=app_path, database_url=database_url)
