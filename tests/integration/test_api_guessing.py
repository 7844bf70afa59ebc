"""Guessing through the real server: limits a caller cannot dodge, and the HTTP edges."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bot_actions.api import create_app
from tests.api_kit import NOW, TOKEN, Api, SwitchedStore, make_settings, serve

ANA = {"order_id": "ORD-1001", "email": "ana@example.com"}


def _served(
    tmp_path: Path, read_timeout: float = 10.0, fast: bool = True, **settings: Any
) -> Iterator[Api]:
    values: dict[str, Any] = {"lookup_rate_per_minute": 100_000} | settings
    app = create_app(
        make_settings(tmp_path, **values),
        store_opener=SwitchedStore(tmp_path / "queue.db").open,
        clock=lambda: NOW,
        flush_interval=0.01,
    )
    with serve(app, read_timeout=read_timeout, fast=fast) as running:
        yield running


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _served(tmp_path)


def _answered_before_refusal(codes: list[int]) -> int:
    first = codes.index(429)
    assert set(codes[first:]) == {429}, "once refused, every later guess is refused"
    return first


def test_a_thousand_email_guesses_in_fresh_conversations_get_at_most_ten_answers(
    api: Api,
) -> None:
    """1,000 wrong emails for one order, each in a new conversation: <= 10 answers, then refusal."""
    codes = [
        api.post(
            "/v1/orders/lookup",
            {"order_id": "ORD-1001", "email": f"guess{n}@example.com", "conversation_id": f"c{n}"},
        ).status_code
        for n in range(1000)
    ]
    assert set(codes) <= {404, 429}
    assert _answered_before_refusal(codes) <= 10
    owner = api.post("/v1/orders/lookup", ANA | {"conversation_id": "the-real-owner"})
    assert owner.status_code == 429
    assert owner.json()["error"].startswith("For your security")


def test_walking_order_numbers_from_one_client_is_refused_after_ten(api: Api) -> None:
    """1,000 order numbers from one address, with fresh ids or none: <= 10 answers, then no."""
    codes = []
    for n in range(1000):
        body = {"order_id": f"ORD-{5000 + n}", "email": "ana@example.com"}
        if n % 2:
            body["conversation_id"] = f"walk-{n}"
        codes.append(api.post("/v1/orders/lookup", body).status_code)
    assert _answered_before_refusal(codes) <= 10


def test_misses_count_across_lookup_eligibility_and_chat_actions(tmp_path: Path) -> None:
    """The order's misses are shared by /v1/orders/lookup, /v1/eligibility and getOrderDetails."""
    for api in _served(tmp_path, lookup_order_max_failures=3, lookup_client_max_failures=100):
        wrong = {"order_id": "ORD-1001", "email": "eve@example.com"}
        assert api.post("/v1/orders/lookup", wrong | {"conversation_id": "a"}).status_code == 404
        assert (
            api.post("/v1/eligibility", wrong | {"type": "return", "conversation_id": "b"})
        ).status_code == 404
        action = api.post(
            "/actions/getOrderDetails",
            {"args": {"orderId": "ORD-1001", "email": "eve@example.com"}, "conversation": {}},
        )
        assert action.json()["error"].startswith("For your security")
        eligibility = api.post("/v1/eligibility", ANA | {"type": "return"})
        assert eligibility.status_code == 429


def test_a_lookup_without_a_conversation_is_not_locked_for_the_day(tmp_path: Path) -> None:
    """Two misses without a conversation id do not lock the order: the owner still gets in."""
    for api in _served(tmp_path):
        for guess in ("eve@example.com", "mallory@example.com"):
            body = {"order_id": "ORD-1001", "email": guess}
            assert api.post("/v1/orders/lookup", body).status_code == 404
        assert api.post("/v1/orders/lookup", ANA).status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe{", b"[" * 20_000 + b"]" * 20_000, b'{"order_id": "\xc3\x28"}'],
    ids=["not utf-8", "nested too deep", "bad utf-8 inside a string"],
)
def test_unreadable_bodies_get_the_documented_422(api: Api, body: bytes) -> None:
    """Bad UTF-8 or JSON nested too deep is 422 with error, field and detail, like broken JSON."""
    answer = api.session.post(
        api.url + "/v1/orders/lookup",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 422
    reply = answer.json()
    assert (reply["field"], reply["error"]) == ("body", "body: is not valid JSON")
    assert reply["detail"][0]["field"] == "body"


def test_unreachable_order_data_is_a_503_without_server_paths(tmp_path: Path) -> None:
    """A 503 tells the bot to try again; the file or host behind it stays in the log."""
    for api in _served(tmp_path, orders=f"file:{tmp_path / 'secret-folder' / 'orders.json'}"):
        answer = api.post("/v1/orders/lookup", ANA)
        assert answer.status_code == 503
        assert "secret-folder" not in answer.text and "/" not in answer.json()["error"]


def _closed_by_server(port: int, first_bytes: bytes) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if first_bytes:
            sock.sendall(first_bytes)
        try:
            return sock.recv(1024) == b""
        except TimeoutError:
            return False


@pytest.mark.parametrize(
    "first_bytes",
    [
        b"",
        b"POST /v1/orders/lookup HTTP/1.1\r\nHost: x\r\nX-Drip: ",
        b"POST /v1/orders/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + TOKEN.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"order',
    ],
    ids=["nothing sent", "headers never finished", "body never finished"],
)
@pytest.mark.parametrize("fast", [True, False], ids=["httptools", "h11"])
def test_slow_drip_connections_are_closed(tmp_path: Path, first_bytes: bytes, fast: bool) -> None:
    """A connection whose request does not arrive whole within the read timeout is closed."""
    for api in _served(tmp_path, read_timeout=0.5, fast=fast):
        port = int(api.url.rsplit(":", 1)[1])
        assert _closed_by_server(port, first_bytes)
        assert api.get("/healthz").status_code == 200


def test_openapi_lists_the_statuses_of_the_lookup(api: Api) -> None:
    """The lookup's OpenAPI entry lists 200, 401, 404, 413, 422, 429 and 503."""
    schema = api.get("/openapi.json").json()
    listed = set(schema["paths"]["/v1/orders/lookup"]["post"]["responses"])
    assert {"200", "401", "404", "413", "422", "429", "503"} <= listed


def _first_answer(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def test_headers_over_the_cap_are_refused_but_a_large_body_in_one_write_is_read(
    tmp_path: Path,
) -> None:
    """20 KiB of headers get 400 (sent whole or dripped); a 40 KiB body in one write is read."""
    for api in _served(tmp_path):
        port = int(api.url.rsplit(":", 1)[1])
        padding = b"X-Pad: " + b"a" * (20 * 1024) + b"\r\n"
        too_long = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n"
        assert _first_answer(port, too_long).startswith(b"HTTP/1.1 400")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(17):  # a head that never ends, a KiB at a time, past 16 KiB
                sock.sendall(b"X-Drip-" + str(_).encode() + b": " + b"b" * 1024 + b"\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 400")
        body = b'{"order_id": "ORD-1001", "email": "' + b"a" * (40 * 1024) + b'"}'
        big = (
            b"POST /v1/orders/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        assert _first_answer(port, big).startswith(b"HTTP/1.1 422")
        assert api.get("/healthz").status_code == 200
