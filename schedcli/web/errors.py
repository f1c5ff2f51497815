"""Errors as the API answers them: `{"error": <the CLI's one-line message>, "code": <its exit code>}`.

Each `SchedcliError` keeps the message and exit code the CLI gives it and gets the HTTP status that
says the same thing. Anything unexpected is a 500 with one line; its traceback goes to the server's
log only, never to the client.
"""

from __future__ import annotations

import json
import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from schedcli.exceptions import (
    BadInput, BrokerUnavailable, ConfigError, DatabaseError, ReportsFolderError, SchedcliError, UnknownJob,
    UnknownSchedule,
)
from schedcli.web.security import BodyTooLarge

log = logging.getLogger("schedcli.serve")

# Most specific first: BodyTooLarge is a BadInput.
STATUS_BY_ERROR = (
    (BodyTooLarge, 413),
    (BadInput, 400),
    (UnknownJob, 404),
    (UnknownSchedule, 404),
    (BrokerUnavailable, 503),
    (DatabaseError, 503),
    (ConfigError, 500),
    (ReportsFolderError, 500),
    (SchedcliError, 409),  # exit 1: the job is in a state that does not allow it (reschedule a finished job)
)
UNEXPECTED_CODE = 70  # EX_SOFTWARE, as the CLI exits on an unexpected failure


def http_status(exc: SchedcliError) -> int:
    return next(status for kind, status in STATUS_BY_ERROR if isinstance(exc, kind))


def error_response(message: str, code: int, status: int) -> Response:
    return Response(json.dumps({"error": message, "code": code}, ensure_ascii=False), status_code=status,
                    media_type="application/json")


async def on_schedcli_error(request: Request, exc: SchedcliError) -> Response:
    return error_response(str(exc), exc.exit_code, http_status(exc))


async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors())
    return error_response(f"bad request: {problems}", BadInput.exit_code, 400)


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    code = 3 if exc.status_code == 404 else 2
    return error_response(str(exc.detail), code, exc.status_code)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(f"unexpected {type(exc).__name__} (the server's log has the traceback)", UNEXPECTED_CODE,
                          500)


HANDLERS = {
    SchedcliError: on_schedcli_error,
    RequestValidationError: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected_error,
}


async def answer(request: Request, exc: Exception) -> Response:
    """What the handler registered for the most specific class of `exc` answers (as Starlette picks it)."""
    handler = next(HANDLERS[kind] for kind in type(exc).__mro__ if kind in HANDLERS)
    return await handler(request, exc)
