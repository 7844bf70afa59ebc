"""The team's Label column as the label source: the approval email waits for it, then goes once.

Both stores, a real SMTP server, and on the Google Sheet real gspread over HTTP
against the emulator (the team adds the Label column after the worker adopted
the tab, and types into it through the Sheets API as the sheet's editor would).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_layout import column_letters
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import CellUpdate, Store
from sheetqueue.worker.tick import Worker
from tests.factories import day, make_order_record
from tests.smtp_server import SmtpServer
from tests.store_backends import gsheets_settings, shared_emulator, store_on

LINK = "https://labels.example/ORD-1001.pdf"
_LABEL_COLUMN = len(CANONICAL_HEADER) + 1  # one blank team column between, as teams leave them


@dataclass
class _Shop:
    """One shop's queue, the worker over it, and how the team types into the Label column."""

    store: Store
    settings: Settings
    worker: Worker

    def record(self, order_id: str = "ORD-1001") -> str:
        new = parse_new_request(
            {"type": "return", "order_id": order_id, "email": "ana@example.com"}
        )
        return record_request(self.store, new, day(3)).request_id

    def row(self, request_id: str) -> Request:
        return next(
            s.request for s in self.store.read_requests() if s.request.request_id == request_id
        )

    def type_into(self, request_id: str, **values: str) -> None:
        """A team member's edit: the store's own checked write, or the Sheets API itself."""
        [found] = [s for s in self.store.read_requests() if s.request.request_id == request_id]
        if isinstance(self.store, GsheetsStore) and "label" in values:
            cell = f"'Requests'!{column_letters(_LABEL_COLUMN)}{found.ref.position}"
            self.store.api.update(cell, [[values.pop("label")]])
        if values:
            expect = {"request_id": request_id}
            assert self.store.update_cells([CellUpdate(found.ref, expect, values)]).applied

    def lose_state(self) -> None:
        """The state file is deleted (a new host, a container without a volume)."""
        self.worker.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.settings.state_path}{suffix}").unlink(missing_ok=True)
        self.worker = build_worker(self.settings, self.store)


@pytest.fixture(params=["sqlite", "gsheets"])
def shop(request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer) -> Iterator[_Shop]:
    orders = [
        make_order_record(
            order_id=f"ORD-100{n}", status="delivered", delivered_at=day(0).isoformat()
        )
        for n in (1, 2)
    ]
    common: dict[str, Any] = {
        "state_path": tmp_path / "state.db",
        "notify": [smtp.url()],
        "label_source": "column",
        "mail_from": "help@teeshop.example",
    }
    store: Store
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "queue.db")
        settings = Settings(local_path=tmp_path / "queue.db", **common)
    else:
        emulator = shared_emulator()
        book = emulator.create_spreadsheet(
            "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
        )
        store = store_on(emulator, book)
        settings = gsheets_settings(emulator, book, **common)
    store.replace_orders(orders)
    made = _Shop(store, settings, build_worker(settings, store))
    if isinstance(store, GsheetsStore):  # adopted first, then the team adds its Label column
        made.worker.run_pass(day(2))
        store.api.update(f"'Requests'!{column_letters(_LABEL_COLUMN)}1", [["Label"]])
    try:
        yield made
    finally:
        made.worker.close()
        store.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _approvals(smtp: SmtpServer) -> list[str]:
    return [m.body() for m in smtp.messages if "approved" in str(m.message["Message-ID"])]


def test_the_approval_waits_for_the_label_column_then_goes_once(
    shop: _Shop, smtp: SmtpServer
) -> None:
    """Empty Label: no email and a note; filled: one email with the link; never again."""
    request_id = shop.record()
    shop.worker.run_pass(day(3.1))
    shop.type_into(request_id, status="Approved")

    for hour in (1, 2):
        report = shop.worker.run_pass(day(3.2 + hour / 24))
        assert report.failed == 0
    row = shop.row(request_id)
    assert _approvals(smtp) == []
    assert "waiting for a label in the Label column" in row.worker_note
    assert row.worker_note.count("waiting for a label") == 1

    shop.type_into(request_id, label=f"{LINK} 1Z999AA10123456784 UPS")
    shop.worker.run_pass(day(3.5))
    shop.worker.run_pass(day(3.6))
    [body] = _approvals(smtp)
    assert f"Your prepaid return label: {LINK}" in body
    assert "Tracking number: 1Z999AA10123456784" in body and "Carrier: UPS" in body
    assert "by 2026-11-12" in body  # 7 days from the pass that sent it
    note = shop.row(request_id).worker_note
    assert "return label UPS 1Z999AA10123456784 sent" in note
    assert "waiting for a label" not in note

    shop.lose_state()
    shop.worker.run_pass(day(3.7))
    shop.worker.run_pass(day(3.8))
    assert len(_approvals(smtp)) == 1


def test_a_label_cell_that_is_not_a_link_sends_nothing_and_says_what_is_expected(
    shop: _Shop, smtp: SmtpServer
) -> None:
    """A Label cell without an http(s) link first (or a formula's text): a note, no email."""
    request_id = shop.record("ORD-1002")
    shop.worker.run_pass(day(3.1))
    shop.type_into(request_id, status="Approved")
    shop.type_into(request_id, label='=HYPERLINK("javascript:alert(1)")')
    shop.worker.run_pass(day(3.2))
    shop.worker.run_pass(day(3.3))
    row = shop.row(request_id)
    assert _approvals(smtp) == []
    assert "not a label link" in row.worker_note and "https://" in row.worker_note
    assert row.worker_note.count("not a label link") == 1

    shop.type_into(request_id, label=LINK)
    shop.worker.run_pass(day(3.4))
    [body] = _approvals(smtp)
    assert LINK in body and "Carrier:" not in body
    assert "not a label link" not in shop.row(request_id).worker_note


def test_an_approval_owed_when_the_state_file_is_lost_still_carries_the_label(
    shop: _Shop, smtp: SmtpServer
) -> None:
    """Owed in the sheet, state file deleted before sending: the rebuilt email has the link."""
    request_id = shop.record()
    shop.worker.run_pass(day(3.1))
    shop.type_into(request_id, status="Approved")
    shop.type_into(request_id, label=f"{LINK} 1Z77 UPS")
    shop.worker.record_pass(day(3.5))  # owed in the same write as the note; not sent yet
    assert _approvals(smtp) == []

    shop.lose_state()
    shop.worker.run_pass(day(3.6))
    shop.worker.run_pass(day(3.7))
    [body] = _approvals(smtp)
    assert LINK in body and "1Z77" in body
    assert "by 2026-11-12" in body  # 7 days from when it was owed, not from the resend
