"""``sheetqueue init-sheet``: the tab set up for a team, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.sheet_setup import PROTECTED_FIELDS, STATUS_COLOURS, init_sheet
from tests.cli_runner import cli_on_sheet
from tests.store_backends import open_gsheets, shared_emulator, store_on

SEVEN = ["Timestamp", "Type", "Email", "Order ID", "Reason", "Conversation ID", "Status"]


def test_a_new_spreadsheet_gets_tab_header_frozen_row_dropdown_colours_and_log() -> None:
    """An empty spreadsheet becomes a queue a team can work in."""
    emu = shared_emulator()
    store, book = open_gsheets(emu, {"Sheet1": []})
    changes = init_sheet(store)
    assert changes
    assert emu.values(book, "Requests")[0] == list(CANONICAL_HEADER)
    assert emu.values(book, "Log")[0] == list(LOG_HEADER)
    with emu.lock:
        sheet = emu.sheet(book, "Requests")
        assert sheet.frozen_rows == 1
        (validation,) = sheet.validations
        assert validation["rule"]["strict"] is False
        assert validation["range"]["startColumnIndex"] == CANONICAL_HEADER.index("Status")
        assert len(sheet.conditional_formats) == len(STATUS_COLOURS) + 1  # and overdue rows
        assert all(p["warningOnly"] for p in sheet.protected_ranges)
        assert len(sheet.protected_ranges) == len(PROTECTED_FIELDS)


def test_running_it_twice_changes_nothing() -> None:
    """The second run finds everything in place: no change and no write call."""
    emu = shared_emulator()
    store, book = open_gsheets(emu, {"Sheet1": []})
    init_sheet(store)
    with emu.lock:
        before = emu.sheet(book, "Requests").copy()
    emu.reset_log()
    again = store_on(emu, book)
    assert init_sheet(again) == []
    assert emu.counts()["write"] == 0
    with emu.lock:
        after = emu.sheet(book, "Requests")
        assert after.validations == before.validations
        assert after.protected_ranges == before.protected_ranges
        assert after.conditional_formats == before.conditional_formats


def test_the_seven_column_sheet_is_upgraded_without_moving_a_column() -> None:
    """The chat platform's columns stay put; the rest are added right, then marked."""
    emu = shared_emulator()
    row = ["2026-11-22T09:30:00", "refund", "a@example.com", "ORD-1", "", "c1", ""]
    store, book = open_gsheets(emu, {"Requests": [SEVEN, row]})
    init_sheet(store)
    values = emu.values(book, "Requests")
    assert values[0][:7] == SEVEN and values[1] == row[:6]
    assert set(values[0]) == set(CANONICAL_HEADER)
    with emu.lock:
        (validation,) = emu.sheet(book, "Requests").validations
    assert validation["range"]["startColumnIndex"] == SEVEN.index("Status")


def test_cli_init_sheet_reports_then_finds_nothing_to_do(tmp_path: Path) -> None:
    """The command prints what it did, and on a second run that nothing changed."""
    emu = shared_emulator()
    _store, book = open_gsheets(emu, {"Requests": []})
    cli = cli_on_sheet(tmp_path, emu, book)
    first = cli("init-sheet")
    assert first.code == 0, first.stderr
    assert "froze row 1" in first.stdout
    second = cli("init-sheet")
    assert second.code == 0 and "nothing changed" in second.stdout


def test_cli_init_sheet_on_an_unknown_spreadsheet_fails_in_one_line(tmp_path: Path) -> None:
    """A wrong spreadsheet id: exit 2 (bad configuration) and one line naming the setting."""
    emu = shared_emulator()
    cli = cli_on_sheet(tmp_path, emu, "missing")
    result = cli("init-sheet")
    assert result.code == 2
    assert "SHEETQUEUE_SPREADSHEET_ID" in result.stderr and "Traceback" not in result.stderr
