"""The queue's rows found in a tab's cells, each decoded once.

A worker pass reads every row of the queue but looks at most of them through
a few fields (:data:`~sheetqueue.sheets.store.SCANNED_FIELDS`): the rows stay
as the API sent them (encoded, on a batchGet) and :func:`scan_rows` decodes
each one once, keeps it if it holds a request, and takes those fields' cells
out as it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheetqueue.sheets.gsheets_layout import Layout
from sheetqueue.sheets.store import SCANNED_FIELDS, WORD_FIELDS

__all__ = ["scan_rows"]


def scan_rows(
    values: Sequence[list[Any]], layout: Layout, merged: dict[int, str]
) -> tuple[list[int], dict[str, list[Any]]]:
    """The indexes of the rows holding a request, and the scanned fields' cells of those rows.

    Row 1 (the header) and rows a merged range covers in a worker column are
    skipped. A row holds a request when its Request ID is filled, or any
    field the layout knows is (a row the team typed without an ID). Each
    scanned field gets one cell per kept row, as read ("" past a row's end);
    a status or type word is one string however many rows say it.
    """
    columns = layout.columns
    holds = layout.holds_request
    first = columns.get("request_id", -1)
    cells: dict[str, list[Any]] = {name: [] for name in SCANNED_FIELDS if name in columns}
    scanned = [(columns[name], out, name in WORD_FIELDS) for name, out in cells.items()]
    words: dict[str, str] = {}
    kept: list[int] = []
    for index, row in enumerate(values):  # encoded rows decode here, one at a time
        number = index + 1
        if number == 1 or (merged and number in merged):
            continue
        width = len(row)
        value = row[first] if 0 <= first < width else ""
        if not ((type(value) is str and value.strip()) or holds(row)):
            continue
        kept.append(index)
        for column, out, word in scanned:
            cell = row[column] if column < width else ""
            if word and type(cell) is str:
                cell = words.setdefault(cell, cell)
            out.append(cell)
    return kept, cells
