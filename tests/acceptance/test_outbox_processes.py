"""The outbox through real processes: ``serve``, ``serve --with-worker`` and cron ``tick``.

The sheet is the Sheets emulator over HTTP; the bot posts with an
Idempotency-Key per request. Every request answered 2xx lands exactly once.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sheetqueue.sheets.testing.emulator import Emulator
from tests.outbox_kit import (
    appends,
    eventually,
    gsheets_cli,
    new_book,
    post_requests,
    sheet_ids,
    start_serve,
    stop,
    twice,
)
from tests.smtp_server import free_port
from tests.store_backends import shared_emulator

_DEPTH = re.compile(r"^sheetqueue_outbox_depth (\d+)", re.MULTILINE)


def _depth(port: int) -> int:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = _DEPTH.search(text)
    assert found is not None, text
    return int(found.group(1))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emulator = shared_emulator()
    yield emulator
    emulator.set_faults()
    emulator.set_quota()
    with emulator.lock:
        emulator.faults.clear()


def _landed(emulator: Emulator, book: str, acked: dict[str, str]) -> bool:
    return set(acked.values()) <= set(sheet_ids(emulator, book))


def test_serve_with_worker_posting_steadily_lands_each_request_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The flusher and the worker's pass both drain: 60 posted, 60 rows, none twice."""
    book = new_book(emulator)
    cli = gsheets_cli(tmp_path, emulator, book)
    emulator.set_faults(delay=0.02)  # every read-then-append takes a while
    port = free_port()
    server = start_serve(cli, port, "--with-worker")
    try:
        acked = post_requests(port, 60, prefix="steady", pace=0.03)
        eventually(lambda: _landed(emulator, book, acked), 60, "every answered request lands")
        eventually(lambda: _depth(port) == 0, 30, "the outbox is empty")
    finally:
        stop(server)
    ids = sheet_ids(emulator, book)
    assert len(acked) == 60
    assert (len(ids), twice(ids)) == (60, 0)


def test_serve_with_worker_sigkilled_with_a_full_outbox_restarts_without_duplicates(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Rows accepted while writes are refused, SIGKILL, restart: each lands once, none lost."""
    book = new_book(emulator)
    cli = gsheets_cli(tmp_path, emulator, book)
    port = free_port()
    emulator.set_quota(write_per_minute=0)
    server = start_serve(cli, port, "--with-worker")
    try:
        acked = post_requests(port, 30, prefix="full")
        assert _depth(port) == 30
    finally:
        stop(server, signal.SIGKILL)
    assert sheet_ids(emulator, book) == []
    emulator.set_quota()
    server = start_serve(cli, port, "--with-worker")
    try:
        eventually(lambda: _landed(emulator, book, acked), 60, "the waiting rows land")
        eventually(lambda: _depth(port) == 0, 30, "the outbox is empty")
    finally:
        stop(server)
    ids = sheet_ids(emulator, book)
    assert (len(ids), twice(ids)) == (30, 0)


def test_serve_append_outliving_the_timeout_lands_each_record_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Sheets timeout 1 s, appends taking 5 s: 5 records become 5 rows, none appended again."""
    book = new_book(emulator)
    cli = gsheets_cli(
        tmp_path,
        emulator,
        book,
        SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="1",
        SHEETQUEUE_SHEETS_LANDING_SECONDS="6",
    )
    port = free_port()
    server = start_serve(cli, port)
    emulator.reset_log()
    emulator.slow_appends(5, land_after=5.0)
    try:
        acked = post_requests(port, 5, prefix="slow")
        eventually(lambda: _landed(emulator, book, acked), 60, "the slow appends land")
        eventually(lambda: _depth(port) == 0, 60, "the held rows are found and marked landed")
    finally:
        stop(server)
    ids = sheet_ids(emulator, book)
    assert (len(ids), twice(ids)) == (5, 0)
    assert appends(emulator) == 5 - emulator.faults.slow_appends_left  # no fast re-send


def test_cron_tick_alone_lands_what_a_dead_api_accepted(emulator: Emulator, tmp_path: Path) -> None:
    """The API accepts while the sheet is missing, is SIGKILLed; a cron ``tick`` lands every row."""
    book = "sheet-created-later"
    cli = gsheets_cli(tmp_path, emulator, book)
    port = free_port()
    server = start_serve(cli, port)
    try:
        acked = post_requests(port, 8, prefix="cron")
        assert _depth(port) == 8
    finally:
        stop(server, signal.SIGKILL)
    new_book(emulator, book)
    # A kill during one of serve's append attempts leaves that batch in doubt: the tick
    # then looks its Request IDs up in the sheet at once (no landing wait) before sending.
    result = cli("tick", "--json", SHEETQUEUE_SHEETS_LANDING_SECONDS="0")
    assert result.code == 0, result.stderr
    ids = sheet_ids(emulator, book)
    assert sorted(ids) == sorted(acked.values())
    assert twice(ids) == 0
    assert result.json()["checked"] == 8
