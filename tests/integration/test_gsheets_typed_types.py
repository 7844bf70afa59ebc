"""Request types typed into the Google Sheet by hand read as the bot's spellings do."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import LOG_HEADER
from tests.factories import day, make_order_record
from tests.store_backends import gsheets_settings, open_gsheets, shared_emulator

SEVEN = ["Timestamp", "Type", "Email", "Order ID", "Reason", "Conversation ID", "Status"]


def _sheet_with(rows: list[list[str]], tmp_path: Path) -> tuple[GsheetsStore, Settings]:
    emulator = shared_emulator()
    store, book = open_gsheets(
        emulator, {"Requests": [SEVEN, *rows], "Log": [list(LOG_HEADER)], "Orders": []}
    )
    store.replace_orders([make_order_record(order_id="ORD-1001", status="processing")])
    return store, gsheets_settings(emulator, book, state_path=tmp_path / "state.db")


@pytest.mark.parametrize("typed", ["Address-Change", "address change", " ADDRESS_CHANGE "])
def test_a_hand_typed_address_change_is_decided_not_sent_to_review(
    typed: str, tmp_path: Path
) -> None:
    """``Address-Change`` typed in the Type cell is an address change, as the bot takes it."""
    asked = ["2026-11-02T10:00:00Z", typed, "ana@example.com", "ORD-1001", "moved", "c-1", ""]
    store, settings = _sheet_with([asked], tmp_path)
    worker = build_worker(settings, store)
    try:
        report = worker.run_pass(day(1.5))
    finally:
        worker.close()
    (row,) = [stored.request for stored in store.read_requests()]
    assert report.checked == 1 and report.changed == 1
    assert (row.status, row.decision) == ("Eligible", "eligible:notYetShipped")
    assert "address change can go ahead" in row.worker_note
    assert row.type == typed  # the team's cell is read, never rewritten


def test_the_bot_asking_again_finds_the_hand_typed_row(tmp_path: Path) -> None:
    """A bot recording ``address_change`` in the conversation of an open typed row repeats it."""
    asked = ["2026-11-02T10:00:00Z", "Address-Change", "ana@example.com", "ORD-1001", "", "c-1", ""]
    store, settings = _sheet_with([asked], tmp_path)
    worker = build_worker(settings, store)
    try:
        worker.run_pass(day(1.5))  # gives the typed row its Request ID
    finally:
        worker.close()
    typed_id = store.read_requests()[0].request.request_id
    new = parse_new_request(
        {"type": "address_change", "order_id": "ORD-1001", "email": "ana@example.com"}
        | {"conversation_id": "c-1"}
    )
    result = record_request(store, new, day(2))
    assert not result.created
    assert result.request_id == typed_id != ""
    assert len(store.read_requests()) == 1
