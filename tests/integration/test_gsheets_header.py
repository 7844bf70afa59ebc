"""The header is a contract: a team reshaping the sheet stops the worker, never misleads it.

Each case starts from a queue two passes have worked (decided, team-closed
rows told), reshapes it as a team would, and runs fresh workers through real
gspread against the emulator: 0 notices, 0 re-opened rows, 0 new IDs and 0
value writes while the header is broken; a note in the sheet says the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetqueue.sheets.gsheets_header import (
    COLUMN_KEY,
    METADATA_FIELDS,
    QUEUE_KEY,
    HeaderProblem,
    read_tabs,
    tag_requests,
)
from sheetqueue.sheets.gsheets_layout import Layout
from sheetqueue.sheets.model import CANONICAL_HEADER
from tests.cli_runner import cli_on_sheet
from tests.sheet_contract_kit import CLOSED, WorkedSheet
from tests.store_backends import open_gsheets, shared_emulator

SEVEN = ["Timestamp", "Type", "Email", "Order ID", "Reason", "Conversation ID", "Status"]


def _stopped(sheet: WorkedSheet, reason: str, tab: str = "Requests") -> HeaderProblem:
    """Two fresh passes stop with ``reason``, tell nobody and write no cell value."""
    before = (sheet.values(tab), sheet.messages())
    alerts: list[str] = []
    for _ in range(2):
        with pytest.raises(HeaderProblem) as stop:
            sheet.run(on_alert=alerts.append)
        assert stop.value.reason == reason
    assert alerts == [reason, reason]
    assert (sheet.values(tab), sheet.messages()) == before
    assert sheet.value_writes() == []
    assert sheet.structure_calls() == 1  # the note, posted once
    return stop.value


def _closed_statuses(sheet: WorkedSheet, column: int) -> list[str]:
    return [sheet.values()[row - 1][column] for row in CLOSED]


def test_first_pass_tags_every_column_and_the_tab(tmp_path: Path) -> None:
    """Adopting a tab tags each of its 17 columns and the tab itself, once."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    entries = sheet.emulator.developer_metadata(sheet.book)
    columns = [e for e in entries if e["metadataKey"] == COLUMN_KEY]
    assert sorted(e["location"]["dimensionRange"]["startIndex"] for e in columns) == list(
        range(len(CANONICAL_HEADER))
    )
    assert [e["metadataKey"] for e in entries].count(QUEUE_KEY) == 1
    sheet.run()
    assert sheet.structure_calls() == 0


def test_renamed_status_stops_work_and_the_fix_resumes_it(tmp_path: Path) -> None:
    """'Status' renamed 'Status (team)': stop with a note; renamed back, work goes on."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Status", "Status (team)")
    problem = _stopped(sheet, "column_renamed")
    assert "'Status (team)'" in str(problem) and "rename the header back" in problem.fix
    note = sheet.emulator.note(sheet.book, "Requests", "A1")
    assert "Status (team)" in note and "Fix:" in note
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Status (team)", "Status")
    told = sheet.messages()
    sheet.run()
    assert sheet.emulator.note(sheet.book, "Requests", "A1") == ""
    assert sheet.messages() == told
    assert _closed_statuses(sheet, CANONICAL_HEADER.index("Status")) == list(CLOSED.values())


def test_an_empty_status_column_inserted_left_stops_work(tmp_path: Path) -> None:
    """A new column headed 'Status' left of the worker's is a duplicate: stop, re-open nothing."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.insert_blank_columns(sheet.book, "Requests", "Status")
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "D", "Status")
    problem = _stopped(sheet, "duplicate_header")
    assert "the worker's is E" in problem.problem
    assert _closed_statuses(sheet, CANONICAL_HEADER.index("Status") + 1) == list(CLOSED.values())


def test_columns_inserted_without_a_known_header_are_followed(tmp_path: Path) -> None:
    """A blank team column left of Status moves the tags with it; the pass works as before."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.insert_blank_columns(sheet.book, "Requests", "Status")
    told = sheet.messages()
    report = sheet.run()
    assert report.failed == 0
    assert sheet.messages() == told
    assert all(not column.endswith("!#4") for column in sheet.value_writes())


def test_order_id_renamed_to_an_alias_is_still_read(tmp_path: Path) -> None:
    """'Order #' is a built-in alias of Order ID: nothing is re-decided, nobody is told."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Order ID", "Order #")
    before, told = sheet.values()[1:], sheet.messages()
    sheet.run()
    assert sheet.messages() == told
    assert [row[:5] for row in sheet.values()[1:]] == [row[:5] for row in before]


def test_order_id_renamed_to_an_unknown_header_stops_until_aliased(tmp_path: Path) -> None:
    """'Order Ref' stops work and names [sheet.aliases]; configured there, work resumes."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Order ID", "Order Ref")
    problem = _stopped(sheet, "column_renamed")
    assert "[sheet.aliases]" in problem.fix
    sheet.settings_overrides = {"sheet": {"aliases": {"order_id": ["Order Ref"]}}}
    told = sheet.messages()
    sheet.run()
    assert sheet.messages() == told


def test_a_title_row_above_the_header_stops_work(tmp_path: Path) -> None:
    """A title row inserted above: 'sheetqueue tick' exits 1 naming row 2, writes no header."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.insert_blank_rows(sheet.book, "Requests", 1)
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "A", "Team queue - December")
    problem = _stopped(sheet, "header_moved")
    assert "row 2" in problem.problem
    cli = cli_on_sheet(
        tmp_path,
        sheet.emulator,
        sheet.book,
        SHEETQUEUE_STATE_PATH=str(tmp_path / "state.db"),
    )
    result = cli("tick")
    assert result.code == 1, result.stdout
    assert "row 2" in result.stderr and "Traceback" not in result.stderr
    assert sheet.values()[0] == ["Team queue - December"]
    assert sheet.value_writes() == []


def test_a_deleted_request_id_column_stops_work_and_issues_no_id(tmp_path: Path) -> None:
    """Request ID deleted: stop and say restore it; no new column, no new ID."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.delete_columns(sheet.book, "Requests", "Request ID")
    problem = _stopped(sheet, "column_missing")
    assert "'Request ID'" in problem.problem and "Undo" in problem.fix
    assert "Request ID" not in sheet.values()[0]
    assert sheet.emulator.note(sheet.book, "Requests", "A1").startswith("sheetqueue stopped")


def test_merged_cells_in_worker_columns_are_reported_and_never_written(tmp_path: Path) -> None:
    """Rows under a merge in a worker column are skipped; the rest are worked as usual."""
    emu = shared_emulator()
    sheet = WorkedSheet(emu, tmp_path)
    note = CANONICAL_HEADER.index("Worker Note")
    emu.merge_cells(sheet.book, "Requests", "M6:M7")
    emu.edit_cell(sheet.book, "Requests", 6, "Status", "")  # open again: the worker would decide
    emu.edit_cell(sheet.book, "Requests", 7, "Decision", "")
    alerts: list[str] = []
    sheet.run(on_alert=alerts.append)
    assert alerts == ["merged_cells"]
    rows = sheet.values()
    assert rows[5][CANONICAL_HEADER.index("Status")] == ""
    assert len(rows[6]) <= note or rows[6][note] == ""
    assert rows[6][CANONICAL_HEADER.index("Decision")] == ""


def test_a_renamed_tab_stops_work_and_init_sheet_names_it(tmp_path: Path) -> None:
    """Requests renamed: the worker stops; init-sheet exits 2 naming the tab, creates none."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.rename_tab(sheet.book, "Requests", "Queue (old)")
    problem = _stopped(sheet, "tab_renamed", "Queue (old)")
    assert "SHEETQUEUE_REQUESTS_TAB='Queue (old)'" in problem.fix
    assert sheet.emulator.note(sheet.book, "Queue (old)", "A1").startswith("sheetqueue stopped")
    cli = cli_on_sheet(tmp_path, sheet.emulator, sheet.book)
    result = cli("init-sheet")
    assert result.code == 2, result.stdout
    assert "'Queue (old)'" in result.stderr and "SHEETQUEUE_REQUESTS_TAB" in result.stderr
    with sheet.emulator.lock:
        assert sheet.emulator.workspace.get(sheet.book).find_title("Requests") is None


def test_init_sheet_finds_an_untagged_queue_under_another_name(tmp_path: Path) -> None:
    """A queue never tagged, in a tab named otherwise: init-sheet says so (exit 2)."""
    emu = shared_emulator()
    _store, book = open_gsheets(emu, {"Team queue": [list(CANONICAL_HEADER)], "_sheetqueue": []})
    cli = cli_on_sheet(tmp_path, emu, book)
    result = cli("init-sheet")
    assert result.code == 2 and "'Team queue'" in result.stderr


def test_a_second_request_id_header_stops_work(tmp_path: Path) -> None:
    """A team column renamed 'Request ID' duplicates the worker's: stop."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    sheet.emulator.edit_cell(sheet.book, "Requests", 1, "Team Note", "Request ID")
    _stopped(sheet, "column_renamed")


def test_duplicate_headers_on_a_new_sheet_stop_adoption(tmp_path: Path) -> None:
    """Two 'Status' columns on a sheet seen the first time: no column added, none tagged."""
    emu = shared_emulator()
    row = ["2026-11-22T09:30:00", "refund", "a@example.com", "ORD-1", "", "c1", "Done", "Done"]
    store, book = open_gsheets(emu, {"Requests": [[*SEVEN, "Status"], row]})
    with pytest.raises(HeaderProblem) as stop:
        store.ensure_header()
    assert stop.value.reason == "duplicate_header"
    assert emu.values(book, "Requests")[0] == [*SEVEN, "Status"]
    assert [e["metadataKey"] for e in emu.developer_metadata(book)] == ["sheetqueue:alert"]


def test_a_new_sheet_with_requests_but_no_status_column_is_not_adopted() -> None:
    """Rows but no Status column: adding an empty one would re-open them, so stop."""
    emu = shared_emulator()
    header = [h if h != "Status" else "State" for h in SEVEN]
    row = ["2026-11-22T09:30:00", "refund", "a@example.com", "ORD-1", "", "c1", "Done"]
    store, book = open_gsheets(emu, {"Requests": [header, row]})
    with pytest.raises(HeaderProblem) as stop:
        store.ensure_header()
    assert stop.value.reason == "column_missing" and "'Status'" in stop.value.problem
    assert emu.values(book, "Requests")[0] == header


def test_the_seven_column_sheet_is_adopted_and_tagged() -> None:
    """The chat platform's sheet gets its 10 columns on the right and 17 tags."""
    emu = shared_emulator()
    row = ["2026-11-22T09:30:00", "refund", "a@example.com", "ORD-1", "", "c1", ""]
    store, book = open_gsheets(emu, {"Requests": [SEVEN, row]})
    added = store.ensure_header()
    assert len(added) == 10
    tags = [e for e in emu.developer_metadata(book) if e["metadataKey"] == COLUMN_KEY]
    assert len(tags) == len(CANONICAL_HEADER)
    assert emu.values(book, "Requests")[1] == row[:6]


def test_an_alias_for_an_unknown_column_is_bad_configuration() -> None:
    """[sheet.aliases] keyed by a column the queue does not have: one line naming it."""
    from sheetqueue.config.errors import ConfigError
    from sheetqueue.config.settings import Settings
    from sheetqueue.sheets.gsheets_store import GsheetsStore

    settings = Settings(
        backend="gsheets",
        spreadsheet_id="x",
        sheets_api_url="http://127.0.0.1:9",
        sheet={"aliases": {"order_ref": ["Order Ref"]}},
    )
    with pytest.raises(ConfigError) as error:
        GsheetsStore.from_settings(settings)
    assert "[sheet.aliases]" in str(error.value) and "'order_ref'" in str(error.value)


def test_two_workers_adopting_one_new_sheet_at_once_do_not_stop_it(tmp_path: Path) -> None:
    """A second adopter tagging the same columns again is one tag per column: work goes on."""
    sheet = WorkedSheet(shared_emulator(), tmp_path)
    store = sheet.store()
    [tab] = [t for t in read_tabs(store.api.metadata(METADATA_FIELDS)) if t.title == "Requests"]
    columns = {name: where[0] for name, where in tab.columns.items()}
    layout = Layout(tuple(CANONICAL_HEADER), columns)
    store.api.structure(tag_requests(tab.sheet_id, layout, None))  # the other adopter's tags
    store.close()
    report = sheet.run()
    assert report.rows == len(sheet.values()) - 1
    assert sheet.value_writes() == []
