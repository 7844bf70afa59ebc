"""A pass reads row 1 whole and, below it, only up to the worker's last tagged column."""

from __future__ import annotations

from typing import Any

import pytest

from bench.workload import requests
from sheetqueue.sheets.gsheets_header import HeaderProblem
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.store_backends import shared_emulator, workload_sheet

ROWS = 6
SCRATCH = "team-scratch-text-never-downloaded"


class _Bodies:
    """Every response body the store's HTTP session received."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def hook(self, response: Any, *_args: Any, **_kwargs: Any) -> None:
        self.bodies.append(response.content)


def _store(team_column: bool = True) -> tuple[GsheetsStore, str]:
    """A tagged queue of ROWS requests, a team column right of the worker's, and Orders."""
    emulator = shared_emulator()
    header = [*CANONICAL_HEADER, "Scratch"] if team_column else list(CANONICAL_HEADER)
    store, book = workload_sheet(ROWS, header=header)
    store.ensure_header()  # first sight: the columns get their tags
    if team_column:
        for row in range(2, ROWS + 2):
            emulator.edit_cell(book, "Requests", row, "Scratch", f"{SCRATCH} {row}")
    return store, book


def test_team_columns_right_of_the_worker_are_not_downloaded() -> None:
    """A quiet read of a tagged tab brings the rows and orders but not the team's column."""
    store, _book = _store()
    seen = _Bodies()
    store.api.session.hooks["response"].append(seen.hook)
    store.ensure_header()
    rows = store.read_requests()
    assert [row.text("request_id") for row in rows] == [r.request_id for r in requests(ROWS)]
    assert not any(SCRATCH.encode() in body for body in seen.bodies)
    assert any(b"REQ-BENCH" in body for body in seen.bodies)
    table = store.order_table()  # read in the same batchGet: no call of its own
    assert len(table.rows) == ROWS


def test_a_row_whose_columns_moved_is_read_from_the_new_places() -> None:
    """A blank column inserted left of Status shifts the tags; every cell reads as before."""
    store, book = _store()
    emulator = shared_emulator()
    emulator.insert_blank_columns(book, "Requests", "Status")
    emulator.edit_cell(book, "Requests", 2, "D", "team text in the new column")
    store.ensure_header()
    rows = store.read_requests()
    want = requests(ROWS)
    assert [row.text("status") for row in rows] == [r.status for r in want]
    assert [row.text("conversation_id") for row in rows] == [r.conversation_id for r in want]
    assert rows[0].request == want[0]
    assert store.layout is not None and store.layout.columns["shopper_message"] == 17


def test_a_known_header_right_of_the_read_columns_still_stops_work() -> None:
    """Row 1 is read whole: a second 'Status' header past the team column is a duplicate."""
    store, book = _store()
    shared_emulator().edit_cell(book, "Requests", 1, "S", "Status")
    with pytest.raises(HeaderProblem) as stop:
        store.ensure_header()
    assert stop.value.reason == "duplicate_header"


def test_a_row_that_needs_an_order_gets_it_from_the_same_read() -> None:
    """The order a request names is found in the Orders tab read with the queue."""
    store, _book = _store()
    store.ensure_header()
    rows = store.read_requests()
    before = store.calls
    table = store.order_table()
    assert store.calls == before
    wanted = rows[3].text("order_id")
    found = [table.record(i) for i, row in enumerate(table.rows) if wanted in row]
    assert found and found[0] is not None and found[0]["order_id"] == wanted
