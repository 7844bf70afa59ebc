"""A queue read whose rows stay encoded reads every cell as a decoded read does.

A worker pass reads the queue with the Orders tab in one batchGet and keeps
each queue row as the JSON the API sent: the row is decoded once, the cells
of the fields every row is looked at for are taken out, and the rest is
decoded again only for the rows a pass goes on with. A plain read (no Orders
tab with the queue: one ``values.get``, rows decoded) must give the same text
for every field of every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, HEADER_BY_FIELD
from sheetqueue.sheets.store import SCANNED_FIELDS, QueueRead
from tests.store_backends import open_gsheets, shared_emulator, store_on

FIELDS = {header: field for field, header in HEADER_BY_FIELD.items()}


def _row(**cells: Any) -> list[Any]:
    """A row in the canonical column order, cut after its last filled cell."""
    row = [cells.get(FIELDS[header], "") for header in CANONICAL_HEADER]
    while row and row[-1] == "":
        row.pop()
    return row


ROWS = [
    _row(
        request_id="REQ-1",
        timestamp="2026-11-01T10:00:00Z",
        type="refund",
        status="Done",
        order_id=1001,
        email="a@example.com",
        notified="email sent 2026-11-01T10:05:00Z",
    ),
    _row(request_id="REQ-2", type="refund", status="Done"),  # a short row: the rest reads blank
    [],  # a blank row holds no request
    _row(
        timestamp="2026-11-02T09:00:00Z",
        type="return",
        status="Pending",
        order_id="ORD-3",
        email="b@example.com",
    ),  # typed by the team without a Request ID: still a request
    _row(
        request_id="REQ-5",
        timestamp=46000,
        type="cancellation",
        status="Pending",
        order_id=True,
        details="it\u2019s late",
    ),  # a date serial, a checkbox, a curly quote
]


@pytest.fixture
def reads() -> Iterator[tuple[QueueRead, QueueRead]]:
    """The same tab read both ways: encoded (with the Orders tab) and plain."""
    tabs = {"Requests": [list(CANONICAL_HEADER), *ROWS], "Orders": [["Order ID"], ["ORD-3"]]}
    encoded_store, book = open_gsheets(shared_emulator(), tabs, orders_with_queue=True)
    plain_store: GsheetsStore = store_on(shared_emulator(), book)
    yield encoded_store.read_queue(), plain_store.read_queue()
    encoded_store.close()
    plain_store.close()


def test_every_field_reads_the_same_from_encoded_rows(reads: tuple[QueueRead, QueueRead]) -> None:
    """Columns taken out as the rows were read, and the others, match a decoded read."""
    encoded, plain = reads
    assert encoded.positions == plain.positions == [2, 3, 5, 6]
    for name in HEADER_BY_FIELD:
        assert encoded.texts(name) == plain.texts(name), name
    assert encoded.texts("order_id") == ["1001", "", "ORD-3", "TRUE"]
    assert encoded.texts("timestamp")[3] == "2025-12-09T00:00:00Z"


def test_a_row_asked_for_decodes_to_its_own_cells(reads: tuple[QueueRead, QueueRead]) -> None:
    """Each row handed over (its model too) reads what the columns say at its index."""
    encoded, _ = reads
    for index, stored in enumerate(encoded):
        for name in HEADER_BY_FIELD:
            assert stored.text(name) == encoded.texts(name)[index], (index, name)
    assert encoded[3].request.details == "it\u2019s late"


def test_a_status_word_is_one_string_for_every_row(reads: tuple[QueueRead, QueueRead]) -> None:
    """Thousands of closed rows saying Done cost one string, not one each."""
    encoded, _ = reads
    statuses, types = encoded.texts("status"), encoded.texts("type")
    assert statuses[0] == statuses[1] == "Done" and statuses[0] is statuses[1]
    assert types[0] == types[1] == "refund" and types[0] is types[1]


def test_released_rows_keep_the_scanned_columns(reads: tuple[QueueRead, QueueRead]) -> None:
    """Once released, the columns read before still answer; the others are gone."""
    encoded, _ = reads
    before = {name: encoded.texts(name) for name in SCANNED_FIELDS}
    encoded.release()
    assert {name: encoded.texts(name) for name in SCANNED_FIELDS} == before
    with pytest.raises(RuntimeError):
        encoded.texts("email")
