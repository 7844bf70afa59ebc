"""Concurrent requests through ``serve``, SIGKILL right after the last answer: every one is kept."""

from __future__ import annotations

import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.api_kit import write_orders
from tests.cli_runner import SheetqueueCli
from tests.outbox_kit import eventually, start_serve, stop
from tests.smtp_server import free_port

_THREADS = 20
_EACH = 6


def _post_some(port: int, thread: int) -> list[str]:
    """Post ``_EACH`` requests on one keep-alive connection; the Request IDs answered 201."""
    ids = []
    with httpx.Client(timeout=30) as client:
        for n in range(_EACH):
            answer = client.post(
                f"http://127.0.0.1:{port}/v1/requests",
                json={
                    "type": "return",
                    "order_id": f"ORD-K{thread:03d}{n:03d}",
                    "email": f"kill.{thread}.{n}@example.com",
                    "conversation_id": f"kill-{thread}-{n}",
                },
                headers={"Idempotency-Key": f"kill-{thread}-{n}"},
            )
            assert answer.status_code == 201, answer.text
            ids.append(str(answer.json()["request_id"]))
    return ids


def _queue_ids(path: Path) -> list[str]:
    store = SqliteStore(path)
    try:
        return [stored.request.request_id for stored in store.read_requests()]
    finally:
        store.close()


def _outbox_ids(path: Path) -> set[str]:
    box = Outbox(path)
    try:
        return {request.request_id for request in box.waiting(limit=10_000)}
    finally:
        box.close()


def test_concurrent_requests_answered_201_survive_a_sigkill_right_after_and_land_once(
    tmp_path: Path,
) -> None:
    """120 requests from 20 clients at once, SIGKILL after the last 201: all kept, landed once."""
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_ORDERS=f"file:{write_orders(tmp_path)}")
    port = free_port()
    server = start_serve(cli, port)
    try:
        with ThreadPoolExecutor(_THREADS) as pool:
            answered = [
                i for ids in pool.map(lambda t: _post_some(port, t), range(_THREADS)) for i in ids
            ]
    finally:
        stop(server, signal.SIGKILL)
    assert server.returncode == -signal.SIGKILL
    assert len(set(answered)) == _THREADS * _EACH
    kept = set(_queue_ids(tmp_path / "queue.db")) | _outbox_ids(tmp_path / "state.outbox.db")
    assert set(answered) <= kept, "a request answered 201 was not on disk"

    again = start_serve(cli, port)
    try:
        eventually(
            lambda: set(answered) <= set(_queue_ids(tmp_path / "queue.db")),
            30,
            "every answered request lands in the queue",
        )
    finally:
        stop(again)
    counts = Counter(_queue_ids(tmp_path / "queue.db"))
    assert sum(1 for i in answered if counts[i] != 1) == 0
