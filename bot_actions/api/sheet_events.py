"""``POST /v1/sheet-events``: the team's edits, posted by the sheet's Apps Script.

Authenticated by ``X-Sheetqueue-Signature: t=<unix seconds>,v1=<hex>`` (an
HMAC-SHA256 of ``"<t>." + raw body`` keyed with ``sheet_events_secret``) or by
``Authorization: Bearer <api_token>``; both compared in constant time. The
signed ``t`` (or the body's ``sent_at`` under a bearer token) must be within
five minutes of the server's clock. Each event is kept once, by its ``id``; a
replay is counted as a duplicate. Events for Request IDs not in the queue are
reported in ``unknown``. Accepted events ask the worker for a pass now (the
poll stays the safety net: a lost event changes nothing but speed). With
neither a secret nor a token set the route answers 404, saying so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from sheetqueue.bot_actions.api.auth import token_matches
from sheetqueue.bot_actions.api.errors import _validation_details
from sheetqueue.bot_actions.api.store_access import StoreAccess
from sheetqueue.config.clock import Clock
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.team_events import SheetEvent, TeamEvents
from sheetqueue.worker.metrics import Metrics

__all__ = ["PATH", "REPLAY_WINDOW_SECONDS", "SheetEventsBody", "SheetEventsReply", "install"]

log = structlog.get_logger("sheetqueue.api")

PATH = "/v1/sheet-events"
REPLAY_WINDOW_SECONDS = 300
SIGNATURE_HEADER = "x-sheetqueue-signature"
_SIGNATURE = re.compile(r"^\s*t=(\d{1,12})\s*,\s*v1=([0-9a-fA-F]{64})\s*$")
_OFF = (
    "Sheet events are off: set SHEETQUEUE_SHEET_EVENTS_SECRET (signed events) "
    "or SHEETQUEUE_API_TOKEN (bearer) to accept them."
)


class SheetEventIn(BaseModel):
    """One edit of a watched cell."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64, description="Unique per edit (idempotency key).")
    request_id: str = Field(min_length=1, max_length=64, description="The row's Request ID cell.")
    column: Literal["Status", "Team Note", "Shopper Message"]
    old: str = Field("", max_length=50_000)
    new: str = Field("", max_length=50_000)
    by: str = Field("", max_length=254, description="The editor's email; empty when not given.")
    at: AwareDatetime = Field(description="When the edit was made (ISO-8601 UTC).")


class SheetEventsBody(BaseModel):
    """A batch of edits, as the sheet's Apps Script sends it."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "sent_at": "2026-12-02T09:30:00.000Z",
                    "spreadsheet_id": "1AbC...",
                    "events": [
                        {
                            "id": "7f9c1e4a-5b7d-4f0e-9a51-1c2d3e4f5a6b",
                            "request_id": "REQ-7K2M9Q4T8V1X3Z6B",
                            "column": "Status",
                            "old": "Eligible",
                            "new": "Approved",
                            "by": "sam@shop.example",
                            "at": "2026-12-02T09:29:58.000Z",
                        }
                    ],
                }
            ]
        },
    )

    sent_at: AwareDatetime = Field(description="When the batch was sent (ISO-8601 UTC).")
    spreadsheet_id: str = Field("", max_length=200)
    events: Annotated[list[SheetEventIn], Field(min_length=1, max_length=100)]


class SheetEventsReply(BaseModel):
    accepted: int = Field(description="Events kept now.")
    duplicates: int = Field(description="Events kept before (same id): not kept again.")
    unknown: list[str] = Field(description="Request IDs not in the queue (their events ignored).")


class RefusedReply(BaseModel):
    error: str
    reason: Literal["missing", "signature", "token", "stale"]


class _Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_BODY_REF = "#/components/schemas/SheetEventsBody"


def openapi_components() -> dict[str, Any]:
    """The body's schemas for the OpenAPI document (the route reads the raw body itself)."""
    schema = SheetEventsBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components: dict[str, Any] = dict(schema.pop("$defs", {}))
    components["SheetEventsBody"] = schema
    return components


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` value for a body sent at ``timestamp``: lowercase hex HMAC-SHA256."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _check_time(sent: float, now: datetime, what: str) -> None:
    skew = sent - now.timestamp()
    if abs(skew) > REPLAY_WINDOW_SECONDS:
        raise _Refused(
            "stale",
            f"{what} is {abs(int(skew))} s from the server's clock (at most "
            f"{REPLAY_WINDOW_SECONDS} s): check the clock, or this is a replay",
        )


def _authenticate(headers: Mapping[str, str], raw: bytes, settings: Settings, now: datetime) -> str:
    """How the sender proved itself (``signature`` or ``token``), or _Refused.

    Under a bearer token the window is checked on ``sent_at`` once the body is read.
    """
    secret = settings.sheet_events_secret.get_secret_value()
    token = settings.api_token.get_secret_value()
    signed = headers.get(SIGNATURE_HEADER)
    if signed is not None:
        if not secret:
            raise _Refused("signature", "Signed events need SHEETQUEUE_SHEET_EVENTS_SECRET here.")
        match = _SIGNATURE.match(signed)
        if match is None:
            raise _Refused("signature", "X-Sheetqueue-Signature must be t=<unix seconds>,v1=<hex>.")
        timestamp = int(match.group(1))
        expected = signature(secret, timestamp, raw)
        if not hmac.compare_digest(expected.encode(), match.group(2).lower().encode()):
            raise _Refused("signature", "The signature does not match the body.")
        _check_time(float(timestamp), now, "the signature's t")
        return "signature"
    header = headers.get("authorization")
    if header is not None and token:
        if not token_matches(header, token):
            raise _Refused("token", "Wrong API token.")
        return "token"
    raise _Refused("missing", "Send X-Sheetqueue-Signature (or Authorization: Bearer <token>).")


def _invalid(exc: ValidationError) -> JSONResponse:
    errors = [{**error, "loc": ("body", *error.get("loc", ()))} for error in exc.errors()]
    field, message, details = _validation_details(errors)
    return JSONResponse({"error": message, "field": field, "detail": details}, status_code=422)


def _read(
    headers: Mapping[str, str], raw: bytes, settings: Settings, now: datetime, metrics: Metrics
) -> SheetEventsBody | JSONResponse:
    """The authenticated, valid body, or the answer refusing it (401, 422)."""
    try:
        how = _authenticate(headers, raw, settings, now)
        try:
            body = SheetEventsBody.model_validate_json(raw)
        except ValidationError as exc:
            return _invalid(exc)
        if how == "token":
            _check_time(body.sent_at.timestamp(), now, "sent_at")
    except _Refused as refused:
        metrics.inc("sheetqueue_sheet_events_total", result="refused")
        log.warning("sheet_events.refused", reason=refused.reason)
        return JSONResponse(
            {"error": refused.message, "reason": refused.reason},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"} if refused.reason == "token" else {},
        )
    wanted = settings.spreadsheet_id if settings.backend == "gsheets" else ""
    if wanted and body.spreadsheet_id and body.spreadsheet_id != wanted:
        message = "spreadsheet_id: is not this queue's spreadsheet"
        return JSONResponse({"error": message, "field": "spreadsheet_id"}, status_code=422)
    return body


def install(
    app: FastAPI,
    *,
    settings: Settings,
    access: StoreAccess,
    events: Callable[[], TeamEvents],
    clock: Clock,
    metrics: Metrics,
    pass_now: Callable[[], None] | None = None,
) -> None:
    """Add the route; ``events`` opens the events table on first use."""
    enabled = bool(
        settings.sheet_events_secret.get_secret_value() or settings.api_token.get_secret_value()
    )
    opened: list[TeamEvents] = []

    def table() -> TeamEvents:
        if not opened:
            opened.append(events())
        return opened[0]

    def keep(body: SheetEventsBody, now: datetime) -> SheetEventsReply:
        unknown = sorted({e.request_id for e in body.events if access.find(e.request_id) is None})
        known = [
            SheetEvent(e.id, e.request_id, e.column, e.new, e.by.strip(), e.at.isoformat())
            for e in body.events
            if e.request_id not in unknown
        ]
        kept = table().record(known, now)
        duplicates = len(known) - len(kept)
        if kept:
            if pass_now is not None:
                pass_now()
            else:
                table().want_pass(now)
        for result, count in (("accepted", len(kept)), ("duplicate", duplicates)):
            metrics.inc("sheetqueue_sheet_events_total", count, result=result)
        ignored = len(body.events) - len(known)
        metrics.inc("sheetqueue_sheet_events_total", ignored, result="unknown")
        log.info(
            "sheet_events.received",
            accepted=len(kept),
            duplicates=duplicates,
            unknown=unknown,
            statuses=[
                f"{e.request_id} -> {e.new} by {e.by or 'team'}"
                for e in kept
                if e.column == "Status"
            ],
        )
        return SheetEventsReply(accepted=len(kept), duplicates=duplicates, unknown=unknown)

    @app.post(
        PATH,
        status_code=202,
        tags=["sheet events"],
        response_model=SheetEventsReply,
        responses={
            401: {
                "model": RefusedReply,
                "description": "Missing or wrong signature or token, or `stale`: the time "
                "is over 5 minutes from the server's clock.",
            },
            404: {"description": "Sheet events are off (no secret and no token set)."},
            413: {"description": "Body over 64 KiB."},
            422: {
                "description": "A field is missing or wrong, or the body is not JSON; "
                "`field` names it."
            },
            503: {"description": "The queue cannot be reached; send the batch again later."},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": _BODY_REF}}},
            },
        },
    )
    async def sheet_events(request: Request) -> Any:
        """The team's edits of Status, Team Note and Shopper Message: kept once each, by id; a
        pass is asked for now (202)."""
        if not enabled:
            return JSONResponse({"error": _OFF}, status_code=404)
        now = clock()
        body = _read(request.headers, await request.body(), settings, now, metrics)
        if isinstance(body, JSONResponse):
            return body
        reply = await run_in_threadpool(keep, body, now)
        return JSONResponse(reply.model_dump(), status_code=202)

    app.state.sheet_events = opened
