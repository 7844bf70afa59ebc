"""Acceptance: a team edit in the sheet, its signed event, and the shopper's email, in seconds.

The sheet is the Sheets emulator over HTTP, the mail a real SMTP server on
127.0.0.1, sheetqueue real processes. The poll interval is 300 s, so only
the event can explain a pass before then: the email arriving before the next
poll is the behaviour under test. The seconds it took are printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.sheets.testing.emulator import Emulator
from tests.cli_runner import SheetqueueCli
from tests.outbox_kit import eventually, new_book, start_serve, stop
from tests.sheet_events_kit import (
    SECRET,
    answers_health,
    batch,
    done_mail,
    event,
    event_driven_cli,
    signed_headers,
    worker_passes,
)
from tests.smtp_server import SmtpServer, free_port
from tests.store_backends import shared_emulator, store_on

INTERVAL = 300
EDITOR = "sam.team@shop.example"
TOKEN = "serve-token-1b7e"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    yield shared_emulator()


def _passes(port: int) -> int:
    return worker_passes(f"http://127.0.0.1:{port}", TOKEN)


def _answers(port: int) -> bool:
    return answers_health(f"http://127.0.0.1:{port}")


def _seed(emulator: Emulator, book: str) -> str:
    """One cancellation of a processing order, as the bot records it: Pending."""
    store = store_on(emulator, book)
    try:
        new = parse_new_request(
            {
                "type": "cancellation",
                "order_id": "ORD-1002",
                "email": "ben@example.com",
                "conversation_id": "conv-sheet-event",
            }
        )
        return record_request(store, new, datetime.now(UTC)).request_id
    finally:
        store.close()


def _status(emulator: Emulator, book: str, request_id: str) -> str:
    rows = emulator.values(book, "Requests")
    ids, status = rows[0].index("Request ID"), rows[0].index("Status")
    return next(str(r[status]) for r in rows[1:] if len(r) > ids and r[ids] == request_id)


def _row(emulator: Emulator, book: str, request_id: str) -> int:
    rows = emulator.values(book, "Requests")
    ids = rows[0].index("Request ID")
    return next(n for n, r in enumerate(rows[1:], start=2) if len(r) > ids and r[ids] == request_id)


def _cli(tmp_path: Path, emulator: Emulator, book: str, smtp: SmtpServer) -> SheetqueueCli:
    return event_driven_cli(
        tmp_path, emulator, book, smtp.url(), interval=INTERVAL, secret=SECRET, token=TOKEN
    )


def _team_marks_done(emulator: Emulator, book: str, request_id: str, port: int) -> float:
    """The team types Done; the script posts the signed event. Returns when it was posted."""
    emulator.edit_cell(book, "Requests", _row(emulator, book, request_id), "Status", "Done")
    sent = time.monotonic()
    now = datetime.now(UTC)
    body = batch([event(request_id, "Done", by=EDITOR, old="Eligible")], now, book)
    answer = httpx.post(
        f"http://127.0.0.1:{port}/v1/sheet-events",
        content=body,
        headers=signed_headers(body, int(now.timestamp())),
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 1, "duplicates": 0, "unknown": []}
    return sent


@dataclass(frozen=True)
class _EventTimes:
    """When the last poll had run, the event was posted, the email arrived; passes after it."""

    polled: float
    sent: float
    arrived: float
    passes: int


def _event_to_email(
    emulator: Emulator, book: str, request_id: str, smtp: SmtpServer, port: int, metrics_port: int
) -> _EventTimes:
    """After the worker's first pass, the team marks Done (event to ``port``) until the email."""
    eventually(lambda: _passes(metrics_port) >= 1, 30, "the worker's first pass")
    polled = time.monotonic()
    assert _status(emulator, book, request_id) == "Eligible"
    sent = _team_marks_done(emulator, book, request_id, port)
    eventually(lambda: done_mail(smtp, request_id), 60, "the shopper's Done email")
    arrived = time.monotonic()
    # the email goes out inside the pass; the pass counts once it has finished
    eventually(lambda: _passes(metrics_port) >= 2, 30, "the event's pass finished")
    return _EventTimes(polled, sent, arrived, _passes(metrics_port))


def _editor_logged(cli: SheetqueueCli, emulator: Emulator, book: str, request_id: str) -> None:
    """``sheetqueue log`` and the Log tab name the editor of the team's change."""
    shown = cli("log", "--request", request_id, "--json")
    assert shown.code == 0, shown.stderr
    done = [e for e in shown.json() if e["to_status"] == "Done"]
    assert [(e["from_status"], e["by"]) for e in done] == [("Eligible", EDITOR)]
    table = cli("log", "--request", request_id, COLUMNS="200")
    assert EDITOR in table.stdout
    tab = emulator.values(book, "Log")
    by = tab[0].index("By")
    assert [r[by] for r in tab[1:] if request_id in r and "Done" in r] == [EDITOR]


def test_a_signed_event_reaches_the_shopper_before_the_next_poll_with_worker_in_serve(
    emulator: Emulator, tmp_path: Path
) -> None:
    """serve --with-worker, 300 s interval: the event's pass emails the shopper in seconds."""
    book = new_book(emulator)
    request_id = _seed(emulator, book)
    with SmtpServer() as smtp:
        cli = _cli(tmp_path, emulator, book, smtp)
        port = free_port()
        server = start_serve(cli, port, "--with-worker")
        try:
            times = _event_to_email(emulator, book, request_id, smtp, port, port)
        finally:
            stop(server)
    took = times.arrived - times.sent
    print(f"\nsheet event -> shopper email (serve --with-worker): {took:.2f} s")
    assert times.arrived - times.polled < INTERVAL  # no poll ran: the event asked for this pass
    assert times.passes == 2
    _editor_logged(cli, emulator, book, request_id)


def test_a_signed_event_wakes_a_separate_worker_through_the_state_mark(
    emulator: Emulator, tmp_path: Path
) -> None:
    """serve and sheetqueue worker as two processes on one state: the mark wakes the worker."""
    book = new_book(emulator)
    request_id = _seed(emulator, book)
    with SmtpServer() as smtp:
        cli = _cli(tmp_path, emulator, book, smtp)
        port, metrics_port = free_port(), free_port()
        logs = (tmp_path / "worker.log").open("w"), (tmp_path / "serve.log").open("w")
        worker = cli.popen_logged(logs[0], "worker", "--metrics-port", str(metrics_port))
        server = cli.popen_logged(logs[1], "serve", "--port", str(port))
        try:
            eventually(lambda: _answers(port), 30, "sheetqueue serve answers")
            times = _event_to_email(emulator, book, request_id, smtp, port, metrics_port)
        finally:
            for process in (server, worker):
                process.terminate()
                process.wait(30)
            for log in logs:
                log.close()
    took = times.arrived - times.sent
    print(f"\nsheet event -> shopper email (separate worker): {took:.2f} s")
    written = (tmp_path / "serve.log").read_text() + (tmp_path / "worker.log").read_text()
    assert "sheet_events.received" in written
    assert EDITOR not in written and "s***@s***.example" in written  # masked in the logs
    assert times.arrived - times.polled < INTERVAL
    assert times.passes == 2
    _editor_logged(cli, emulator, book, request_id)
