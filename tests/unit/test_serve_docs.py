"""`/docs` works where no CDN can be reached: Swagger UI's files come from this server (Starlette's TestClient)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from schedcli.settings import resolve_settings
from schedcli.web.app import create_app


def test_docs_is_served_from_this_server_with_no_cdn_and_openapi_lists_the_routes(database_url):
    with TestClient(create_app(resolve_settings()), base_url="http://127.0.0.1:8765") as web:
        page = web.get("/docs")
        bundle = web.get("/static/swagger-ui/swagger-ui-bundle.js")
        css = web.get("/static/swagger-ui/swagger-ui.css")
        other = web.get("/static/swagger-ui/swagger-initializer.js")
        redoc = web.get("/redoc")
        paths = web.get("/openapi.json").json()["paths"]
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in sources and "/static/docs.js" in sources
    assert all(source.startswith("/") for source in sources), sources  # nothing from another host
    assert "<script>" not in page.text  # no inline script (the page's policy would refuse it)
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text
    assert css.status_code == 200 and other.status_code == 404  # only the two files the page needs
    assert redoc.status_code == 404  # FastAPI's CDN pages are off
    assert {"/api/jobs", "/api/schedules", "/api/schedules/{name}", "/api/schedules/{name}/pause",
            "/api/schedules/{name}/resume", "/api/schedules/{name}/run"} <= set(paths)
    assert set(paths["/api/schedules/{name}"]) == {"get", "delete"}
