"""The bot-facing HTTP API: routes, wiring and the app's life cycle.

:func:`create_app` is handed its store opener and clock (the composition
root passes the real ones, tests their own) and builds the rest: the durable
outbox and its flusher thread, the API's own store access, the lookup guard,
the rate limiter. The flusher starts with the app and, when the app stops,
makes one last best-effort flush; rows it could not send wait in the outbox file for the next start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse

from sheetqueue.bot_actions.api import actions as chat_actions
from sheetqueue.bot_actions.api import sheet_events
from sheetqueue.bot_actions.api.auth import BearerAuth, BodyLimit
from sheetqueue.bot_actions.api.errors import TooManyRequests, install_error_handlers
from sheetqueue.bot_actions.api.metrics import CountAnswers
from sheetqueue.bot_actions.api.ratelimit import Limiter, RateLimiter
from sheetqueue.bot_actions.api.schemas import (
    ActionCall,
    EligibilityBody,
    EligibilityReply,
    ErrorReply,
    HandoffBody,
    LookupBody,
    LookupReply,
    RecordBody,
    RecordReply,
    RetentionBody,
    ReturnErrorReply,
    ReturnOverdueReply,
    ReturnReply,
    ReturnsBody,
    StatusReply,
)
from sheetqueue.bot_actions.api.service import FrontDesk
from sheetqueue.bot_actions.api.store_access import StoreAccess
from sheetqueue.bot_actions.lookup import LookupGuard
from sheetqueue.bot_actions.order_copy import OrderCopy
from sheetqueue.bot_actions.outbox import Flusher
from sheetqueue.bot_actions.record import RecordResult, parse_new_request
from sheetqueue.bot_actions.returns import ReturnsPortal
from sheetqueue.config.clock import Clock
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.outbox import Outbox, open_outbox
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.team_events import TeamEvents
from sheetqueue.worker.health import Readiness, watch_outbox
from sheetqueue.worker.metrics import CONTENT_TYPE, Metrics

__all__ = ["create_app"]

MAX_BODY_BYTES = 64 * 1024
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorReply, "description": "Missing or wrong bearer token."},
    413: {"model": ErrorReply, "description": "Body over 64 KiB."},
    422: {
        "model": ErrorReply,
        "description": "A field is missing or wrong, or the body is not JSON; `field` names it.",
    },
    503: {"model": ErrorReply, "description": "The queue or the order data cannot be reached."},
}
_LOOKUP_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorReply, "description": "Unknown order or wrong email (same words)."},
    429: {
        "model": ErrorReply,
        "description": "Too many tries: from this client, on this order number, or in this "
        "conversation.",
    },
}


def create_app(
    settings: Settings,
    *,
    store_opener: Callable[[], Store],
    clock: Clock,
    orders_opener: Callable[[Store], OrderSource] | None = None,
    outbox: Outbox | None = None,
    guard: LookupGuard | None = None,
    limiter: Limiter | None = None,
    metrics: Metrics | None = None,
    portal: ReturnsPortal | None = None,
    batch_size: int = 500,
    flush_interval: float = 1.0,
    max_backoff: float = 60.0,
    snapshot_max_age: float = 5.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    reads_opener: Callable[[], Store] | None = None,
    orders_max_age: float = 30.0,
    orders_budget: float = 2.5,
    readiness: Readiness | None = None,
    events_opener: Callable[[], TeamEvents] | None = None,
    pass_now: Callable[[], None] | None = None,
) -> FastAPI:
    """The API for these settings; the flusher runs while the app is served.

    ``reads_opener`` opens the store the bot's reads use (lookups, eligibility,
    request status; the composition root gives one with short timeouts), the
    ``store_opener`` one by default. With ``tab:`` order data, the last good
    copy of the Orders tab is kept beside the state file, and a bot's order
    read waits at most ``orders_budget`` seconds for Sheets. ``events_opener``
    opens the sheet events' table (the state file by default); ``pass_now``
    asks this process's worker for a pass (without it, the state's mark asks).
    """
    metrics = metrics or Metrics()
    opener = store_opener
    outbox = outbox or open_outbox(settings)
    flusher = Flusher(
        outbox,
        opener,
        batch_size=batch_size,
        interval=flush_interval,
        max_backoff=max_backoff,
        clock=clock,
        metrics=metrics,
    )
    from_tab = settings.orders.startswith("tab:") and orders_opener is None
    access = StoreAccess(
        reads_opener or opener,
        orders_opener or (lambda store: open_order_source(settings, store)),
        max_age=snapshot_max_age,
        orders_max_age=orders_max_age,
        order_copy=OrderCopy.beside(settings.state_path) if from_tab else None,
        zone=settings.zone,
        budget=orders_budget,
        wall_clock=clock,
    )
    desk = FrontDesk(
        settings=settings,
        outbox=outbox,
        access=access,
        guard=guard or LookupGuard.from_settings(settings),
        portal=portal or ReturnsPortal.from_settings(settings),
        metrics=metrics,
        clock=clock,
    )
    limiter = limiter or RateLimiter(settings.lookup_rate_per_minute)
    watch_outbox(metrics, outbox, clock)
    readiness = readiness or Readiness(metrics, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        flusher.start()
        try:
            yield
        finally:
            flusher.stop()
            access.close()
            outbox.close()
            desk.guard.close()
            for table in app.state.sheet_events:
                table.close()

    app = FastAPI(
        title="sheetqueue",
        version="1",
        summary="Record shoppers' order requests in the queue; look up and check orders.",
        lifespan=lifespan,
    )
    app.state.desk, app.state.flusher, app.state.outbox = desk, flusher, outbox
    app.state.metrics = metrics
    install_error_handlers(app)
    _routes(app, desk, limiter, metrics)
    _readiness_route(app, readiness)
    sheet_events.install(
        app,
        settings=settings,
        access=access,
        events=events_opener or (lambda: TeamEvents(settings.state_path)),
        clock=clock,
        metrics=metrics,
        pass_now=pass_now,
    )
    _document_auth(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(BearerAuth, token=settings.api_token.get_secret_value())
    app.add_middleware(CountAnswers, metrics=metrics)
    return app


def _responses(code: int, model: type[Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": model, "description": description}, **_ERRORS}


def _record_reply(result: RecordResult, response: Response) -> RecordReply:
    response.status_code = 201 if result.created else 200
    return RecordReply(
        request_id=result.request_id,
        status=result.status,
        message=result.message,
        link=result.link or None,
    )


_Limit = Callable[[Request], str]
_Idempotency = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Send the same key again to get the same answer, never a second row.",
    ),
]


def _routes(app: FastAPI, desk: FrontDesk, limiter: Limiter, metrics: Metrics) -> None:
    def limit(request: Request) -> str:
        """Take a token for the client address (not the conversation, which it chooses)."""
        client = request.client.host if request.client else "unknown"
        wait = limiter.take(client)
        if wait > 0:
            metrics.inc("sheetqueue_lookups_limited_total")
            raise TooManyRequests(wait)
        return client

    _request_routes(app, desk)
    _order_routes(app, desk, limit)
    _platform_routes(app, desk, limit, metrics)


def _request_routes(app: FastAPI, desk: FrontDesk) -> None:

    @app.post(
        "/v1/requests",
        status_code=201,
        responses=_responses(200, RecordReply, "Asked before: the same request"),
        tags=["requests"],
    )
    async def record_request(
        body: RecordBody, response: Response, key: _Idempotency = ""
    ) -> RecordReply:
        """Record a request; answered once it is safely stored (201), or 200 for a repeat."""
        new = parse_new_request(body.model_dump(), complete=True)
        return _record_reply(await desk.record_async(new, key), response)

    @app.get(
        "/v1/requests/{request_id}",
        responses=_responses(404, ErrorReply, "Unknown, or not this email's"),
        tags=["requests"],
    )
    def request_status(
        request_id: Annotated[str, Path(max_length=64)],
        email: Annotated[str, Query(min_length=1, max_length=254)],
    ) -> StatusReply:
        """Where a request stands, with words for the shopper."""
        answer = desk.status(request_id, email)
        return StatusReply(**answer.__dict__)

    @app.post(
        "/v1/handoff",
        status_code=201,
        responses=_responses(200, RecordReply, "Asked before: the same handoff"),
        tags=["requests"],
    )
    def handoff(body: HandoffBody, response: Response, key: _Idempotency = "") -> RecordReply:
        """Hand the conversation to a person: a ``support`` request with its context."""
        result = desk.handoff(
            order_id=body.order_id,
            issue=body.issue,
            email=body.email,
            conversation_id=body.conversation_id,
            channel=body.channel,
            phone=body.phone,
            context=body.context,
            idempotency_key=key,
        )
        return _record_reply(result, response)


def _order_routes(app: FastAPI, desk: FrontDesk, limit: _Limit) -> None:
    @app.post(
        "/v1/orders/lookup",
        responses=_LOOKUP_ERRORS,
        tags=["orders"],
        response_model_exclude_none=True,
    )
    def lookup(body: LookupBody, request: Request) -> LookupReply:
        """What a verified shopper may see of their order."""
        client = limit(request)
        email, signed_in = body.identity()
        answer = desk.lookup(
            body.order_id, email, body.conversation_id, client=client, signed_in=signed_in
        )
        return LookupReply(order=answer.order, **answer.stale)

    @app.post(
        "/v1/eligibility",
        responses=_LOOKUP_ERRORS,
        tags=["orders"],
        response_model_exclude_none=True,
    )
    def eligibility(body: EligibilityBody, request: Request) -> EligibilityReply:
        """The decision the bot would get for this request now."""
        client = limit(request)
        email, signed_in = body.identity()
        answer = desk.eligibility(
            body.order_id,
            email,
            body.type,
            sku=body.sku,
            damaged=body.damaged,
            conversation_id=body.conversation_id,
            client=client,
            signed_in=signed_in,
        )
        return EligibilityReply(**answer.model_dump(exclude_none=True))

    @app.post("/v1/retention/offer", responses=_LOOKUP_ERRORS, tags=["orders"])
    def retention_offer(body: RetentionBody, request: Request) -> dict[str, Any]:
        """The next partial-refund offer before a cancellation, or why there is none."""
        limit(request)
        return desk.retention_offer(
            body.order_id,
            body.email,
            declined=body.declined,
            conversation_id=body.conversation_id,
        )

    @app.post("/v1/returns/initialise", responses=_LOOKUP_ERRORS, tags=["orders"])
    def initialise_return(
        body: ReturnsBody, request: Request
    ) -> ReturnReply | ReturnErrorReply | ReturnOverdueReply:
        """The returns-portal activity for the chat widget."""
        client = limit(request)
        payload = desk.initialise_return(
            body.order_id,
            body.email,
            step_type=body.step_type,
            inputs=body.inputs,
            conversation_id=body.conversation_id,
            client=client,
        )
        if payload["type"] == "initialise_return":
            return ReturnReply(**payload)
        if payload["type"] == "return_overdue":
            return ReturnOverdueReply(**payload)
        return ReturnErrorReply(**payload)


def _platform_routes(app: FastAPI, desk: FrontDesk, limit: _Limit, metrics: Metrics) -> None:
    @app.post(
        "/actions/{name}",
        responses=_responses(404, ErrorReply, "Unknown action"),
        tags=["chat platform"],
    )
    def action(
        name: Annotated[str, Path(max_length=64, examples=list(chat_actions.ACTIONS))],
        call: ActionCall,
        request: Request,
    ) -> dict[str, Any]:
        """``recordRequest``, ``getOrderDetails``, ``checkEligibility``, ``initialiseReturn``,
        ``handoff``: ``{"success": true, ...}`` or ``{"error": "..."}``."""
        raw = call.conversation.get("id", "")
        conversation = str(raw)[:128] if isinstance(raw, str | int) else ""
        args = chat_actions.with_signed_in(call.args, call.conversation.get("signedInEmail"))
        return chat_actions.run_action(desk, name, args, conversation, lambda: limit(request))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={401: _ERRORS[401]},
        tags=["operations"],
    )
    def metrics_text() -> PlainTextResponse:
        """Counters and gauges in the Prometheus text format."""
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)


def _readiness_route(app: FastAPI, readiness: Readiness) -> None:
    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Readiness: the store answers and, with a worker here, its last pass is recent (503)."""
        state = readiness.check()
        return JSONResponse(state, status_code=200 if state["ready"] else 503)


def _document_auth(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sheetSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Sheetqueue-Signature",
                    "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body, "
                    "keyed with SHEETQUEUE_SHEET_EVENTS_SECRET>",
                },
            }
            schema["components"].setdefault("schemas", {}).update(sheet_events.openapi_components())
            schema["security"] = [{"bearerAuth": []}]
            schema["paths"][sheet_events.PATH]["post"]["security"] = [
                {"sheetSignature": []},
                {"bearerAuth": []},
            ]
            schema["paths"]["/healthz"]["get"]["security"] = []
            schema["paths"]["/readyz"]["get"]["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
