"""Helpers for the HTTP API tests: a real uvicorn server on 127.0.0.1, orders, a store switch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import uvicorn
from fastapi import FastAPI

from sheetqueue.bot_actions.api import create_app
from sheetqueue.bot_actions.api.http_limits import server_config
from sheetqueue.bot_actions.returns import ReturnsPortal
from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import AddResult
from tests.factories import make_order_record

__all__ = [
    "NOW",
    "TOKEN",
    "Api",
    "SwitchedStore",
    "make_settings",
    "serve",
    "serve_whole_app",
    "write_orders",
]

TOKEN = "test-token-8c1f"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def write_orders(folder: Path) -> Path:
    """Three orders: delivered (returnable), processing, and final sale."""
    path = folder / "orders.json"
    orders = [
        make_order_record(
            order_id="ORD-1001",
            status="delivered",
            shipped_at="2026-11-03",
            delivered_at="2026-11-05",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
        make_order_record(order_id="ORD-1002", email="ben@example.com"),
        make_order_record(
            order_id="ORD-1003",
            email="cy@example.com",
            status="delivered",
            delivered_at="2026-11-05",
            items=[{"sku": "SALE-1", "name": "Sale hat", "qty": 1, "final_sale": True}],
        ),
    ]
    path.write_text(json.dumps(orders))
    return path


def make_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings for a local store, order file and state in ``folder``."""
    values: dict[str, Any] = {
        "local_path": folder / "queue.db",
        "state_path": folder / "state.db",
        "orders": f"file:{write_orders(folder)}",
        "notify": [f"maildir:{folder / 'mail'}"],
        "api_token": TOKEN,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class SwitchedStore:
    """A real SQLite store that can be made to fail like a sheet that is down."""

    path: Path
    down: threading.Event = field(default_factory=threading.Event)
    appends: list[int] = field(default_factory=list)

    def open(self) -> _Switched:
        return _Switched(self.path, self)

    def rows(self) -> list[Request]:
        store = SqliteStore(self.path)
        try:
            return [stored.request for stored in store.read_requests()]
        finally:
            store.close()


class _Switched(SqliteStore):
    def __init__(self, path: Path, switch: SwitchedStore) -> None:
        super().__init__(path)
        self._switch = switch

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        if self._switch.down.is_set():
            raise StoreError("the sheet is over quota (429); try again later")
        self._switch.appends.append(len(requests))
        return super().add_requests(requests)


@dataclass
class Api:
    """A running server: its base URL, the app, and a client with the token."""

    url: str
    app: FastAPI
    session: requests.Session

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url + path, timeout=10, **kwargs)


@contextmanager
def serve(
    app: FastAPI, token: str = TOKEN, *, read_timeout: float = 10.0, fast: bool = True
) -> Iterator[Api]:
    """Run ``app`` on a free port of 127.0.0.1, configured as ``serve`` runs it, until the end.

    ``fast=False``: the h11 parser on asyncio's loop instead of httptools on uvloop.
    """
    config = server_config(
        app,
        "127.0.0.1",
        0,
        read_timeout=read_timeout,
        fast=fast,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    try:
        yield Api(f"http://127.0.0.1:{port}", app, session)
    finally:
        session.close()
        server.should_exit = True
        thread.join(15)


@contextmanager
def serve_whole_app(
    folder: Path, *, portal: ReturnsPortal | None = None, **settings: Any
) -> Iterator[Api]:
    """The whole app (every route, a returns portal) on a SQLite queue in ``folder``, served.

    ``settings`` go to :func:`make_settings`; the portal is ``flow-1``/``acct-1`` unless given.
    """
    app = create_app(
        make_settings(folder, **settings),
        store_opener=SwitchedStore(folder / "queue.db").open,
        clock=lambda: NOW,
        portal=portal or ReturnsPortal("flow-1", "acct-1"),
        flush_interval=0.01,
    )
    with serve(app) as api:
        yield api
