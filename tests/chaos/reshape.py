"""A team of three reshaping the queue between worker passes, and the audit of what happened.

Each round, three people each make one edit a team makes: rename a header,
insert a column (blank, or headed like the worker's Status), merge cells in a
worker column, insert a title row, rename the tab, sort the rows, close a
request; now and then one of them undoes the oldest edit that broke the
header. Then a fresh worker runs one pass (stopped or not). The audit checks:
no notice twice or for a request nobody moved during the run, no row a pass
saw closed re-opened, no Request ID issued, no value written outside the
worker's columns.
"""

from __future__ import annotations

import email
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from bench.workload import NOW
from sheetqueue.sheets.gsheets_header import HeaderProblem
from sheetqueue.sheets.model import CANONICAL_HEADER, HEADER_BY_FIELD, WORKER_FIELDS, Status
from sheetqueue.sheets.testing.emulator import Emulator, batch
from sheetqueue.sheets.times import parse_time
from tests.sheet_contract_kit import WorkedSheet

__all__ = ["ReshapeRun", "run_reshape"]

_WORKER_HEADERS = {HEADER_BY_FIELD[name] for name in WORKER_FIELDS}


@dataclass
class ReshapeRun:
    """What the run saw, for the assertions."""

    stops: Counter[str] = field(default_factory=Counter)
    edits: Counter[str] = field(default_factory=Counter)
    passes: int = 0
    reopened: list[str] = field(default_factory=list)
    new_ids: set[str] = field(default_factory=set)
    team_column_writes: list[str] = field(default_factory=list)
    repeated_notices: list[tuple[str, str]] = field(default_factory=list)
    unexplained_notices: list[str] = field(default_factory=list)


def run_reshape(emulator: Emulator, tmp_path: Path, rounds: int, seed: int) -> ReshapeRun:
    """Work a queue for ``rounds`` rounds of team edits; return the audit."""
    sheet = WorkedSheet(emulator, tmp_path)
    team = _Team(sheet, random.Random(seed))
    first_ids = team.ids()
    told_before = _notices(tmp_path)
    closed_at: dict[str, int] = {}
    run = ReshapeRun()
    for _round in range(rounds):
        for _person in range(3):
            run.edits[team.act()] += 1
        try:
            sheet.run()
        except HeaderProblem as stop:
            run.stops[stop.reason] += 1
        run.passes += 1
        snapshot = team.statuses()
        if snapshot is not None:
            run.new_ids |= set(snapshot) - first_ids
            for request_id, status in snapshot.items():
                parsed = Status.parse(status)
                if parsed is not None and parsed.is_closed:
                    closed_at.setdefault(request_id, sheet.passes)
        for request_id, moved_at in team.worker_moves():
            if request_id in closed_at and moved_at > closed_at[request_id]:
                run.reopened.append(request_id)
    while team.undo():
        pass
    sheet.run()
    run.team_column_writes = [
        column
        for column in sheet.value_writes()
        if column.startswith(f"{team.tab}!") and column.partition("!")[2] not in _WORKER_HEADERS
    ]
    told = _notices(tmp_path)
    counts = Counter(told)
    run.repeated_notices = [key for key, n in counts.items() if n > 1]
    moved = team.closed | team.worker_moved()
    run.unexplained_notices = [
        request_id for request_id, _subject in told[len(told_before) :] if request_id not in moved
    ]
    return run


class _Team:
    """Three people's edits, each breaking edit with its undo."""

    def __init__(self, sheet: WorkedSheet, rng: random.Random) -> None:
        self.sheet = sheet
        self.emu = sheet.emulator
        self.book = sheet.book
        self.rng = rng
        self.tab = "Requests"
        self.broken: list[Callable[[], None]] = []
        self.closed: set[str] = set()

    def act(self) -> str:
        actions: list[Callable[[], str]] = [
            self._rename_header,
            self._insert_blank_column,
            self._insert_status_column,
            self._merge,
            self._title_row,
            self._rename_tab,
            self._sort,
            self._close,
            self._close,
        ]
        if self.broken and self.rng.random() < 0.6:
            self.undo()
            return "undo"
        return self.rng.choice(actions)()

    def undo(self) -> bool:
        if not self.broken:
            return False
        self.broken.pop(0)()
        return True

    # -- edits ------------------------------------------------------------

    def _header(self) -> list[str]:
        return [str(cell) for cell in (self.emu.values(self.book, self.tab) or [[]])[0]]

    def _rename_header(self) -> str:
        if self.broken:
            return "wait"
        header = self._header()
        known = [i for i, h in enumerate(header) if h in CANONICAL_HEADER]
        index = self.rng.choice(known)
        old = header[index]
        self.emu.edit_cell(self.book, self.tab, 1, index, f"{old} (team)")
        self.broken.append(lambda: self.emu.edit_cell(self.book, self.tab, 1, index, old))
        return "rename_header"

    def _insert_blank_column(self) -> str:
        if self.broken:
            return "wait"
        at = self.rng.randrange(len(self._header()) + 1)
        self.emu.insert_blank_columns(self.book, self.tab, at)
        return "insert_blank_column"

    def _insert_status_column(self) -> str:
        if self.broken:
            return "wait"
        at = self._header().index("Status")
        self.emu.insert_blank_columns(self.book, self.tab, at)
        self.emu.edit_cell(self.book, self.tab, 1, at, "Status")
        self.broken.append(lambda: self.emu.delete_columns(self.book, self.tab, at))
        return "insert_status_column"

    def _merge(self) -> str:
        if self.broken:
            return "wait"
        header = self._header()
        worker = [i for i, h in enumerate(header) if h in _WORKER_HEADERS]
        col = self.rng.choice(worker)
        row = self.rng.randrange(2, len(self.emu.values(self.book, self.tab)))
        with self.emu.lock:
            sheet = self.emu.sheet(self.book, self.tab)
            if any(m["startColumnIndex"] <= col < m["endColumnIndex"] for m in sheet.merges):
                return "wait"
            span = {
                "sheetId": sheet.sheet_id,
                "startRowIndex": row - 1,
                "endRowIndex": row + 1,
                "startColumnIndex": col,
                "endColumnIndex": col + 1,
            }
            book = self.emu.workspace.get(self.book)
            batch.apply(book, {"requests": [{"mergeCells": {"range": span}}]})
        return "merge"

    def _title_row(self) -> str:
        if self.broken:
            return "wait"
        self.emu.insert_blank_rows(self.book, self.tab, 1)
        self.emu.edit_cell(self.book, self.tab, 1, 0, "Queue - December")
        self.broken.append(lambda: self.emu.delete_rows(self.book, self.tab, 1))
        return "title_row"

    def _rename_tab(self) -> str:
        if self.broken:
            return "wait"
        old = self.tab
        self.emu.rename_tab(self.book, old, "Queue (team)")
        self.tab = "Queue (team)"

        def back() -> None:
            self.emu.rename_tab(self.book, "Queue (team)", old)
            self.tab = old

        self.broken.append(back)
        return "rename_tab"

    def _sort(self) -> str:
        if self.broken:
            return "wait"
        column = self.rng.choice(["Request ID", "Email", "Status", "Type"])
        try:
            self.emu.sort_rows(self.book, self.tab, column, self.rng.random() < 0.5)
        except ValueError:  # as in Google: no sorting across vertically merged cells
            return "sort_refused"
        return "sort"

    def _close(self) -> str:
        if self.broken:
            return "wait"
        statuses = self.statuses() or {}
        open_ids = [
            rid for rid, status in statuses.items() if status in ("Eligible", "Needs Review")
        ]
        if not open_ids:
            return "wait"
        request_id = self.rng.choice(sorted(open_ids))
        rows = self.emu.values(self.book, self.tab)
        header = [str(cell) for cell in rows[0]]
        id_col, status_col = header.index("Request ID"), header.index("Status")
        for number, row in enumerate(rows[1:], start=2):
            if len(row) > id_col and row[id_col] == request_id:
                done = self.rng.choice(["Done", "Rejected"])
                self.emu.edit_cell(self.book, self.tab, number, status_col, done)
                self.closed.add(request_id)
                break
        return "close"

    # -- reading ------------------------------------------------------------

    def statuses(self) -> dict[str, str] | None:
        """Request ID -> Status, read by header; None while the header is broken."""
        if self.broken:
            return None
        rows = self.emu.values(self.book, self.tab)
        header = [str(cell) for cell in rows[0]]
        id_col, status_col = header.index("Request ID"), header.index("Status")
        found = {}
        for row in rows[1:]:
            if len(row) > id_col and str(row[id_col]).strip():
                found[str(row[id_col])] = str(row[status_col]) if len(row) > status_col else ""
        return found

    def ids(self) -> set[str]:
        return set(self.statuses() or {})

    def worker_moved(self) -> set[str]:
        return {request_id for request_id, _pass in self.worker_moves()}

    def worker_moves(self) -> list[tuple[str, int]]:
        """(Request ID, pass number) of every status move the worker logged."""
        rows = self.emu.values(self.book, "Log")
        start = NOW
        found = []
        for row in rows[1:]:
            when = parse_time(str(row[0]), UTC) if len(row) > 4 and row[4] == "worker" else None
            if when is not None:
                found.append((str(row[1]), round((when - start).total_seconds() / 60)))
        return found


def _notices(tmp_path: Path) -> list[tuple[str, str]]:
    found = []
    for path in sorted((tmp_path / "outbox").rglob("*")):
        if path.is_file():
            message = email.message_from_bytes(path.read_bytes())
            found.append((str(message["X-Sheetqueue-Request"]), str(message["Subject"])))
    return found
