"""The gspread store on sheets as people make them: header variants, blank rows, call counts."""

from __future__ import annotations

import pytest

from sheetqueue.sheets import gsheets_writes
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, LogEntry
from sheetqueue.sheets.store import CellUpdate
from sheetqueue.sheets.testing.emulator import Emulator
from tests.factories import make_request
from tests.store_backends import open_gsheets, shared_emulator, store_on

SEVEN = ["Timestamp", "Type", "Email", "Order ID", "Reason", "Conversation ID", "Status"]
ROW = ["2026-11-22T09:30:00", "refund", "ana@example.com", "ORD-1001", "too small", "c1", ""]


def _emulator() -> Emulator:
    return shared_emulator()


def test_seven_column_sheet_gets_its_columns_on_the_right_and_ids() -> None:
    """The chat platform's sheet keeps its columns; the worker's are added after them."""
    emu = _emulator()
    store, book = open_gsheets(emu, {"Requests": [SEVEN, ROW]})
    added = store.ensure_header()
    assert added == [h for h in CANONICAL_HEADER if h not in SEVEN]
    values = emu.values(book, "Requests")
    assert values[0][:7] == SEVEN
    assert values[0][7:] == added
    row = store.read_requests()[0]
    assert row.request.order_id == "ORD-1001" and row.request.request_id == ""
    expect = {
        "request_id": "",
        "status": "",
        "timestamp": row.request.timestamp,
        "email": row.request.email,
        "order_id": row.request.order_id,
    }
    result = store.update_cells([CellUpdate(row.ref, expect, {"request_id": "REQ-1"})])
    assert result.applied == [row.ref]
    assert emu.values(book, "Requests")[1][:7] == ROW
    assert store.read_requests()[0].request.request_id == "REQ-1"


def test_header_found_by_name_whatever_the_case_spacing_and_extras() -> None:
    """Odd spacing and case, blank and unknown headers, notes right of it: no harm."""
    emu = _emulator()
    header = [" request  id", "STATUS", "", "Team Stuff", " TYPE", "order_id", "Email"]
    rows = [
        header,
        ["REQ-1", "Pending", "x", "keep me", "dup", "ORD-1", "a@example.com", "", "note!"],
        [],
        ["", "", "", "team only"],
        ["REQ-2", "Done", "", "", "", "ORD-2", "b@example.com"],
    ]
    store, book = open_gsheets(emu, {"Requests": rows})
    found = store.read_requests()
    assert [(s.request.request_id, s.ref.position) for s in found] == [("REQ-1", 2), ("REQ-2", 5)]
    assert found[0].request.status == "Pending" and found[0].request.order_id == "ORD-1"
    update = CellUpdate(found[0].ref, {"request_id": "REQ-1", "status": "Pending"}, {"status": "X"})
    assert store.update_cells([update]).applied == [found[0].ref]
    after = emu.values(book, "Requests")
    assert after[1] == ["REQ-1", "X", "x", "keep me", "dup", "ORD-1", "a@example.com", "", "note!"]


def test_missing_columns_go_right_of_notes_beyond_the_header() -> None:
    """A column of notes with no header is never adopted as a worker column."""
    emu = _emulator()
    store, book = open_gsheets(emu, {"Requests": [SEVEN, [*ROW, "a note"]]})
    store.ensure_header()
    header = emu.values(book, "Requests")[0]
    assert header[7] == "" and header[8] == "Request ID"
    assert store.read_requests()[0].request.request_id == ""


def test_typed_number_reads_as_shown_and_raw_text_stays_text() -> None:
    """A person typing 00123 gets 123 (as the sheet shows it); what we write stays 00123."""
    emu = _emulator()
    store, book = open_gsheets(emu)
    store.add_requests([make_request(request_id="REQ-1", order_id="00123")])
    emu.append_row(book, "Requests", ["REQ-2", "", "refund", "", "00123"])
    orders = [s.request.order_id for s in store.read_requests()]
    assert orders == ["00123", "123"]


def test_a_pass_costs_one_read_then_at_most_three_calls() -> None:
    """With the last metadata kept the read is 1 call; an update confirms it, checks, writes: 3."""
    emu = _emulator()
    store, _book = open_gsheets(
        emu, {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
    )
    store.add_requests(
        [make_request(request_id=f"REQ-{n}", conversation_id=f"c{n}") for n in range(50)]
    )
    before = store.calls
    assert store.ensure_header() == []
    rows = store.read_requests()
    assert store.calls - before == 1
    entry = LogEntry(
        time="t", request_id="REQ-1", from_status="Pending", to_status="Eligible", by="w"
    )
    updates = [
        CellUpdate(
            s.ref,
            {"request_id": s.request.request_id, "status": s.request.status},
            {"status": "Eligible", "decision": "eligible:within14Days", "checked_at": "now"},
            log=(entry,),
        )
        for s in rows
    ]
    store.update_cells(updates)
    assert store.calls - before == 4
    assert store.ensure_header() == [] and store.calls - before == 5
    assert len(store.read_log()) == 50


def test_fresh_store_reads_the_tab_once_for_header_and_rows() -> None:
    """On a new store, ensure_header's reads (metadata, values) are the ones read_requests uses."""
    emu = _emulator()
    store, book = open_gsheets(emu)
    store.add_requests([make_request(request_id="REQ-1")])
    fresh = store_on(emu, book)
    assert fresh.ensure_header() == []
    assert len(fresh.read_requests()) == 1
    assert fresh.calls == 2


def test_appended_rows_follow_the_sheets_column_order() -> None:
    """Rows are written by header, whatever the column order; team columns stay empty."""
    emu = _emulator()
    header = [*reversed(CANONICAL_HEADER), "Team Column"]
    store, book = open_gsheets(emu, {"Requests": [header]})
    request = make_request(request_id="REQ-1")
    store.add_requests([request])
    assert store.read_requests()[0].request == request
    assert len(emu.values(book, "Requests")[1]) <= len(CANONICAL_HEADER)


def test_one_append_for_many_new_requests() -> None:
    """Adding a batch is two reads (contract, duplicates) and one append, whatever its size."""
    emu = _emulator()
    store, _book = open_gsheets(emu)
    store.ensure_header()
    before = store.calls
    batch = [make_request(request_id=f"REQ-{n}", conversation_id=f"c{n}") for n in range(200)]
    assert all(store.add_requests(batch).created)
    assert store.calls - before == 3
    assert len(store.read_requests()) == 200


def test_the_log_tab_grows_when_its_grid_is_full() -> None:
    """More log lines than the Log grid has rows: rows are added and nothing is lost."""
    emu = _emulator()
    store, book = open_gsheets(emu, {"Requests": [list(CANONICAL_HEADER)], "Log": []})
    entries = [
        LogEntry(time=f"t{n}", request_id=f"REQ-{n}", from_status="", to_status="Pending", by="w")
        for n in range(1200)
    ]
    store.append_log(entries)
    assert store.read_log() == entries
    assert emu.grid_size(book, "Log")[0] >= 1201


def test_a_large_write_goes_in_parts_each_checked_and_under_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the size limit cells go in several checked writes; a row changed since is skipped."""
    monkeypatch.setattr(gsheets_writes, "WRITE_LIMIT_BYTES", 6_000)
    emu = _emulator()
    store, book = open_gsheets(
        emu, {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
    )
    store.add_requests(
        [make_request(request_id=f"REQ-{n}", conversation_id=f"c{n}") for n in range(60)]
    )
    rows = store.read_requests()
    team = store_on(emu, book)  # a person sets the last row to Done after the worker's read
    [last] = [s for s in team.read_requests() if s.request.request_id == "REQ-59"]
    team.update_cells(
        [CellUpdate(last.ref, {"request_id": "REQ-59", "status": "Pending"}, {"status": "Done"})]
    )
    bodies: list[int] = []
    store.api.session.hooks["response"].append(
        lambda r, *_a, **_k: (
            bodies.append(len(r.request.body or b""))
            if r.request.url.endswith(":batchUpdate")
            else None
        )
    )
    note = "Within the 14-day window for a full refund. " * 2
    updates = [
        CellUpdate(
            s.ref,
            {"request_id": s.request.request_id, "status": s.request.status},
            {"status": "Eligible", "worker_note": note, "checked_at": "2026-11-22T09:30:00Z"},
        )
        for s in rows
    ]
    result = store.update_cells(updates)
    assert len(bodies) > 1
    assert max(bodies) <= 6_000
    assert [ref.position for ref in result.skipped] == [last.ref.position]
    statuses = {s.request.request_id: s.request.status for s in store.read_requests()}
    assert statuses.pop("REQ-59") == "Done"
    assert set(statuses.values()) == {"Eligible"}
