"""Who may use the server: the token (bearer header or login cookie), CSRF, the Host header, and body size.

One ASGI middleware does all of it before a route runs, so no route can forget it:
- With a token, every request but the login page needs it: `Authorization: Bearer T` for programs,
  or the cookie the login form sets for people (HttpOnly, SameSite=Strict; it holds an HMAC of the
  token, never the token). Both are compared in constant time.
- A state-changing request a browser sends (it carries Origin, Sec-Fetch-Site or a cookie) needs the
  page's CSRF token in `X-CSRF-Token`, unless it carries the bearer token or comes from a
  `--cors-origin`. Programs posting JSON (no browser headers) need nothing more than the token.
- Bound to 127.0.0.1 without a token, only a Host header naming the loopback is served: a page on
  another site cannot reach the API by pointing its own name at 127.0.0.1 (DNS rebinding).
- A request body longer than the limit is refused with 413, whether or not it says its length.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from http.cookies import SimpleCookie

from schedcli.exceptions import BadInput

SESSION_COOKIE = "schedcli_session"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PUBLIC_PATHS = ("/login", "/static/dashboard.js", "/static/dashboard.css")
NO_PERMISSION = 77  # EX_NOPERM: the code of the token and CSRF errors


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


class Access:
    """The secrets of one server process: the token (None: no login), the session cookie value, the CSRF token."""

    def __init__(self, token: str | None, cors_origins: tuple[str, ...] = (), loopback_only: bool = True):
        self.token = token
        self.cors_origins = tuple(cors_origins)
        self.loopback_only = loopback_only and token is None
        if token is None:
            self.session = None
            self.csrf = secrets.token_urlsafe(32)
        else:
            key = token.encode("utf-8")
            self.session = hmac.new(key, b"schedcli session", hashlib.sha256).hexdigest()
            self.csrf = hmac.new(key, b"schedcli csrf", hashlib.sha256).hexdigest()

    def token_matches(self, given: str) -> bool:
        return self.token is not None and hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    def session_matches(self, given: str | None) -> bool:
        return self.session is not None and given is not None and hmac.compare_digest(
            given.encode("utf-8"), self.session.encode("utf-8"))

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode("utf-8"), self.csrf.encode("utf-8"))


def _json_response(status: int, message: str, code: int, extra_headers: list | None = None):
    body = json.dumps({"error": message, "code": code}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return status, headers + (extra_headers or []), body


def session_of(cookie_header: str) -> str | None:
    """The dashboard session in a Cookie header, if any."""
    cookies = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:  # a malformed cookie header is no session
        return None
    return cookies[SESSION_COOKIE].value if SESSION_COOKIE in cookies else None


class Guard:
    """The ASGI middleware that applies `Access` and the body limit to every HTTP request."""

    def __init__(self, app, access: Access, max_body_bytes: int):
        self.app = app
        self.access = access
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope)
        if refusal is not None:
            return await self._respond(send, *refusal)
        limit = self.max_body_bytes
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(f"the request body is larger than the limit of {limit:,} bytes")
            return message

        # Raised inside the route's body read, so the app's error handler answers it (413).
        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _respond(send, status, headers, body):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope):
        access = self.access
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        path, method = scope["path"], scope["method"]
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return _json_response(413, f"the request body is larger than the limit of {self.max_body_bytes:,} bytes",
                                  2)
        if access.loopback_only:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if not is_loopback(name):
                return _json_response(421, f"this server answers only to 127.0.0.1 or localhost, not {host!r}", 2)
        session = session_of(headers["cookie"]) if "cookie" in headers else None
        authorization = headers.get("authorization", "")
        scheme, _, given = authorization.partition(" ")
        by_bearer = scheme.lower() == "bearer" and access.token_matches(given.strip())
        by_cookie = access.session_matches(session)
        preflight = method == "OPTIONS" and headers.get("origin") in access.cors_origins
        if access.token is not None and not (by_bearer or by_cookie or preflight) and path not in PUBLIC_PATHS:
            if path.startswith("/api/") or path in ("/metrics", "/openapi.json") or authorization:
                return _json_response(401, "missing or wrong API token; send the header "
                                      "`Authorization: Bearer <token>` (--token / SCHEDCLI_API_TOKEN)",
                                      NO_PERMISSION, [(b"www-authenticate", b"Bearer")])
            location = "/login?next=" + path if method == "GET" else "/login"
            return 303, [(b"location", location.encode("latin-1")), (b"content-length", b"0")], b""
        if method in UNSAFE_METHODS and not by_bearer and path != "/login":
            origin = headers.get("origin")
            from_browser = origin is not None or "sec-fetch-site" in headers or session is not None
            if from_browser and origin not in access.cors_origins and not access.csrf_matches(
                    headers.get("x-csrf-token")):
                return _json_response(403, "missing or wrong CSRF token (X-CSRF-Token); reload the page",
                                      NO_PERMISSION)
        return None


class BodyTooLarge(BadInput):
    """A request body grew past the limit while it was read (413)."""
