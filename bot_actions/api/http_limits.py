"""How ``sheetqueue serve`` reads HTTP and guards the connection itself: sizes and read timeouts.

Requests are parsed by httptools (llhttp, in C) on uvloop's event loop;
``server_config(fast=False)`` gives uvicorn's pure-Python h11 parser on
asyncio's own loop instead, with the same guards.

uvicorn closes an idle keep-alive connection, but not one that sends a
request slowly: a client dripping one header byte a second would hold its
connection (and a slot) for ever. :class:`ReadTimeoutProtocol` gives every
request ``read_timeout`` seconds from the moment its connection opens (or
from its first byte, on a kept-alive connection) to arrive whole, headers
and body; a request still incomplete then has its connection closed.
Headers are capped at ``MAX_HEADER_BYTES`` (h11 answers 400 above), and at
most ``MAX_CONNECTIONS`` connections are served at once (503 above).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_HEADER_BYTES",
    "READ_TIMEOUT",
    "SWITCH_INTERVAL",
    "server_config",
]

READ_TIMEOUT = 10.0
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 500
SWITCH_INTERVAL = 0.001
"""Seconds a busy thread (the flusher, a snapshot read) may hold the GIL before it must
hand over: a request thread back from fsync or the socket waits at most this (Python's
default is 5 ms, paid several times per request while the flusher works)."""
_READ = (h11.IDLE, h11.SEND_BODY)


class _ReadDeadline(asyncio.Protocol):
    """The read deadline both protocols keep: armed, disarmed, and what closes a slow one."""

    read_timeout = READ_TIMEOUT
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self._still_reading() and not self.transport.is_closing():
            self.transport.close()

    def _still_reading(self) -> bool:
        raise NotImplementedError


class ReadTimeoutProtocol(_ReadDeadline, H11Protocol):
    """uvicorn's h11 protocol with a deadline for reading each request."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in _READ:
            if self._read_deadline is None:
                self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def _still_reading(self) -> bool:
        return self.conn.their_state in _READ


class FastReadTimeoutProtocol(_ReadDeadline, HttpToolsProtocol):
    """The same guards on uvicorn's httptools protocol: read deadline and header cap.

    The deadline is armed when the connection opens and at the first byte of
    each later request, and disarmed once the request is read whole. Bytes
    received while a request's head (request line and headers) is still
    incomplete are counted, and so are the parsed request target and headers;
    past ``MAX_HEADER_BYTES`` the answer is 400 and the connection is closed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = True  # no request being read: the next byte starts one
        self._in_head = True
        self._head_bytes = 0  # bytes received while the head is incomplete
        self._head_size = 0  # the parsed head's request target and headers
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._waiting and self._read_deadline is None:
            self._arm()
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        dripping = self._in_head and self._head_bytes > MAX_HEADER_BYTES
        if dripping and not self.transport.is_closing():
            self.send_400_response("Request headers too large.")

    def on_message_begin(self) -> None:
        self._waiting = False
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        too_large = self._head_size > MAX_HEADER_BYTES
        self._in_head, self._head_bytes, self._head_size = False, 0, 0
        if too_large:  # the whole head came at once: refused before any route sees it
            self._refused = True
            self.send_400_response("Request headers too large.")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        self._waiting = self._in_head = True
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def _still_reading(self) -> bool:
        return True  # still armed: the request has not arrived whole


def _no_delay(transport: asyncio.Transport) -> None:
    """Send each answer at once (TCP_NODELAY).

    asyncio sets it only on sockets made with ``IPPROTO_TCP``; a listening
    socket made with protocol 0 (as ``socket.socket(family, SOCK_STREAM)``
    does) hands out connections without it, and then the answer's body
    waits for the client's delayed ACK of its headers: 40 ms per request
    on a kept-alive connection.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def server_config(
    app: Any,
    host: str,
    port: int,
    *,
    read_timeout: float = READ_TIMEOUT,
    fast: bool = True,
    **options: Any,
) -> uvicorn.Config:
    """The uvicorn configuration ``serve`` runs with (tests use the same).

    ``fast``: httptools on uvloop (the default); False: h11 on asyncio.
    """
    base: type[Any] = FastReadTimeoutProtocol if fast else ReadTimeoutProtocol
    protocol = type("ReadTimeout", (base,), {"read_timeout": read_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        loop="uvloop" if fast else "asyncio",
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5,
        **options,
    )
