"""Rows a pass leaves as cells: history adopted in parts; rows that still need the worker."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bench.workload import NOW, requests
from sheetqueue.bootstrap import build_worker
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LogEntry
from sheetqueue.sheets.store import CellUpdate, UpdateResult
from sheetqueue.worker import adoption
from sheetqueue.worker.tick import PassReport, Worker
from tests.smtp_server import SmtpServer
from tests.store_backends import gsheets_settings, shared_emulator, workload_sheet

ROWS = 30  # one in 5 Pending, the rest closed history
NOTIFIED = CANONICAL_HEADER.index("Notified")
STATUS = CANONICAL_HEADER.index("Status")


@dataclass
class Sheet:
    book: str
    store: GsheetsStore
    worker: Worker

    def rows(self) -> dict[str, list[str]]:
        """Request ID -> the row's cells as the sheet holds them (formatted)."""
        values = shared_emulator().values(self.book, "Requests")[1:]
        cells = [
            [str(c) for c in row] + [""] * (len(CANONICAL_HEADER) - len(row)) for row in values
        ]
        return {row[0]: row for row in cells if row and row[0]}

    def row_number(self, request_id: str) -> int:
        values = shared_emulator().values(self.book, "Requests")
        return next(i for i, row in enumerate(values, start=1) if row and row[0] == request_id)

    def edit(self, request_id: str, column: int, value: str) -> None:
        shared_emulator().edit_cell(
            self.book, "Requests", self.row_number(request_id), column, value
        )

    def run(self, minute: int) -> PassReport:
        return self.worker.run_pass(NOW + timedelta(minutes=minute))


@pytest.fixture
def sheet(tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sheet]:
    """30 requests (6 Pending) against 30 orders; adoption parts of 7 rows."""
    monkeypatch.setattr(adoption, "ADOPT_PART_ROWS", 7)
    emulator = shared_emulator()
    store, book = workload_sheet(ROWS, 5)
    settings = gsheets_settings(
        emulator, book, state_path=tmp_path / "state.db", notify=[smtp.url()]
    )
    worker = build_worker(settings, store)
    yield Sheet(book, store, worker)
    worker.ledger.close()
    store.close()


def _statuses(sheet: Sheet) -> dict[str, int]:
    return dict(Counter(row[STATUS] for row in sheet.rows().values()))


def test_history_is_adopted_in_parts_each_row_once(sheet: Sheet) -> None:
    """24 closed rows marked adopted over 4 checked writes, one Log line each; counts by status."""
    before = sheet.store.calls
    report = sheet.run(0)
    assert sum(report.adopted.values()) == 24
    assert report.adopted == dict(
        Counter(r.status for r in requests(ROWS, 5) if r.status != "Pending")
    )
    rows = sheet.rows()
    history = {r.request_id for r in requests(ROWS, 5) if r.status != "Pending"}
    closed = [row for request_id, row in rows.items() if request_id in history]
    assert len(closed) == 24
    assert all(row[NOTIFIED].startswith(f"adopted {row[STATUS]} ") for row in closed)
    adopted_lines = [e for e in sheet.store.read_log() if e.by == "adopted"]
    assert sorted(e.request_id for e in adopted_lines) == sorted(
        r.request_id for r in requests(ROWS, 5) if r.status != "Pending"
    )
    # header + read, 4 adoption parts (check + write each), the decisions' write, then sending
    assert sheet.store.calls - before >= 2 + 4 * 2 + 2
    assert report.statuses == _statuses(sheet)
    again = sheet.run(1)
    assert again.adopted == {} and again.statuses == _statuses(sheet)
    assert len([e for e in sheet.store.read_log() if e.by == "adopted"]) == 24


def test_a_closed_row_whose_cell_says_owed_is_still_sent_once(
    sheet: Sheet, smtp: SmtpServer
) -> None:
    """A quiet-looking Done row whose Notified cell owes a notice is told once, then quiet."""
    sheet.run(0)
    sheet.run(1)
    sent = len(smtp.messages)
    done = next(r for r in requests(ROWS, 5) if r.status == "Done")
    sheet.edit(
        done.request_id,
        NOTIFIED,
        "seen Pending 2026-11-01T10:00:00Z; Done owed 2026-11-01T10:05:00Z",
    )
    sheet.run(2)
    assert len(smtp.messages) == sent + 1
    assert smtp.messages[-1].rcpt_tos == [done.email]
    assert sheet.rows()[done.request_id][NOTIFIED].startswith(
        "seen Pending 2026-11-01T10:00:00Z; Done "
    )
    assert " owed" not in sheet.rows()[done.request_id][NOTIFIED]
    sheet.run(3)
    sheet.run(4)
    assert len(smtp.messages) == sent + 1


def test_team_moves_on_quiet_rows_are_still_seen(sheet: Sheet) -> None:
    """A history row set Pending is refused and reported; Done -> Rejected is logged; counts."""
    sheet.run(0)
    sheet.run(1)
    history = [r for r in requests(ROWS, 5) if r.status == "Done"]
    reopened, moved = history[0], history[1]
    sheet.edit(reopened.request_id, STATUS, "Pending")
    sheet.edit(moved.request_id, STATUS, "Rejected")
    report = sheet.run(2)
    assert any(
        p.startswith(f"{reopened.request_id}: reads Pending but was Done") for p in report.problems
    )
    assert sheet.rows()[reopened.request_id][STATUS] == "Pending"  # left alone, never re-decided
    team = [e for e in sheet.store.read_log() if e.by == "team"]
    assert [
        (e.request_id, e.from_status, e.to_status) for e in team if e.request_id == moved.request_id
    ] == [(moved.request_id, "Done", "Rejected")]
    assert report.statuses == _statuses(sheet)
    assert report.statuses["Pending"] >= 1


_ORDER_IN_NOTE = re.compile(r"\bORD-[0-9A-Z-]+\b")


def _by_header(sheet: Sheet) -> list[dict[str, str]]:
    """Every data row holding a Request ID, as header name -> cell (wherever the columns are)."""
    values = shared_emulator().values(sheet.book, "Requests")
    header = [str(cell) for cell in values[0]]
    rows = []
    for row in values[1:]:
        cells = [str(c) for c in row] + [""] * (len(header) - len(row))
        named = dict(zip(header, cells, strict=False))
        if named.get("Request ID"):
            rows.append(named)
    return rows


def _assert_every_write_in_its_own_row(sheet: Sheet) -> None:
    """Every request once; an adopted cell names its row's status; notes name the row's order."""
    rows = _by_header(sheet)
    expected = {r.request_id: r for r in requests(ROWS, 5)}
    assert sorted(row["Request ID"] for row in rows) == sorted(expected)
    lines = {e.request_id: e for e in sheet.store.read_log() if e.by == "adopted"}
    adopted_lines = [e for e in sheet.store.read_log() if e.by == "adopted"]
    assert len(adopted_lines) == len(lines)  # each row adopted once
    for row in rows:
        request = expected[row["Request ID"]]
        assert row["Order ID"] == request.order_id and row["Email"] == request.email
        if request.status != "Pending":
            assert row["Status"] == request.status  # history is never re-decided
        assert set(_ORDER_IN_NOTE.findall(row["Worker Note"])) <= {request.order_id}
        if row["Notified"].startswith("adopted "):
            line = lines.get(request.request_id)  # the log line of this very row
            assert line is not None, f"{request.request_id} marked adopted, never logged"
            assert row["Notified"] == f"adopted {request.status} {line.time}"


def _wrap_writes(
    sheet: Sheet, monkeypatch: pytest.MonkeyPatch, before: Callable[[int], None]
) -> list[UpdateResult]:
    """Run ``before(n)`` ahead of the pass's n-th checked write (0 first); keep each result."""
    store = sheet.worker.store
    assert isinstance(store, GsheetsStore)
    write = store.update_cells
    results: list[UpdateResult] = []

    def update_cells(updates: Sequence[CellUpdate], log: Sequence[LogEntry] = ()) -> UpdateResult:
        before(len(results))
        result = write(updates, log)
        results.append(result)
        return result

    monkeypatch.setattr(store, "update_cells", update_cells)
    return results


def test_rows_moved_between_adoption_parts_are_skipped_never_overwritten(
    sheet: Sheet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The team sorts and inserts rows after the first part: later parts skip, next pass adopts."""
    emulator = shared_emulator()

    def team(n: int) -> None:
        if n == 1:  # the first part is written; the read's row numbers are stale from here on
            emulator.sort_rows(sheet.book, "Requests", "Email", descending=True)
            emulator.insert_blank_rows(sheet.book, "Requests", 3, 2)

    results = _wrap_writes(sheet, monkeypatch, team)
    first = sheet.run(0)
    assert len(results) == 5  # four adoption parts, then the decisions' write
    assert len(results[0].applied) == 7
    assert sum(len(r.skipped) for r in results[1:]) > 0
    assert sum(first.adopted.values()) < 24
    _assert_every_write_in_its_own_row(sheet)
    monkeypatch.undo()
    sheet.run(1)
    sheet.run(2)
    _assert_every_write_in_its_own_row(sheet)
    assert len([e for e in sheet.store.read_log() if e.by == "adopted"]) == 24


def test_header_moved_before_an_adoption_part_later_writes_use_the_new_columns(
    sheet: Sheet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column inserted left of the header after the read: that part skips, the rest land right."""
    emulator = shared_emulator()

    def team(n: int) -> None:
        if n == 0:
            emulator.insert_blank_columns(sheet.book, "Requests", "A", 1)

    results = _wrap_writes(sheet, monkeypatch, team)
    sheet.run(0)
    assert results[0].applied == [] and len(results[0].skipped) == 7
    assert all(r.skipped == [] for r in results[1:])
    _assert_every_write_in_its_own_row(sheet)
    values = emulator.values(sheet.book, "Requests")
    assert all(not row or row[0] in ("", None) for row in values)  # the new column untouched
    monkeypatch.undo()
    sheet.run(1)
    _assert_every_write_in_its_own_row(sheet)
    assert len([e for e in sheet.store.read_log() if e.by == "adopted"]) == 24
