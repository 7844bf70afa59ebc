"""Two ASGI guards in front of every route: the bearer token and the body size cap.

The token is compared in constant time (:func:`hmac.compare_digest`); every
path but ``/healthz`` and ``/readyz`` needs it when one is set. A body larger than
``max_bytes`` (by its ``Content-Length`` or as it streams in) is refused with
413 before any route reads it.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BearerAuth", "BodyLimit", "token_matches"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
SELF_CHECKED_PATHS = frozenset({"/v1/sheet-events"})  # signature or token, checked by the route


def token_matches(header: str, token: str) -> bool:
    """True when ``header`` is ``Bearer <token>``, compared in constant time."""
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


async def _answer(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BearerAuth:
    """401 unless ``Authorization: Bearer <token>`` (no check when the token is blank)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        open_path = _route_path(scope) in OPEN_PATHS | SELF_CHECKED_PATHS
        if scope["type"] != "http" or not self.token or open_path:
            await self.app(scope, receive, send)
            return
        header = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                header = value.decode("latin-1")
        if token_matches(header, self.token):
            await self.app(scope, receive, send)
            return
        await _answer(
            send,
            401,
            {"error": "Missing or wrong API token: send 'Authorization: Bearer <token>'."},
            [(b"www-authenticate", b"Bearer")],
        )


def _route_path(scope: Scope) -> str:
    """The path within this app (a shop's app mounted under ``/shops/<name>`` sees its own)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


class BodyLimit:
    """413 for bodies over ``max_bytes``; the body is read whole before the app sees it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)

    async def _refuse(self, send: Send) -> None:
        limit = f"{self.max_bytes // 1024} KiB"
        await _answer(send, 413, {"error": f"The body is too large (at most {limit})."}, [])


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[Message], last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered messages first, then the real stream."""
    queue = [*messages, *([last] if last is not None else [])]

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
