"""The gspread store under a busy team and a flaky API: never the wrong row, never twice."""

from __future__ import annotations

import time

import pytest

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_retry import Backoff
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.store import CellUpdate, StoredRequest
from sheetqueue.sheets.testing.emulator import Emulator
from tests.factories import make_log_entry, make_request
from tests.store_backends import no_sleep_backoff, open_gsheets, shared_emulator, store_on

TABS = {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}


def _queue(
    emu: Emulator, backoff: Backoff | None = None
) -> tuple[GsheetsStore, str, list[StoredRequest]]:
    store, book = open_gsheets(emu, TABS, backoff=backoff)
    store.add_requests(
        [make_request(request_id=f"REQ-{x}", conversation_id=f"c-{x}") for x in "ABC"]
    )
    return store, book, store.read_requests()


def _to_eligible(rows: list[StoredRequest]) -> list[CellUpdate]:
    return [
        CellUpdate(
            s.ref,
            {"request_id": s.request.request_id, "status": s.request.status},
            {"status": "Eligible", "worker_note": f"note for {s.request.request_id}"},
            log=(make_log_entry(request_id=s.request.request_id),),
        )
        for s in rows
    ]


def _by_id(store: GsheetsStore) -> dict[str, tuple[str, str]]:
    return {
        s.request.request_id: (s.request.status, s.request.worker_note)
        for s in store.read_requests()
    }


def test_sort_between_read_and_write_writes_only_rows_still_in_place() -> None:
    """After a sort, a row that moved is skipped and each note lands on its own request."""
    emu = shared_emulator()
    store, book, rows = _queue(emu)
    emu.sort_rows(book, "Requests", "Request ID", descending=True)
    result = store.update_cells(_to_eligible(rows))
    assert result.applied == [rows[1].ref]
    assert _by_id(store) == {
        "REQ-A": ("Pending", ""),
        "REQ-B": ("Eligible", "note for REQ-B"),
        "REQ-C": ("Pending", ""),
    }
    assert [e.request_id for e in store.read_log()] == ["REQ-B"]


@pytest.mark.parametrize("edit", ["insert", "delete"])
def test_rows_inserted_or_deleted_meanwhile_are_never_written(edit: str) -> None:
    """Shifted rows are all skipped; no blank row and no neighbour gets a value."""
    emu = shared_emulator()
    store, book, rows = _queue(emu)
    if edit == "insert":
        emu.insert_blank_rows(book, "Requests", 2)
    else:
        emu.delete_rows(book, "Requests", 2)
    result = store.update_cells(_to_eligible(rows))
    assert result.applied == []
    assert all(status == "Pending" for status, _note in _by_id(store).values())
    if edit == "insert":
        assert emu.values(book, "Requests")[1] == []


def test_a_status_set_by_hand_meanwhile_wins() -> None:
    """A person's edit between read and write is kept; the other rows are written."""
    emu = shared_emulator()
    store, book, rows = _queue(emu)
    emu.edit_cell(book, "Requests", 3, "Status", "Approved")
    result = store.update_cells(_to_eligible(rows))
    assert result.skipped == [rows[1].ref]
    assert _by_id(store)["REQ-B"] == ("Approved", "")


def test_header_moved_meanwhile_writes_nothing() -> None:
    """If the team renames or moves header cells, the whole write waits for the next pass."""
    emu = shared_emulator()
    store, book, rows = _queue(emu)
    emu.edit_cell(book, "Requests", 1, "A", "Status")
    emu.edit_cell(book, "Requests", 1, "D", "Request ID")
    result = store.update_cells(_to_eligible(rows))
    assert result.applied == []
    assert store.read_log() == []


def test_429_and_503_are_retried_with_growing_waits() -> None:
    """Transient failures are tried again after jittered exponential waits, then succeed."""
    emu = shared_emulator()
    slept: list[float] = []
    store, _book, _rows = _queue(emu, backoff=no_sleep_backoff(slept))
    emu.fail_next(2, 429)
    before = store.calls
    assert len(store.read_requests()) == 3
    # the values read (the metadata kept from the append's read), tried 3 times
    assert store.calls - before == 3 and store.retries == 2
    assert slept == [1.5, 2.5]


def test_a_failed_write_is_checked_and_written_once() -> None:
    """A 503 on the batch write: the next try re-checks the rows; log lines appear once."""
    emu = shared_emulator()
    store, _book, rows = _queue(emu)
    failed: list[str] = []

    def fail_first_write(kind: str, _retried: bool) -> None:
        if kind == "batch_write" and not failed:
            failed.append(kind)
            emu.fail_next(1, 503)

    store.api.on_call = fail_first_write
    result = store.update_cells(_to_eligible(rows))
    assert result.applied == [s.ref for s in rows]
    assert sorted(e.request_id for e in store.read_log()) == ["REQ-A", "REQ-B", "REQ-C"]


def test_a_write_that_landed_without_an_answer_is_not_repeated() -> None:
    """A timed-out write that landed is recognised by its log lines and reported applied."""
    emu = shared_emulator()
    store, book, rows = _queue(emu, backoff=no_sleep_backoff())
    store = store_on(emu, book, backoff=no_sleep_backoff(), timeout=0.3)
    store.api.backoff.sleep = lambda _seconds: time.sleep(1.0)
    kinds: list[str] = []

    def slow_first_write(kind: str, _retried: bool) -> None:
        kinds.append(kind)
        emu.set_faults(
            delay=0.8 if kinds.count("batch_write") == 1 and kind == "batch_write" else 0
        )

    store.api.on_call = slow_first_write
    result = store.update_cells(_to_eligible(rows))
    emu.set_faults()
    assert result.applied == [s.ref for s in rows]
    assert kinds == ["metadata", "batch_get", "batch_get", "batch_write", "batch_get"]
    assert sorted(e.request_id for e in store.read_log()) == ["REQ-A", "REQ-B", "REQ-C"]


def test_gives_up_after_the_bounded_tries_with_a_clear_message() -> None:
    """Always 429: a StoreError naming the quota, after max_tries calls."""
    emu = shared_emulator()
    store, _book = open_gsheets(emu, TABS, backoff=no_sleep_backoff(max_tries=4))
    emu.set_faults(rate=1.0, codes=(429,))
    with pytest.raises(StoreError, match="quota") as caught:
        store.read_requests()
    emu.set_faults()
    assert "gave up after 4 tries" in str(caught.value)
    assert store.calls == 4


def test_unknown_spreadsheet_is_a_clear_store_error() -> None:
    """A wrong spreadsheet id says so and names the setting."""
    emu = shared_emulator()
    store = store_on(emu, "no-such-sheet")
    with pytest.raises(StoreError, match="SHEETQUEUE_SPREADSHEET_ID"):
        store.read_requests()
