"""The queue's rows found in a tab's cells, each decoded once.

A worker pass reads every row of the queue but looks at most of them through
a few fields (:data:`~sheetqueue.sheets.store.SCANNED_FIELDS`): the rows stay
as the API sent them (encoded, on a batchGet) and :func:`scan_rows` decodes
each one once, keeps it if it holds a request, and takes those fields' text
out as it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheetqueue.sheets.gsheets_layout import Layout
from sheetqueue.sheets.store import SCANNED_FIELDS, WORD_FIELDS, CellReader

__all__ = ["scan_rows"]


def scan_rows(
    values: Sequence[list[Any]],
    layout: Layout,
    merged: dict[int, str],
    reader: CellReader,
    dates: frozenset[int],
) -> tuple[list[int], dict[str, list[str]]]:
    """The indexes of the rows holding a request, and the scanned fields' text for those rows.

    Row 1 (the header) and rows a merged range covers in a worker column are
    skipped. A row holds a request when its Request ID is filled, or any
    field the layout knows is (a row the team typed without an ID). Each
    scanned field gets one text per kept row ("" past a row's end), made by
    ``reader`` for a cell that is not text already or sits in a ``dates``
    column; a status or type word is one string however many rows say it.
    """
    columns = layout.columns
    holds = layout.holds_request
    first = columns.get("request_id", -1)
    texts: dict[str, list[str]] = {name: [] for name in SCANNED_FIELDS if name in columns}
    scanned = [
        (columns[name], out, name in WORD_FIELDS, columns[name] in dates)
        for name, out in texts.items()
    ]
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
        for column, out, word, date in scanned:
            cell = row[column] if column < width else ""
            if date or type(cell) is not str:
                cell = reader(number, column, cell)
            out.append(words.setdefault(cell, cell) if word else cell)
    return kept, texts
