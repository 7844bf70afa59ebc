"""Counting HTTP answers by route template and status code, for ``/metrics``."""

from __future__ import annotations

from typing import Any

from sheetqueue.bot_actions.api.auth import ASGIApp, Message, Receive, Scope, Send
from sheetqueue.worker.metrics import Metrics

__all__ = ["CountAnswers"]


class CountAnswers:
    """ASGI wrapper: ``sheetqueue_http_requests_total{route, code}``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.inc("sheetqueue_http_requests_total", route=path, code=str(status))
