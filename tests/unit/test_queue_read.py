"""A queue read kept as raw cells: columns made text on demand, the same text a row gives."""

from __future__ import annotations

from typing import Any

import pytest

from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sheet_cells import SheetCells, cell_value
from sheetqueue.sheets.store import QueueRead, RowRef, StoredRequest

COLUMNS = {"request_id": 0, "status": 1, "order_id": 2, "timestamp": 3}
DATES = frozenset({3})


def _reader(number: int, index: int, value: Any) -> str:
    if index in DATES:
        return SheetCells().date_cell(value, f"Requests!D{number}")
    return value if type(value) is str else cell_value(value)


def _read() -> QueueRead:
    rows: list[list[Any]] = [
        ["REQ-1", "Done", 1001.0, 46000],
        ["REQ-2", "Pending", "ORD-2"],  # a short row: missing cells read blank
    ]
    return QueueRead(rows, [2, 5], COLUMNS, _reader, DATES)


def test_columns_read_as_text_like_each_row() -> None:
    """Numbers read as their digits, dates as ISO times, missing cells blank, row by row alike."""
    read = _read()
    assert read.texts("order_id") == ["1001", "ORD-2"]
    assert read.texts("timestamp") == ["2025-12-09T00:00:00Z", ""]
    for index, stored in enumerate(read):
        assert stored.ref == RowRef(read.positions[index])
        for name in COLUMNS:
            assert stored.text(name) == read.texts(name)[index]
    assert read[0].request.order_id == "1001"


def test_a_released_read_keeps_only_the_columns_already_read() -> None:
    """After release the three read columns stay; asking for another column is an error."""
    read = _read()
    ids, statuses = read.texts("request_id"), read.texts("status")
    read.release()
    assert read.texts("request_id") == ids and read.texts("status") == statuses
    with pytest.raises(RuntimeError):
        read.texts("order_id")


def test_stored_rows_from_another_store_read_the_same_way() -> None:
    """A store that hands over StoredRequests gets the same columns and positions."""
    stored = [StoredRequest(Request(request_id="REQ-9", status="Eligible"), RowRef(7))]
    read = QueueRead.of(stored)
    assert read.texts("status") == ["Eligible"] and read.positions == [7]
    assert read[0] is stored[0]
