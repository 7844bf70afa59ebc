"""Archiving closed rows: through gspread on the Sheets emulator, and on the local SQLite store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetqueue.sheets.gsheets_archive import ARCHIVE_HEADER, GsheetsShelf
from sheetqueue.sheets.gsheets_header import HeaderProblem
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sqlite_archive import SqliteShelf
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.worker.archive import ARCHIVE_BY, archive_closed
from tests.archive_kit import HEADER, NOW, archive_rows, expected_archived, sheet_row
from tests.store_backends import open_gsheets, shared_emulator, store_on

WHEN = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # the kit's NOW
ZONE = UTC


def _request(cells: dict[str, str]) -> Request:
    names = {h: h.lower().replace(" ", "_") for h in HEADER if h != "Courier"}
    return Request(**{names[k]: v for k, v in cells.items() if k in names})


def test_closed_rows_move_to_the_archive_tab_of_their_year_on_the_sheet() -> None:
    """Old closed rows go to 'Archive 2026' once, with team cells; the rest stay live."""
    emulator = shared_emulator()
    rows = archive_rows(20)
    store, book = open_gsheets(
        emulator, {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    try:
        report = archive_closed(
            GsheetsShelf(store), store, WHEN, timedelta(days=90), zone=ZONE, batch=4
        )
    finally:
        store.close()
    wanted = expected_archived(rows)
    assert report.archived == len(wanted) and report.tabs == {"Archive 2026": len(wanted)}
    assert report.kept_recent == 4 and report.kept_owed == 2  # open rows are not counted
    live = emulator.values(book, "Requests")
    live_ids = [row[0] for row in live[1:]]
    assert set(live_ids) == {r["Request ID"] for r in rows} - wanted
    archive = emulator.values(book, "Archive 2026")
    assert tuple(archive[0]) == ARCHIVE_HEADER
    archived_ids = Counter(row[0] for row in archive[1:])
    assert set(archived_ids) == wanted and set(archived_ids.values()) == {1}
    by_id = {row[0]: dict(zip(ARCHIVE_HEADER, row, strict=False)) for row in archive[1:]}
    first = by_id["REQ-ARC0000000000000"]
    assert first["Reason"] == "=1+1" and first["Order ID"] == "000000"  # text stays text
    assert first["Other Columns"] == '{"Courier": "crate 0"}' and first["Archived At"] == NOW
    log = emulator.values(book, "Log")
    archived_lines = [line for line in log if len(line) > 4 and line[4] == ARCHIVE_BY]
    assert sorted(line[1] for line in archived_lines) == sorted(wanted)


def test_a_second_run_archives_nothing_twice() -> None:
    """Run again on the same sheet: no new copies, no new log lines, the same live rows."""
    emulator = shared_emulator()
    rows = archive_rows(10)
    store, book = open_gsheets(
        emulator, {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    try:
        archive_closed(GsheetsShelf(store), store, WHEN, timedelta(days=90), zone=ZONE)
        again = archive_closed(GsheetsShelf(store), store, WHEN, timedelta(days=90), zone=ZONE)
    finally:
        store.close()
    assert again.archived == 0 and again.copied == 0
    assert len(emulator.values(book, "Archive 2026")) == 1 + len(expected_archived(rows))
    log = emulator.values(book, "Log")
    assert sum(1 for line in log if len(line) > 4 and line[4] == ARCHIVE_BY) == len(
        expected_archived(rows)
    )


def test_rows_are_deleted_by_request_id_even_when_the_team_sorts_meanwhile() -> None:
    """A copy already in the archive (a killed run), then the team sorts: the right rows go."""
    emulator = shared_emulator()
    rows = archive_rows(10)
    store, book = open_gsheets(
        emulator, {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    try:
        shelf = GsheetsShelf(store)
        chosen = [row for row in shelf.live_rows() if row.request_id in expected_archived(rows)]
        shelf.archived("Archive 2026")
        shelf.copy("Archive 2026", chosen[:2], NOW)  # as if killed after the copy
        emulator.sort_rows(book, "Requests", "Email", descending=True)
        report = archive_closed(shelf, store, WHEN, timedelta(days=90), zone=ZONE)
    finally:
        store.close()
    assert report.copied == len(expected_archived(rows)) - 2
    live_ids = {row[0] for row in emulator.values(book, "Requests")[1:]}
    assert live_ids == {r["Request ID"] for r in rows} - expected_archived(rows)
    archived = [row[0] for row in emulator.values(book, "Archive 2026")[1:]]
    assert sorted(archived) == sorted(expected_archived(rows))


def test_a_row_edited_after_its_copy_is_archived_as_it_is_now() -> None:
    """The team changed a Team Note between copy and delete: the archive holds the new text."""
    emulator = shared_emulator()
    rows = archive_rows(5)
    store, book = open_gsheets(
        emulator, {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    try:
        shelf = GsheetsShelf(store)
        shelf.archived("Archive 2026")
        shelf.copy("Archive 2026", [shelf.live_rows()[0]], NOW)
        emulator.edit_cell(book, "Requests", 2, "Team Note", "refund sent by hand")
        archive_closed(shelf, store, WHEN, timedelta(days=90), zone=ZONE)
    finally:
        store.close()
    archive = emulator.values(book, "Archive 2026")
    assert len(archive) == 1 + len(expected_archived(rows))
    first = next(row for row in archive if row[0] == "REQ-ARC0000000000000")
    assert first[ARCHIVE_HEADER.index("Team Note")] == "refund sent by hand"


def test_the_header_contract_never_takes_the_archive_tab_for_the_queue() -> None:
    """After archiving, the queue reads as before; naming the archive as the queue is refused."""
    emulator = shared_emulator()
    rows = archive_rows(5)
    store, book = open_gsheets(
        emulator, {"Requests": [list(HEADER), *(sheet_row(r, HEADER) for r in rows)]}
    )
    try:
        archive_closed(GsheetsShelf(store), store, WHEN, timedelta(days=90), zone=ZONE)
    finally:
        store.close()
    again = store_on(emulator, book)
    try:
        assert again.ensure_header() == []
        assert len(again.read_requests()) == len(rows) - len(expected_archived(rows))
    finally:
        again.close()
    wrong = store_on(emulator, book)
    wrong.requests_tab = "Archive 2026"
    try:
        with pytest.raises(HeaderProblem) as caught:
            wrong.read_requests()
    finally:
        wrong.close()
    assert caught.value.reason == "archive_tab"
    emulator.rename_tab(book, "Requests", "Queue")
    moved = store_on(emulator, book)
    try:
        with pytest.raises(HeaderProblem) as renamed:
            moved.read_requests()
    finally:
        moved.close()
    assert renamed.value.reason == "tab_renamed" and "'Queue'" in str(renamed.value)


def test_the_local_store_archives_into_its_archive_table(tmp_path: Path) -> None:
    """On SQLite: the same rows move to the archive table, once, with their log lines."""
    rows = archive_rows(20)
    path = tmp_path / "queue.db"
    store = SqliteStore(path)
    store.add_requests([_request(r) for r in rows])
    shelf = SqliteShelf(path)
    try:
        first = archive_closed(shelf, store, WHEN, timedelta(days=90), zone=ZONE, batch=3)
        again = archive_closed(shelf, store, WHEN, timedelta(days=90), zone=ZONE)
        held = shelf.archived("Archive 2026")
        live = {stored.request.request_id for stored in store.read_requests()}
        log = [entry for entry in store.read_log() if entry.by == ARCHIVE_BY]
    finally:
        shelf.close()
        store.close()
    wanted = expected_archived(rows)
    assert first.archived == len(wanted) and again.archived == 0 and again.copied == 0
    assert set(held) == wanted
    assert held["REQ-ARC0000000000000"].request == _request(rows[0])
    assert live == {r["Request ID"] for r in rows} - wanted
    assert sorted(entry.request_id for entry in log) == sorted(wanted)


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    """--dry-run counts what would move and leaves the store as it was."""
    rows = archive_rows(10)
    path = tmp_path / "queue.db"
    store = SqliteStore(path)
    store.add_requests([_request(r) for r in rows])
    shelf = SqliteShelf(path)
    try:
        report = archive_closed(shelf, store, WHEN, timedelta(days=90), zone=ZONE, dry_run=True)
        assert report.archived == len(expected_archived(rows))
        assert len(store.read_requests()) == len(rows) and shelf.archived("Archive 2026") == {}
        assert store.read_log() == []
    finally:
        shelf.close()
        store.close()
