"""The HTTP shell: a Starlette app that hands each call to a :class:`SheetsService`.

``/v4/...`` is the Sheets API (with the configured delay, and a slow append's
late landing and late answer, applied outside the state lock); ``/_emulator/...``
is the control API of :mod:`sheetqueue.sheets.testing.emulator.admin`; ``POST /token``
is Google's OAuth token endpoint (:mod:`sheetqueue.sheets.testing.emulator.auth`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sheetqueue.sheets.testing.emulator.admin import handle_admin
from sheetqueue.sheets.testing.emulator.errors import ApiError, bad_request
from sheetqueue.sheets.testing.emulator.faults import Call
from sheetqueue.sheets.testing.emulator.service import SheetsService

__all__ = ["build_app"]

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def build_app(service: SheetsService) -> Starlette:
    """The ASGI app serving ``service``."""

    async def api(request: Request) -> Response:
        body, error = await _json_body(request)
        delay = service.faults.delay
        if delay:  # after reading the body: a client that gives up may still see its call land
            await asyncio.sleep(delay)
        if error is not None:
            kind = "read" if request.method == "GET" else "write"
            with service.lock:
                service.log.record(Call(request.method, request.url.path, kind, error.code))
            return JSONResponse(error.body(), status_code=error.code)
        with service.lock:
            try:
                service.auth.check(request.headers.get("authorization"), _book(request.url.path))
            except ApiError as refused:
                kind = "read" if request.method == "GET" else "write"
                service.log.record(Call(request.method, request.url.path, kind, refused.code))
                return JSONResponse(refused.body(), status_code=refused.code)
        slow = None
        if request.method == "POST" and request.url.path.endswith(":append"):
            with service.lock:
                slow = service.faults.take_slow_append()
        if slow is not None and slow[0]:
            await asyncio.sleep(slow[0])
        query = {key: request.query_params.getlist(key) for key in request.query_params}
        status, answer = service.handle(request.method, request.url.path, query, body)
        if slow is not None and slow[1]:
            await asyncio.sleep(slow[1])
        return JSONResponse(answer, status_code=status)

    async def control(request: Request) -> Response:
        body, error = await _json_body(request)
        if error is not None:
            return JSONResponse(error.body(), status_code=error.code)
        parts = [p for p in request.path_params["rest"].split("/") if p]
        status, answer = handle_admin(
            service, request.method, parts, dict(request.query_params), body
        )
        return JSONResponse(answer, status_code=status)

    async def token(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        fields = dict(parse_qsl(raw, keep_blank_values=True))  # a form, as Google's takes
        with service.lock:
            status, answer = service.auth.token(fields)
        return JSONResponse(answer, status_code=status)

    return Starlette(
        routes=[
            Route("/token", token, methods=["POST"]),
            Route("/v4/{rest:path}", api, methods=_METHODS),
            Route("/_emulator/{rest:path}", control, methods=_METHODS),
        ]
    )


async def _json_body(request: Request) -> tuple[Any, Any]:
    raw = await request.body()
    if not raw:
        return None, None
    try:
        return json.loads(raw), None
    except ValueError:
        return None, bad_request("Invalid JSON payload received.")


def _book(path: str) -> str:
    """The spreadsheet key of a ``/v4/spreadsheets/<key>...`` path ("" for none)."""
    rest = path.removeprefix("/v4/spreadsheets/")
    if rest == path:
        return ""
    return rest.split("/", 1)[0].split(":", 1)[0]
