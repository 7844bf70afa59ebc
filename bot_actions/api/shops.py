"""One HTTP API for many shops: each shop's own app, served under ``/shops/{shop}``.

Every shop's app is the one-shop API (:func:`~sheetqueue.bot_actions.api.create_app`)
on that shop's settings: its own store, outbox, idempotency keys, rate buckets,
lookup guard and API token. :func:`mount_shops` puts them side by side:
``/shops/north/v1/requests`` is north's ``/v1/requests``, with the same routes
and schemas. An unknown shop is a 404 with the usual error body, the same
words for every name (the names served are not told to callers).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.routing import Mount

from sheetqueue.bot_actions.api.errors import install_error_handlers
from sheetqueue.worker.health import Readiness

__all__ = ["PREFIX", "UNKNOWN_SHOP", "mount_shops"]

PREFIX = "/shops/{shop}"
UNKNOWN_SHOP = "Unknown shop."


def mount_shops(apps: Mapping[str, FastAPI], readiness: Mapping[str, Readiness]) -> FastAPI:
    """The API of every shop in ``apps`` (name -> that shop's app), each under its prefix."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:  # each shop's flusher starts and stops with us
            for shop_app in apps.values():
                await stack.enter_async_context(shop_app.router.lifespan_context(shop_app))
            yield

    app = FastAPI(
        title="sheetqueue",
        version="1",
        summary="Many shops: each shop's API under /shops/{shop}/v1/...",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for name, shop_app in apps.items():
        app.router.routes.append(Mount(f"/shops/{name}", app=shop_app))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """Readiness: every shop's store answers (503 naming the shops that do not)."""
        states = {name: ready.check() for name, ready in readiness.items()}
        ready = all(state["ready"] for state in states.values())
        return JSONResponse({"ready": ready, "shops": states}, status_code=200 if ready else 503)

    @app.api_route(
        "/shops/{shop}/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown_shop(shop: str, rest: str) -> JSONResponse:
        return JSONResponse({"error": UNKNOWN_SHOP}, status_code=404)

    _document(app, apps)
    return app


def _document(app: FastAPI, apps: Mapping[str, FastAPI]) -> None:
    """OpenAPI: one shop's document, its paths under ``/shops/{shop}``, plus the process's own."""
    names = list(apps)
    shop_parameter = {
        "name": "shop",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": names, "title": "Shop"},
        "description": "The shop's name in the shops file.",
    }
    unknown = {"description": "Unknown shop", "content": _error_content()}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        own = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        shop_doc = copy.deepcopy(next(iter(apps.values())).openapi())
        paths: dict[str, Any] = {}
        for path, operations in shop_doc.get("paths", {}).items():
            shop_ops: dict[str, Any] = {}
            for method, operation in operations.items():
                operation = dict(operation)
                operation["parameters"] = [shop_parameter, *operation.get("parameters", [])]
                operation["responses"] = {"404": unknown, **operation.get("responses", {})}
                if "operationId" in operation:
                    operation["operationId"] = f"shop_{operation['operationId']}"
                shop_ops[method] = operation
            paths[PREFIX + path] = shop_ops
        for path, operations in own.get("paths", {}).items():
            paths[path] = {
                method: {**operation, "security": []} for method, operation in operations.items()
            }
        schema = {**shop_doc, "info": own["info"], "paths": paths}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorReply"}}}
