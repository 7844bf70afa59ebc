"""Rows kept as the JSON the Sheets API sent read back exactly as the decoded rows would."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from sheetqueue.sheets.encoded_rows import EncodedRows, picked

ROWS: list[list[Any]] = [
    ["Order ID", "Total"],
    ["A-1", 20.5],
    ["A-2", 7, True],
    [],
    ["A-4 \u2019s", None],
]


def _encoded() -> EncodedRows:
    block = msgspec.json.decode(
        json.dumps({"values": ROWS}).encode(), type=dict[str, list[msgspec.Raw]]
    )
    return EncodedRows(block["values"])


def test_each_row_decodes_to_the_cells_the_api_sent() -> None:
    """Index, length and iteration give the very rows json.loads would."""
    rows = _encoded()
    assert len(rows) == len(ROWS)
    assert [rows[i] for i in range(len(rows))] == ROWS
    assert list(rows) == ROWS


def test_a_slice_stays_encoded_and_reads_the_same_rows() -> None:
    """The rows below the header, as the Orders table takes them, still decode one by one."""
    below = _encoded()[1:]
    assert isinstance(below, EncodedRows)
    assert list(below) == ROWS[1:] and below[0] == ["A-1", 20.5]


def test_row_one_joins_the_rows_below_it_still_encoded() -> None:
    """The header read as its own range and the block below it read as one whole-tab table."""
    rows = _encoded()
    joined = EncodedRows.joined(rows[:1], rows[1:])
    assert isinstance(joined, EncodedRows) and list(joined) == ROWS
    assert list(EncodedRows.joined(rows[:0], rows[1:])) == [[], *ROWS[1:]]  # no row 1 read


def test_rows_picked_by_index_stay_encoded_in_that_order() -> None:
    """A queue read keeps only the rows holding a request, encoded, for the few asked for."""
    kept = picked(_encoded(), [4, 1])
    assert isinstance(kept, EncodedRows) and list(kept) == [ROWS[4], ROWS[1]]
    assert picked(ROWS, [2]) == [ROWS[2]]  # a decoded block gives its lists
