"""The API's snapshot of the queue: open duplicates and closed rows found as the model says."""

from __future__ import annotations

from pathlib import Path

from sheetqueue.bot_actions.api.store_access import StoreAccess
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.orders import OrderSource
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import Store
from tests.factories import make_request


def _no_orders(_store: Store) -> OrderSource:
    raise AssertionError("the snapshot reads no orders")


def _rows() -> list[Request]:
    return [
        make_request(request_id="REQ-OPEN0000000001", conversation_id=" c1 ", type="Return"),
        make_request(request_id="REQ-OPEN0000000002", conversation_id="c1", type="return"),
        make_request(
            request_id="REQ-ADDR0000000001",
            conversation_id="c2",
            type="Address-Change",
            order_id=" ORD-9 ",
        ),
        make_request(request_id="REQ-DONE0000000001", conversation_id="c3", status="Done"),
        make_request(request_id="REQ-DONE0000000002", conversation_id="c5", status="Rejected"),
        make_request(request_id="REQ-OPEN0000000005", conversation_id="c5", status="Eligible"),
        make_request(request_id="REQ-ODD00000000001", conversation_id="c4", type="Gift wrap"),
        make_request(request_id="REQ-NOCONV00000001", conversation_id=""),
    ]


def test_snapshot_answers_duplicates_and_closed_rows_like_the_request_model(
    tmp_path: Path,
) -> None:
    """Each row's open duplicate is the first open row with its key; closed rows are known."""
    rows = _rows()
    store = SqliteStore(tmp_path / "queue.db")
    store.add_requests(rows)
    store.close()
    access = StoreAccess(lambda: SqliteStore(tmp_path / "queue.db"), _no_orders)
    try:
        access.refresh()
        for row in rows:
            first_open = next(
                (r for r in rows if r.duplicate_key() == row.duplicate_key() and r.is_open()),
                None,
            )
            expected = first_open if row.duplicate_key() is not None else None
            found = access.open_duplicate(row.duplicate_key())
            assert (found.request_id if found else None) == (
                expected.request_id if expected else None
            ), row.request_id
            assert access.known_closed(row.request_id) is not row.is_open()
        assert access.open_duplicate(("c1", "return", "ord-1001-other")) is None
        reopened = access.open_duplicate(rows[4].duplicate_key())
        assert reopened is not None and reopened.request_id == "REQ-OPEN0000000005"
        found = access.find("REQ-ADDR0000000001")
        assert found is not None and found.order_id == " ORD-9 "
    finally:
        access.close()
