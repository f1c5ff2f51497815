"""Build the FastAPI application of `schedcli serve`: the API, /metrics, the dashboard, and who may use them."""

from __future__ import annotations

from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from schedcli import __version__
from schedcli.exceptions import ServerDidNotStart
from schedcli.settings import Settings
from schedcli.web.context import ServerContext
from schedcli.web.errors import HANDLERS, answer
from schedcli.web.publishing import SharedPublisher
from schedcli.web.security import Access, Guard

MAX_BODY_BYTES = 2 * 1024 * 1024  # a job's args and kwargs may be 1 MiB as JSON; room for escapes and fields
SHUTDOWN_GRACE = 20  # seconds requests in flight get after SIGTERM or Ctrl-C; within deploy/'s TimeoutStopSec


def create_app(settings: Settings, *, token: str | None = None, cors_origins: tuple[str, ...] = (),
               loopback_only: bool = True, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The server's ASGI app. `loopback_only`: bound to 127.0.0.1 without a token, so other Host names are refused."""
    from schedcli.web import api, pages

    access = Access(token, cors_origins, loopback_only)
    context = ServerContext(settings=settings, publisher=SharedPublisher(settings), access=access)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await context.publisher.start()
        try:
            yield
        finally:
            await context.publisher.stop()

    # /docs is the dashboard's own page (pages.api_docs): FastAPI's loads Swagger UI from a CDN, with inline script.
    app = FastAPI(title="schedcli", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Schedule Celery jobs on RabbitMQ over HTTP: the API of `schedcli serve`.")
    app.state.context = context
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["metrics"])
    def metrics(request: Request):
        """Prometheus text format: jobs by state and task, start lateness, delay levels, sends."""
        from schedcli.web.metrics import render_metrics

        return PlainTextResponse(render_metrics(request.app.state.context),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(DirectRoutes, endpoints={("POST", "/api/jobs"): api.post_job})
    # Outermost: nothing, not even a CORS preflight, is answered before the token and size are checked.
    app.add_middleware(Guard, access=access, max_body_bytes=max_body_bytes)
    return app


def address(host: str, port: int) -> str:
    """`host:port` as a URL writes it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen(host: str, port: int):
    """A socket bound to `host`:`port` and listening, for `run_server`; ServerDidNotStart when it cannot be."""
    import os
    import socket

    try:
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ServerDidNotStart(f"cannot listen on {address(host, port)}: {reason}; give a free --port, or stop "
                                "what holds that one") from None


def run_server(app: FastAPI, listener, access_log: bool) -> None:
    """Serve `app` with uvicorn on `listener` until SIGTERM or Ctrl-C."""
    host, port = listener.getsockname()[:2]
    # No X-Forwarded-For rewriting: nothing here uses the client's address, and it costs every request.
    config = uvicorn.Config(app, host=host, port=port, access_log=access_log, log_level="info", server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=SHUTDOWN_GRACE)
    server = uvicorn.Server(config)
    app.state.context.stopping = lambda: server.should_exit
    server.run(sockets=[listener])
    if not server.started:
        raise ServerDidNotStart("schedcli serve stopped while starting (uvicorn said why above)")


class DirectRoutes:
    """ASGI middleware that calls the endpoints of a few routes itself, past FastAPI's routing and middleware.

    For `POST /api/jobs`, which web apps call in volume, those layers cost more of the server's time than
    the endpoint: with them skipped the server answered 1.3x the requests a second. The endpoint is the
    route's own (it is still FastAPI's route, for OpenAPI): it takes the `Request`, and needs neither
    dependencies nor validation. Its errors get the app's handlers' answers.
    """

    def __init__(self, app, endpoints: dict[tuple[str, str], object]):
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope, receive, send):
        endpoint = self.endpoints.get((scope.get("method"), scope.get("path"))) if scope["type"] == "http" else None
        if endpoint is None:
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            response = await answer(request, exc)
        await response(scope, receive, send)
