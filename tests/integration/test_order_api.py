"""The http(s) order source against a real HTTP server on 127.0.0.1: answers, retries, failures."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog

from sheetqueue.config.errors import OrderSourceError
from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.order_api import HttpOrderSource
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.sqlite_store import SqliteStore

ORDER = {
    "order_id": "ORD-1001",
    "email": "ana@example.com",
    "status": "shipped",
    "order_date": "2026-11-01",
    "items": [{"sku": "TEE-1", "name": "Classic Tee", "qty": 2, "price": 29.99}],
}
TOKEN = "s3cret-token-value"


class OrderApi:
    """A tiny order API: answers from a script, one step per request, then the last step."""

    def __init__(self) -> None:
        self.script: list[tuple[str, Any]] = [("json", (200, ORDER))]
        self.seen: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                api.seen.append(
                    {
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "auth": self.headers.get("Authorization"),
                    }
                )
                step = api.script.pop(0) if len(api.script) > 1 else api.script[0]
                kind, value = step
                if kind == "slow":
                    time.sleep(value)
                    kind, value = "json", (200, ORDER)
                status, body = value
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/orders"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> OrderApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def source(self, **overrides: Any) -> HttpOrderSource:
        options: dict[str, Any] = {"token": TOKEN, "timeout": 2.0, "backoff": 0.01}
        options.update(overrides)
        return HttpOrderSource(overrides.pop("url", self.url), **options)


@pytest.fixture
def api() -> Iterator[OrderApi]:
    """The order API, serving on 127.0.0.1."""
    with OrderApi() as server:
        yield server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_found_order_is_parsed_and_sent_with_params_and_token(api: OrderApi) -> None:
    """200 gives the order; the request carries order_id, email and the bearer token."""
    order = api.source().get("ORD-1001", "ana@example.com")
    assert order is not None and order.order_id == "ORD-1001"
    assert order.items[0].name == "Classic Tee"
    seen = api.seen[0]
    assert seen["query"] == {"order_id": ["ORD-1001"], "email": ["ana@example.com"]}
    assert seen["auth"] == f"Bearer {TOKEN}"


def test_no_token_sends_no_authorization_and_keeps_the_urls_query(api: OrderApi) -> None:
    """Without a token no Authorization header is sent; a query in the URL is kept."""
    source = HttpOrderSource(api.url + "?store=7", token="", timeout=2.0)
    assert source.get("ORD-1001", "ana@example.com") is not None
    assert api.seen[0]["auth"] is None
    assert api.seen[0]["query"]["store"] == ["7"]


def test_404_means_no_such_order(api: OrderApi) -> None:
    """A 404 answer is "not found", not an error, and is not retried."""
    api.script = [("json", (404, {"error": "not found"}))]
    assert api.source().get("ORD-404", "ana@example.com") is None
    assert len(api.seen) == 1


def test_two_500s_then_an_answer(api: OrderApi) -> None:
    """5xx answers are retried; the third try's order is returned."""
    api.script = [("json", (500, "oops")), ("json", (503, "busy")), ("json", (200, ORDER))]
    delays: list[float] = []
    order = api.source(sleep=delays.append, backoff=0.2).get("ORD-1001", "ana@example.com")
    assert order is not None
    assert len(api.seen) == 3
    assert len(delays) == 2
    assert 0.1 <= delays[0] <= 0.2 and 0.2 <= delays[1] <= 0.4


def test_always_500_gives_a_clear_error_without_secrets(api: OrderApi) -> None:
    """After the last try the error names the API and the problem, never the token or email."""
    api.script = [("json", (500, "oops"))]
    with pytest.raises(OrderSourceError) as caught:
        api.source().get("ORD-1001", "ana@example.com")
    message = str(caught.value)
    assert message == f"order API at {api.url} did not answer after 3 tries: HTTP 500"
    assert TOKEN not in message and "ana@" not in message
    assert len(api.seen) == 3


def test_slow_api_times_out_then_recovers(api: OrderApi) -> None:
    """A request that outlives the timeout is tried again; an API that stays slow is an error."""
    api.script = [("slow", 0.6), ("json", (200, ORDER))]
    assert api.source(timeout=0.2).get("ORD-1001", "ana@example.com") is not None
    api.script = [("slow", 0.6)]
    with pytest.raises(OrderSourceError, match=r"after 2 tries: no answer within 0.2 s"):
        api.source(timeout=0.2, retries=2).get("ORD-1001", "ana@example.com")


def test_api_down_is_a_clear_error() -> None:
    """Nothing listening on the port: the error says the API did not answer after 3 tries."""
    url = f"http://127.0.0.1:{_free_port()}/orders"
    source = HttpOrderSource(url, token=TOKEN, timeout=1.0, backoff=0.01)
    with pytest.raises(OrderSourceError, match=r"did not answer after 3 tries: cannot connect"):
        source.get("ORD-1001", "ana@example.com")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_not_retried(api: OrderApi, status: int) -> None:
    """401/403 say to check SHEETQUEUE_ORDERS_TOKEN at once, without the token itself."""
    api.script = [("json", (status, {"error": "no"}))]
    with pytest.raises(OrderSourceError, match="check SHEETQUEUE_ORDERS_TOKEN") as caught:
        api.source().get("ORD-1001", "ana@example.com")
    assert TOKEN not in str(caught.value)
    assert len(api.seen) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>", "not JSON"),
        ([ORDER], "did not answer a JSON object"),
        ({"order_id": "ORD-1001"}, "invalid order for ORD-1001"),
    ],
)
def test_unusable_answers_are_errors(api: OrderApi, body: Any, problem: str) -> None:
    """A 200 that is not one valid order object is an OrderSourceError naming the problem."""
    api.script = [("json", (200, body))]
    with pytest.raises(OrderSourceError, match=problem):
        api.source().get("ORD-1001", "ana@example.com")


def test_wrapped_order_is_accepted(api: OrderApi) -> None:
    """An API that answers {"order": {...}} works too."""
    api.script = [("json", (200, {"order": ORDER}))]
    order = api.source().get("ORD-1001", "ana@example.com")
    assert order is not None and order.status == "shipped"


def test_token_never_reaches_the_logs(api: OrderApi) -> None:
    """Retry warnings name the API without its query or token."""
    api.script = [("json", (502, "bad")), ("json", (200, ORDER))]
    with structlog.testing.capture_logs() as logs:
        api.source().get("ORD-1001", "ana@example.com")
    assert logs and logs[0]["event"] == "orders.api_retry"
    assert TOKEN not in repr(logs) and "ana@example.com" not in repr(logs)


def test_transport_can_be_plugged_in() -> None:
    """An httpx transport that is a plain function stands in for the network."""

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["order_id"] == "ORD-1001"
        return httpx.Response(200, json=ORDER)

    source = HttpOrderSource(
        "https://orders.invalid/api", token=TOKEN, transport=httpx.MockTransport(handler)
    )
    order = source.get("ORD-1001", "ana@example.com")
    assert order is not None and order.email == "ana@example.com"


def test_bootstrap_builds_the_http_source(api: OrderApi, sqlite_store: SqliteStore) -> None:
    """SHEETQUEUE_ORDERS=http://... with a token gives a working HttpOrderSource."""
    settings = load_settings(orders=api.url, orders_token=TOKEN, orders_timeout_seconds=2.0)
    source = open_order_source(settings, sqlite_store)
    assert isinstance(source, HttpOrderSource)
    assert source.get("ORD-1001", "ana@example.com") is not None
    assert api.seen[0]["auth"] == f"Bearer {TOKEN}"
