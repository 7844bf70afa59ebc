"""Acceptance: the Apps Script companion and ``serve --with-worker``, end to end with real parts.

The sheet is the Sheets emulator over HTTP (edited through gspread, as a
person's typing reaches it), the mail a real SMTP server on 127.0.0.1,
``sheetqueue serve --with-worker`` and ``sheetqueue apps-script`` real
processes, and the script the latter prints runs under Node with stand-ins
for Google's services whose UrlFetchApp makes real HTTP requests to serve.
The poll interval is 300 s, so only the script's event can explain a pass
before then. The seconds from the edit to the shopper's email are printed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from tests.apps_script_kit import NODE, run_script
from tests.cli_runner import SheetqueueCli
from tests.outbox_kit import eventually, new_book, stop
from tests.sheet_events_kit import answers_health, done_mail, event_driven_cli, worker_passes
from tests.smtp_server import SmtpServer, free_port
from tests.store_backends import shared_emulator, store_on

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node (Node.js) is not on PATH; `make test` installs it with apt-get"
)

INTERVAL = 300
SECRET = "shop-secret-e2e-7c1d"
TOKEN = "serve-token-e2e-4a90"
EDITOR = "sam.team@shop.example"
QUEUE_COUNT = "sheetqueue.queue.n"


@dataclass
class Shop:
    emulator: Emulator
    book: str
    cli: SheetqueueCli
    port: int
    smtp: SmtpServer
    requests: list[str]
    folder: Path

    @property
    def log(self) -> Path:
        """What serve wrote (stdout and stderr)."""
        return self.folder / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _seed(emulator: Emulator, book: str, count: int) -> list[str]:
    """``count`` cancellations of one processing order (the first by its buyer): Pending."""
    store = store_on(emulator, book)
    try:
        return [
            record_request(
                store,
                parse_new_request(
                    {
                        "type": "cancellation",
                        "order_id": "ORD-1002",
                        "email": "ben@example.com" if n == 0 else f"ben.{n}@example.com",
                        "conversation_id": f"conv-e2e-{n}",
                    }
                ),
                datetime.now(UTC),
            ).request_id
            for n in range(count)
        ]
    finally:
        store.close()


def _answers(shop: Shop) -> bool:
    return answers_health(shop.url)


def _passes(shop: Shop) -> int:
    return worker_passes(shop.url, TOKEN)


@contextmanager
def _shop_at(folder: Path) -> Iterator[Shop]:
    """serve --with-worker on a fresh emulator sheet of three requests, after its first pass."""
    emulator = shared_emulator()
    book = new_book(emulator)
    requests = _seed(emulator, book, 3)
    with SmtpServer() as smtp:
        cli = event_driven_cli(
            folder, emulator, book, smtp.url(), interval=INTERVAL, secret=SECRET, token=TOKEN
        )
        port = free_port()
        shop = Shop(emulator, book, cli, port, smtp, requests, folder)
        with shop.log.open("wb") as log:
            server = cli.popen_logged(log, "serve", "--port", str(port), "--with-worker")
            try:
                eventually(lambda: server.poll() is None and _answers(shop), 30, "serve answers")
                eventually(lambda: _passes(shop) >= 1, 30, "the first pass at start")
                yield shop
            finally:
                stop(server)


@pytest.fixture
def fresh_shop(tmp_path: Path) -> Iterator[Shop]:
    """A serve of this test alone (its passes are counted)."""
    with _shop_at(tmp_path) as shop:
        yield shop


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """One serve for the tests that look only at what the endpoint answers the script."""
    with _shop_at(tmp_path_factory.mktemp("shop")) as shop:
        yield shop


def _script(shop: Shop, secret: str = SECRET) -> Path:
    """The script as ``sheetqueue apps-script --url <serve>`` prints it (a subprocess)."""
    done = shop.cli("apps-script", "--url", shop.url, SHEETQUEUE_SHEET_EVENTS_SECRET=secret)
    assert done.code == 0, done.stderr
    path = shop.folder / f"Code-{hashlib.sha256(secret.encode()).hexdigest()[:8]}.gs"
    path.write_text(done.stdout, encoding="utf-8")
    return path


def _type(shop: Shop, request_id: str, column: str, value: str) -> tuple[int, int, str]:
    """A team member types ``value`` into the row's cell, through gspread: (row, column, old)."""
    assert shop.emulator.url is not None
    sheet = emulator_client(shop.emulator.url).open_by_key(shop.book).worksheet("Requests")
    rows = sheet.get_all_values()
    ids = rows[0].index("Request ID")
    row = next(n for n, r in enumerate(rows, start=1) if r[ids] == request_id)
    col = rows[0].index(column) + 1
    old = rows[row - 1][col - 1]
    sheet.update_cell(row, col, value)
    return row, col, old


def _tabs(shop: Shop) -> dict[str, list[list[str]]]:
    """The sheet as the script's SpreadsheetApp sees it: the emulator's display values now."""
    assert shop.emulator.url is not None
    book = emulator_client(shop.emulator.url).open_by_key(shop.book)
    return {tab: book.worksheet(tab).get_all_values() for tab in ("Requests", "Log")}


def _fire(
    shop: Shop, code: Path, edit: tuple[int, int, str], value: str, **scenario: Any
) -> dict[str, Any]:
    """Run the script's onSheetEdit under Node for that edit, by the editor; its report."""
    row, col, old = edit
    step = {
        "call": "onSheetEdit",
        "edit": {
            "tab": "Requests",
            "row": row,
            "column": col,
            "old": old,
            "value": value,
            "user": EDITOR,
        },
    }
    report = run_script(code, _tabs(shop), [step], spreadsheet_id=shop.book, **scenario)
    assert report["forbidden"] == [] and report["locks_held"] == 0
    return report


def test_a_status_typed_in_the_sheet_reaches_the_shopper_through_the_script(
    fresh_shop: Shop,
) -> None:
    """Status typed, script fires: 202, queue empty, email before the next poll, log by editor."""
    shop = fresh_shop
    request_id = shop.requests[0]
    code = _script(shop)
    polled = time.monotonic()
    before = _passes(shop)
    edited = time.monotonic()
    report = _fire(shop, code, _type(shop, request_id, "Status", "Done"), "Done")
    assert [f["code"] for f in report["fetches"]] == [202], report["console"]
    assert report["props"][QUEUE_COUNT] == "0"
    eventually(lambda: done_mail(shop.smtp, request_id), 60, "the shopper's Done email")
    arrived = time.monotonic()
    print(f"\nsheet edit -> Apps Script -> shopper email: {arrived - edited:.2f} s")
    assert arrived - polled < INTERVAL  # no poll could have run: the event asked for this pass
    # the email goes out inside the pass; the pass counts once it has finished
    eventually(lambda: _passes(shop) > before, 30, "the event's pass finished")
    assert _passes(shop) == before + 1
    shown = shop.cli("log", "--request", request_id, "--json")
    assert shown.code == 0, shown.stderr
    done = [e for e in shown.json() if e["to_status"] == "Done"]
    assert [(e["from_status"], e["by"]) for e in done] == [("Eligible", EDITOR)]
    lines = [json.loads(line) for line in shop.log.read_text().splitlines() if line[:1] == "{"]
    received = [line for line in lines if line["event"] == "sheet_events.received"]
    assert [line["accepted"] for line in received] == [1]  # what install step 4 looks for
    assert EDITOR not in shop.log.read_text()  # masked


def test_non_ascii_notes_and_messages_are_accepted_over_their_exact_bytes(shop: Shop) -> None:
    """A Team Note and a Shopper Message in other scripts (sent as \\uXXXX): both 202."""
    code = _script(shop)
    for request_id, column, text in (
        (shop.requests[1], "Team Note", "Adresse geändert: Straße 5 — 東京 🚚"),
        (shop.requests[2], "Shopper Message", "Ваш заказ отменён. ¡Gracias! 😊"),
    ):
        report = _fire(shop, code, _type(shop, request_id, column, text), text)
        assert [f["code"] for f in report["fetches"]] == [202], report["console"]
        assert report["props"][QUEUE_COUNT] == "0"


def test_a_script_with_the_wrong_secret_is_refused_and_keeps_its_batch(shop: Shop) -> None:
    """Wrong secret: 401, the event stays queued; the right script sends it on its next flush."""
    request_id = shop.requests[1]
    wrong = _fire(
        shop, _script(shop, "not-the-shop-secret"), _type(shop, request_id, "Team Note", "x"), "x"
    )
    assert [f["code"] for f in wrong["fetches"]] == [401]
    assert wrong["props"][QUEUE_COUNT] == "1"
    assert any("HTTP 401" in line["text"] for line in wrong["console"])
    assert "sheet_events.refused" in shop.log.read_text()
    queued = {k: v for k, v in wrong["props"].items() if k.startswith("sheetqueue.queue.")}
    right = run_script(
        _script(shop),
        _tabs(shop),
        [{"call": "flushSheetEvents"}],
        spreadsheet_id=shop.book,
        props=queued,
    )
    assert [f["code"] for f in right["fetches"]] == [202], right["console"]
    assert right["props"][QUEUE_COUNT] == "0"


def test_a_value_cut_at_the_limit_keeps_whole_characters_and_is_accepted(shop: Shop) -> None:
    """A note longer than the script's 2,000-char cut, an emoji at the cut: 202, not refused."""
    text = "a" * 1999 + "🚚" + "b" * 50
    report = _fire(shop, _script(shop), _type(shop, shop.requests[1], "Team Note", text), text)
    assert [f["code"] for f in report["fetches"]] == [202], report["console"]
    assert report["props"][QUEUE_COUNT] == "0"


def test_a_paste_of_a_hundred_long_notes_is_sent_in_bodies_the_endpoint_takes(shop: Shop) -> None:
    """100 pasted 1,500-char notes (over 64 KiB in one body): every event sent, none dropped."""
    header = _tabs(shop)["Requests"][0]
    note = header.index("Team Note") + 1
    rows = [[""] * len(header) for _ in range(100)]
    for n, line in enumerate(rows):
        line[header.index("Request ID")] = f"REQ-PASTED{n:08d}"
    paste = [["Nachricht für das Lager: " + "é" * 1475] for _ in rows]
    step = {
        "call": "onSheetEdit",
        "edit": {
            "tab": "Requests",
            "row": 2,
            "column": note,
            "rows": 100,
            "columns": 1,
            "values": paste,
            "user": EDITOR,
        },
    }
    tabs = {"Requests": [header, *rows]}
    report = run_script(_script(shop), tabs, [step], spreadsheet_id=shop.book)
    assert report["forbidden"] == []
    assert len(report["fetches"]) > 1, "one body of 100 such notes is over 64 KiB"
    assert {f["code"] for f in report["fetches"]} == {202}, report["console"]
    assert report["props"][QUEUE_COUNT] == "0"


def test_a_row_whose_request_id_is_no_queue_id_does_not_sink_the_batch(shop: Shop) -> None:
    """A pasted row with a 70-char Request ID is skipped; the other row's event is accepted."""
    header = _tabs(shop)["Requests"][0]
    status = header.index("Status") + 1
    rows = [[""] * len(header) for _ in range(2)]
    rows[0][header.index("Request ID")] = "pasted by mistake: " + "x" * 51
    rows[1][header.index("Request ID")] = "REQ-PASTEDOK0000001"
    step = {
        "call": "onSheetEdit",
        "edit": {
            "tab": "Requests",
            "row": 2,
            "column": status,
            "rows": 2,
            "columns": 1,
            "values": [["Approved"], ["Approved"]],
            "user": EDITOR,
        },
    }
    report = run_script(
        _script(shop), {"Requests": [header, *rows]}, [step], spreadsheet_id=shop.book
    )
    assert [f["code"] for f in report["fetches"]] == [202], report["console"]
    assert report["props"][QUEUE_COUNT] == "0"
