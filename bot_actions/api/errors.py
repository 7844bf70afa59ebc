"""How errors look on the wire: ``{"error": "...", "field": "..."}`` with the right code.

Bad input is a 422 naming the field and what is wrong; an unknown or
not-your order or request a 404 with one generic sentence; a lockout or a
rate limit a 429 with ``Retry-After``; the queue or the order data being
unreachable a 503 with one fixed sentence (the cause, which may name a file
or a host, goes to the log only). A body that is not UTF-8 or is nested too
deep to read is the same 422 as one that is not JSON. Nothing a caller sends
can produce a 500.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sheetqueue.config.errors import (
    InputError,
    LockedError,
    NotFoundError,
    OrderSourceError,
    SheetqueueError,
    StoreError,
)

__all__ = [
    "UNAVAILABLE",
    "TooManyRequests",
    "error_body",
    "field_of",
    "install_error_handlers",
]

log = structlog.get_logger("sheetqueue.api")

_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*): ")
UNAVAILABLE = "We couldn't reach our system just now. Please try again in a minute."
_NOT_JSON = {"field": "body", "message": "is not valid JSON", "type": "json_invalid"}


class TooManyRequests(LockedError):
    """Too many lookups from this caller; wait a moment and try again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many tries in a short time. Please wait a minute and try again.")
        self.retry_after = max(1, int(retry_after + 0.999))


def field_of(message: str) -> str | None:
    """The field an InputError's message names (``order_id: ...`` -> ``order_id``)."""
    match = _FIELD.match(message)
    return match.group(1) if match else None


def error_body(error: SheetqueueError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error.message}
    if isinstance(error, InputError):
        body["field"] = field_of(error.message)
    return body


def _validation_details(errors: Sequence[Any]) -> tuple[str, str, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[1:] if location[:1] in (["body"], ["query"], ["header"], ["path"]) else []
        field = ".".join(where) or (location[0] if location else "body")
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if error.get("type") == "missing":
            message = "is required"
        elif error.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif error.get("type") == "json_invalid":
            field, message = "body", "is not valid JSON"
        details.append({"field": field, "message": message, "type": str(error.get("type", ""))})
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    return first["field"], f"{first['field']}: {first['message']}", details


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the shape above."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        field, message, details = _validation_details(exc.errors())
        return JSONResponse({"error": message, "field": field, "detail": details}, status_code=422)

    @app.exception_handler(SheetqueueError)
    async def _ours(_request: Request, exc: SheetqueueError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, InputError):
            status = 422
        elif isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, TooManyRequests):
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, LockedError):
            status = 429
        elif isinstance(exc, StoreError | OrderSourceError):
            log.warning("api.backend_unavailable", error=exc.message)
            headers = {"Retry-After": "30"}
            return JSONResponse({"error": UNAVAILABLE}, status_code=503, headers=headers)
        else:
            log.error("api.failed", error=exc.message, error_type=type(exc).__name__)
            status = 500
        return JSONResponse(error_body(exc), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body FastAPI could not decode (bad UTF-8, too deep)
            body = {"error": "body: is not valid JSON", "field": "body", "detail": [_NOT_JSON]}
            return JSONResponse(body, status_code=422)
        return JSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("api.crashed", error=str(exc), error_type=type(exc).__name__)
        return JSONResponse({"error": "Something went wrong on our side."}, status_code=500)
