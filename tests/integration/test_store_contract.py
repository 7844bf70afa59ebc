"""The store contract: every store (SQLite file, Google Sheet) keeps the same rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sheetqueue.sheets.model import Request
from sheetqueue.sheets.store import CellUpdate, Store
from tests.factories import make_log_entry, make_request
from tests.store_backends import open_backend

BACKENDS = ["sqlite", "gsheets"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation in turn, empty."""
    with open_backend(request.param, tmp_path) as opened:
        yield opened


def _ids(store: Store) -> list[str]:
    return [stored.request.request_id for stored in store.read_requests()]


def test_added_requests_read_back_in_order(store: Store) -> None:
    """Requests come back in the order they were added, every cell as written."""
    first = make_request(request_id="REQ-A", reason='=HYPERLINK("http://x","y")')
    second = make_request(request_id="REQ-B", order_id="00123", conversation_id="conv-2")
    result = store.add_requests([first, second])
    assert result.created == [True, True]
    rows = [stored.request for stored in store.read_requests()]
    assert rows == [first, second]


def test_same_open_request_is_not_added_twice(store: Store) -> None:
    """Same conversation, type and order while open: the first one is returned."""
    store.add_requests([make_request(request_id="REQ-A")])
    again = store.add_requests([make_request(request_id="REQ-B")])
    assert again.created == [False]
    assert again.requests[0].request_id == "REQ-A"
    assert _ids(store) == ["REQ-A"]


def test_closed_request_does_not_block_a_new_one(store: Store) -> None:
    """Once the first request is Done, the same ask makes a new row."""
    store.add_requests([make_request(request_id="REQ-A", status="Done")])
    again = store.add_requests([make_request(request_id="REQ-B")])
    assert again.created == [True]
    assert _ids(store) == ["REQ-A", "REQ-B"]


def test_same_request_id_is_never_added_twice(store: Store) -> None:
    """Adding a Request ID that is already there keeps the stored row."""
    store.add_requests([make_request(request_id="REQ-A", conversation_id="")])
    again = store.add_requests([make_request(request_id="REQ-A", conversation_id="", reason="x")])
    assert again.created == [False]
    assert [s.request.reason for s in store.read_requests()] == [""]


def test_duplicates_within_one_batch_are_collapsed(store: Store) -> None:
    """Two identical asks in one batch make one row."""
    result = store.add_requests(
        [make_request(request_id="REQ-A"), make_request(request_id="REQ-B")]
    )
    assert result.created == [True, False]
    assert _ids(store) == ["REQ-A"]


def test_update_writes_only_when_expected_cells_match(store: Store) -> None:
    """A compare-and-set write applies to an unchanged row and skips a changed one."""
    store.add_requests(
        [make_request(request_id="REQ-A"), make_request(request_id="REQ-B", conversation_id="c2")]
    )
    rows = store.read_requests()
    good = CellUpdate(
        rows[0].ref, {"request_id": "REQ-A", "status": "Pending"}, {"status": "Eligible"}
    )
    stale = CellUpdate(
        rows[1].ref, {"request_id": "REQ-B", "status": "Done"}, {"status": "Eligible"}
    )
    result = store.update_cells([good, stale])
    assert result.applied == [rows[0].ref]
    assert result.skipped == [rows[1].ref]
    assert [s.request.status for s in store.read_requests()] == ["Eligible", "Pending"]


def test_update_fills_a_blank_request_id(store: Store) -> None:
    """A row without an ID gets one when its other cells still match."""
    store.add_requests([make_request(request_id="", conversation_id="")])
    row = store.read_requests()[0]
    expect = {"request_id": "", "status": "Pending", "timestamp": row.request.timestamp}
    result = store.update_cells([CellUpdate(row.ref, expect, {"request_id": "REQ-NEW"})])
    assert result.applied == [row.ref]
    assert _ids(store) == ["REQ-NEW"]


def test_audit_log_keeps_entries_in_order(store: Store) -> None:
    """Log entries are appended and read back oldest first."""
    entries = [
        make_log_entry(note="within window"),
        make_log_entry(
            time="2026-11-22T09:31:00Z", from_status="Eligible", to_status="Done", by="team"
        ),
    ]
    store.append_log(entries[:1])
    store.append_log(entries[1:])
    assert store.read_log() == entries


def test_orders_are_replaced_and_read_as_records(store: Store) -> None:
    """The Orders tab holds what was imported last."""
    store.replace_orders([{"order_id": "ORD-1", "email": "a@example.com", "status": "shipped"}])
    store.replace_orders([{"order_id": "ORD-2", "email": "b@example.com", "status": "delivered"}])
    records = store.read_orders()
    assert [record["order_id"] for record in records] == ["ORD-2"]
    assert records[0]["status"] == "delivered"


def test_text_that_looks_like_a_number_or_formula_stays_text(store: Store) -> None:
    """Shopper text is never turned into a number or evaluated as a formula."""
    tricky = Request(
        request_id="REQ-T",
        order_id="00123",
        reason="=1+1",
        details="+15125550100",
        email="ana@example.com",
        type="refund",
        status="Pending",
        timestamp="2026-11-22T09:30:00Z",
    )
    store.add_requests([tricky])
    assert store.read_requests()[0].request == tricky


def test_log_of_an_update_is_written_only_when_it_applies(store: Store) -> None:
    """An update's audit entry lands with it; a skipped update leaves no entry."""
    store.add_requests(
        [make_request(request_id="REQ-A"), make_request(request_id="REQ-B", conversation_id="c2")]
    )
    rows = store.read_requests()
    moved, lost = make_log_entry(request_id="REQ-A"), make_log_entry(request_id="REQ-B")
    seen = make_log_entry(request_id="REQ-C", from_status="Eligible", to_status="Done", by="team")
    store.update_cells(
        [
            CellUpdate(
                rows[0].ref,
                {"request_id": "REQ-A", "status": "Pending"},
                {"status": "Eligible"},
                log=(moved,),
            ),
            CellUpdate(
                rows[1].ref,
                {"request_id": "REQ-B", "status": "Done"},
                {"status": "Eligible"},
                log=(lost,),
            ),
        ],
        log=[seen],
    )
    assert sorted(entry.request_id for entry in store.read_log()) == ["REQ-A", "REQ-C"]
