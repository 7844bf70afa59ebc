"""Rows kept as the JSON the Sheets API sent read back exactly as the decoded rows would."""

from __future__ import annotations

import json

import msgspec

from sheetqueue.sheets.gsheets_api import EncodedRows

ROWS = [["Order ID", "Total"], ["A-1", 20.5], ["A-2", 7, True], [], ["A-4 \u2019s", None]]


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
