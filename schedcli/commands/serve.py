"""`schedcli serve`: the HTTP API and the dashboard (schedcli.web), on uvicorn."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="SCHEDCLI_API_HOST", metavar="ADDRESS",
              help="Address to listen on; anything but the loopback needs --token.  [env SCHEDCLI_API_HOST]")
@click.option("--port", default=8765, show_default=True, envvar="SCHEDCLI_API_PORT",
              type=click.IntRange(0, 65535), help="Port to listen on.  [env SCHEDCLI_API_PORT]")
@click.option("--token", envvar="SCHEDCLI_API_TOKEN", metavar="TOKEN",
              help="Require this token: `Authorization: Bearer TOKEN` on the API, a login form on the dashboard.  "
                   "[env SCHEDCLI_API_TOKEN]")
@click.option("--cors-origin", "cors_origins", multiple=True, envvar="SCHEDCLI_API_CORS_ORIGIN", metavar="ORIGIN",
              help="Let pages of this origin call the API from the browser (repeat for several); none by "
                   "default.  [env SCHEDCLI_API_CORS_ORIGIN, space-separated]")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log one line per request.")
@click.pass_obj
def command(application, host, port, token, cors_origins, access_log):
    """Serve the HTTP API (for web apps) and the dashboard (for people).

    The API sends and steers jobs as the CLI does, over one RabbitMQ connection kept open:
    POST /api/jobs, GET /api/jobs/ID, GET /api/jobs/ID/events (live), /api/schedules, /api/when,
    /api/health, /metrics; OpenAPI at /docs. See docs/serve.md. Bound to 127.0.0.1 by default; binding
    anywhere else refuses to start without a token.

    \b
    Example:
        schedcli serve
        curl -X POST localhost:8765/api/jobs -d '{"task": "schedcli.tasks.echo", "in": "1h"}'
        SCHEDCLI_API_TOKEN=s3cret schedcli serve --host 0.0.0.0 --port 8080
    """
    from schedcli.exceptions import BadInput

    if token is not None and not token.strip():
        raise BadInput("the token is empty; give a long random one, e.g. from `openssl rand -hex 32`")
    loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    if not loopback and token is None:
        raise BadInput(f"refusing to listen on {host} without a token: anyone who reaches it could send and "
                       "cancel jobs; give --token (or SCHEDCLI_API_TOKEN), or keep the default --host 127.0.0.1")
    try:
        from schedcli.web.app import address, create_app, listen, run_server
    except ImportError as exc:
        raise BadInput(f"`schedcli serve` needs the web extra ({exc}); install it with "
                       "pip install 'schedcli[web]'") from None
    from schedcli.runtime import tune_garbage_collector
    from schedcli.settings import mask_url

    settings = application.settings
    app = create_app(settings, token=token, cors_origins=tuple(cors_origins), loopback_only=loopback)
    listener = listen(host, port)
    click.echo(f"schedcli serve on http://{address(host, listener.getsockname()[1])}/ (RabbitMQ "
               f"{mask_url(settings.broker_url)}, store {mask_url(settings.database_url)}"
               f"{', token required' if token else ''})", err=True)
    tune_garbage_collector()
    run_server(app, listener, access_log)
