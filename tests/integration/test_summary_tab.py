"""The Summary tab on the emulator (real gspread over HTTP): in the pass's write, or no write."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.summary_picture import summary_picture
from bench.workload import NOW, orders, requests
from sheetqueue.bootstrap import build_worker
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.sheet_setup import init_sheet, overdue_formula
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from sheetqueue.worker.tick import Worker
from tests.factories import make_request
from tests.store_backends import gsheets_settings, no_sleep_backoff, shared_emulator

ROWS = 12
SEVEN = ["Timestamp", "Type", "Email", "Order ID", "Reason", "Conversation ID", "Status"]


def _store(emulator: Emulator, book: str) -> GsheetsStore:
    assert emulator.url is not None
    api = SheetsApi(emulator_client(emulator.url, 5.0), book, backoff=no_sleep_backoff())
    return GsheetsStore(api, orders_with_queue=True, summary_tab="Summary")


def _queue(
    tmp_path: Path, *, with_tab: bool = True, **settings: object
) -> tuple[Emulator, str, GsheetsStore, Worker]:
    emulator = shared_emulator()
    tabs: dict[str, list[list[str]]] = {
        "Requests": [list(CANONICAL_HEADER)],
        "Log": [list(LOG_HEADER)],
        "Orders": [],
    }
    if with_tab:
        tabs["Summary"] = []
    book = emulator.create_spreadsheet("Queue", tabs)
    store = _store(emulator, book)
    store.replace_orders(orders(ROWS))
    store.add_requests(requests(ROWS))
    config = gsheets_settings(emulator, book, state_path=tmp_path / "s.db", **settings)
    return emulator, book, store, build_worker(config, store)


def _value_writes(emulator: Emulator) -> list[tuple[str, ...]]:
    """The columns each values.batchUpdate touched, one tuple per call."""
    return [c.columns for c in emulator.calls if c.path.endswith("values:batchUpdate")]


def _summary(emulator: Emulator, book: str) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in emulator.values(book, "Summary") if row}


def test_a_pass_writes_the_summary_in_its_row_write_and_a_quiet_pass_writes_nothing(
    tmp_path: Path,
) -> None:
    """The first pass's one row write carries the tab; the next pass: 2 reads, no write."""
    emulator, book, store, worker = _queue(tmp_path)
    emulator.reset_log()
    worker.record_pass(NOW)
    (first,) = _value_writes(emulator)
    assert any(c.startswith("Requests!") for c in first)
    assert any(c.startswith("Summary!") for c in first)
    worker.send(NOW, worker.record_pass(NOW + timedelta(seconds=1)))
    picture = emulator.values(book, "Summary")
    assert _summary(emulator, book)["Total"] == [str(ROWS)]
    emulator.reset_log()
    before = store.calls
    worker.run_pass(NOW + timedelta(minutes=5))
    assert store.calls - before == 1 and _value_writes(emulator) == []
    assert emulator.values(book, "Summary") == picture
    worker.close()


def test_a_team_edit_updates_the_summary_in_the_same_write_as_its_log_line(
    tmp_path: Path,
) -> None:
    """A status a person set is counted on the next pass, written with the audit line."""
    emulator, book, _unused, worker = _queue(tmp_path)
    worker.run_pass(NOW)
    worker.run_pass(NOW + timedelta(minutes=1))
    done_before = int(_summary(emulator, book)["Done"][0])
    status = CANONICAL_HEADER.index("Status")
    rows = emulator.values(book, "Requests")
    row = next(i for i, r in enumerate(rows[1:], 2) if r[status] in ("Eligible", "Needs Review"))
    emulator.edit_cell(book, "Requests", row, "Status", "Done")
    emulator.reset_log()
    worker.record_pass(NOW + timedelta(minutes=2))
    writes = _value_writes(emulator)
    assert any(
        any(c.startswith("Summary!") for c in w) and any(c.startswith("Log!") for c in w)
        for w in writes
    )
    assert _summary(emulator, book)["Done"] == [str(done_before + 1)]
    worker.close()


def test_a_changed_summary_with_no_row_to_write_is_one_write(tmp_path: Path) -> None:
    """A day later only ages moved: the header check, the read, and the tab's write."""
    emulator, book, store, worker = _queue(tmp_path)
    worker.run_pass(NOW)
    worker.run_pass(NOW + timedelta(minutes=1))
    emulator.reset_log()
    before = store.calls
    report = worker.record_pass(NOW + timedelta(days=1, minutes=1))
    assert report.planned == 0
    assert store.calls - before == 3
    (only,) = _value_writes(emulator)
    assert only and all(c.startswith("Summary!") for c in only)
    assert _summary(emulator, book)["Updated"] == ["2026-11-23T09:31:00Z"]
    worker.close()


def test_a_missing_tab_is_made_once_and_a_person_s_edit_of_it_is_put_right(
    tmp_path: Path,
) -> None:
    """No Summary tab: the first write makes it; typing over a count is undone next pass."""
    emulator, book, _unused, worker = _queue(tmp_path, with_tab=False)
    emulator.reset_log()
    worker.run_pass(NOW)
    made = [c for c in emulator.calls if c.path.endswith(":batchUpdate") and "values" not in c.path]
    assert len(made) == 1
    total = _summary(emulator, book)["Total"]
    emulator.edit_cell(book, "Summary", 11, "B", "999")
    worker.run_pass(NOW + timedelta(minutes=1))
    assert _summary(emulator, book)["Total"] == total
    worker.close()


def test_shopper_text_starting_with_equals_lands_as_text(tmp_path: Path) -> None:
    """A request type typed as a formula shows in the tab as the very text, never evaluated."""
    emulator, book, store, worker = _queue(tmp_path)
    shopper = make_request(
        request_id="REQ-EQ", timestamp="2026-11-01T09:00:00Z", type="=1+1", conversation_id="eq"
    )
    store.add_requests([shopper])  # as the bot records it: RAW
    worker.run_pass(NOW)
    oldest = _summary(emulator, book)["Oldest open"]
    assert oldest[:2] == ["REQ-EQ", "=1+1"]
    with emulator.lock:
        sheet = emulator.sheet(book, "Summary")
        assert all(cell is None or not cell.formula for row in sheet.rows for cell in row)
    worker.close()


def test_init_sheet_adds_the_overdue_colour_once_on_the_columns_where_they_are(
    tmp_path: Path,
) -> None:
    """The rule names Timestamp and Status where the team keeps them, and follows a move."""
    emulator = shared_emulator()
    book = emulator.create_spreadsheet("Queue", {"Requests": [SEVEN]})
    store = _store(emulator, book)
    changes = init_sheet(store, review_after_days=3)
    assert "colour for rows open over 3 days" in changes and "created tab 'Summary'" in changes
    rule = _overdue_rules(emulator, book)
    assert len(rule) == 1
    formula = rule[0]["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
    assert "$A2" in formula and "TRIM($G2)" in formula and ">=3)" in formula
    assert all(r["startColumnIndex"] != 6 for r in rule[0]["ranges"])  # Status keeps its colour
    emulator.reset_log()
    assert init_sheet(_store(emulator, book), review_after_days=3) == []
    assert emulator.counts()["write"] == 0
    emulator.insert_blank_columns(book, "Requests", "A")  # Timestamp is now B, Status H
    moved = _store(emulator, book)
    init_sheet(moved, review_after_days=3)
    (rule_after,) = _overdue_rules(emulator, book)
    assert moved.layout is not None
    want = overdue_formula(moved.layout, 3)
    assert rule_after["booleanRule"]["condition"]["values"][0]["userEnteredValue"] == want
    assert "$B2" in want and "TRIM($H2)" in want
    assert init_sheet(_store(emulator, book), review_after_days=3) == []


def _overdue_rules(emulator: Emulator, book: str) -> list[dict[str, Any]]:
    with emulator.lock:
        rules = list(emulator.sheet(book, "Requests").conditional_formats)
    return [r for r in rules if r["booleanRule"]["condition"].get("type") == "CUSTOM_FORMULA"]


def test_the_readme_shows_the_picture_the_script_prints() -> None:
    """The README's rendering of the tab is the emulator's cells as the script prints them."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Summary tab", 1)[1]
    block = section.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert block == summary_picture()


def test_with_the_summary_a_pass_costs_the_calls_it_cost_without(tmp_path: Path) -> None:
    """Decide, mark, send, note: 8 calls; then quiet passes: 1, the tab read with the queue."""
    _emulator, _book, store, worker = _queue(tmp_path)
    calls = []
    for minute in range(3):
        before = store.calls
        worker.run_pass(NOW + timedelta(minutes=minute))
        calls.append(store.calls - before)
    worker.close()
    assert calls == [8, 1, 1]


def test_a_deleted_tab_comes_back_on_the_next_pass(tmp_path: Path) -> None:
    """A person deletes the Summary tab: the next pass makes it again and fills it."""
    emulator, book, store, worker = _queue(tmp_path)
    worker.run_pass(NOW)
    picture = emulator.values(book, "Summary")
    tab = store.tabs.properties("Summary")
    assert tab is not None
    store.api.structure([{"deleteSheet": {"sheetId": tab["sheetId"]}}])
    worker.run_pass(NOW + timedelta(minutes=1))
    again = emulator.values(book, "Summary")
    assert again[1] == ["Updated", "2026-11-22T09:31:00Z"]
    assert again[:1] + again[2:] == picture[:1] + picture[2:]
    worker.close()
