"""Compare-and-set on a sheet: which rows still hold what was read, and the cells to write.

Just before a write, one ``values.batchGet`` reads row 1 (the header may have
moved), the whole column of every expected field (a row may have moved) and
the first two columns of the audit log (where its next free row is). Pure
functions build that read, judge each update against it and turn the ones
that still apply into ValueRanges for one ``values.batchUpdate``;
:class:`CellWriter` makes those two calls, in parts under
:data:`WRITE_LIMIT_BYTES`, each part with its own check and its log lines.
A write whose answer is lost is checked before it is tried again: the log
lines it carried, or the cells it set, show whether it landed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.gsheets_api import Refused, SheetsApi
from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters, quote_tab, runs
from sheetqueue.sheets.gsheets_retry import Transient
from sheetqueue.sheets.gsheets_summary import SummaryTab
from sheetqueue.sheets.gsheets_tabs import Tabs
from sheetqueue.sheets.model import LOG_HEADER, LogEntry
from sheetqueue.sheets.sheet_cells import QUEUE_DATE_FIELDS, SheetCells, cell_value
from sheetqueue.sheets.store import CellUpdate, RowRef, UpdateResult

__all__ = [
    "WRITE_LIMIT_BYTES",
    "CellWriter",
    "Check",
    "Seen",
    "Verdict",
    "judge",
    "log_ranges",
    "row_ranges",
]

log = structlog.get_logger("sheetqueue.gsheets")

WRITE_LIMIT_BYTES = 2_000_000
"""The largest ``values.batchUpdate`` body sent at once (Google advises at most 2 MB)."""


@dataclass(frozen=True)
class Check:
    """The ranges of the pre-write read, and what each one is."""

    tab: str
    log_tab: str
    fields: tuple[str, ...]
    with_log: bool

    @classmethod
    def for_updates(
        cls, tab: str, log_tab: str, layout: Layout, updates: Sequence[CellUpdate], with_log: bool
    ) -> Check:
        names = sorted({name for update in updates for name in update.expect})
        return cls(tab, log_tab, tuple(n for n in names if n in layout.columns), with_log)

    def ranges(self, layout: Layout) -> list[str]:
        quoted = quote_tab(self.tab)
        found = [f"{quoted}!1:1"]
        for name in self.fields:
            letter = layout.letter(name)
            found.append(f"{quoted}!{letter}:{letter}")
        if self.with_log:
            found.append(f"{quote_tab(self.log_tab)}!A:B")
        return found

    def read(self, blocks: Sequence[list[list[Any]]], cells: SheetCells | None = None) -> Seen:
        """What the batchGet (``majorDimension=COLUMNS``) answered, by field.

        With ``cells`` (an unformatted read) each cell is made text as the
        queue's read makes it, so the check compares like with like.
        """
        convert = cells or SheetCells()
        header = [cell_value(column[0]) if column else "" for column in blocks[0]]
        columns = {
            name: _column_texts(block[0] if block else [], name, convert)
            for name, block in zip(self.fields, blocks[1:], strict=False)
        }
        log_rows: list[tuple[str, str]] = []
        if self.with_log:
            block = blocks[1 + len(self.fields)]
            first = [cell_text(c) for c in block[0]] if block else []
            second = [cell_text(c) for c in block[1]] if len(block) > 1 else []
            second += [""] * (len(first) - len(second))
            log_rows = list(zip(first, second, strict=False))
        return Seen(Layout.from_header(header), columns, log_rows, tuple(header))


def _column_texts(column: Sequence[Any], name: str, cells: SheetCells) -> list[str]:
    if name not in QUEUE_DATE_FIELDS:
        return [cell_value(cell) for cell in column]
    return [cell_value(column[0]) if column else "", *(cells.date_cell(c) for c in column[1:])]


@dataclass(frozen=True)
class Seen:
    """The cells read just before writing."""

    layout: Layout
    columns: Mapping[str, list[str]]
    log_rows: list[tuple[str, str]]
    header: tuple[Any, ...] = ()

    def cell(self, name: str, row: int) -> str:
        column = self.columns.get(name, [])
        return column[row - 1] if 0 < row <= len(column) else ""

    def log_holds(self, start_row: int, entries: Sequence[LogEntry]) -> bool:
        """Whether ``entries`` stand in the log from ``start_row`` (a write that landed)."""
        got = self.log_rows[start_row - 1 : start_row - 1 + len(entries)]
        return got == [(entry.time, entry.request_id) for entry in entries]


@dataclass
class Verdict:
    """Each update judged: write it, it already landed, or skip it."""

    write: list[CellUpdate] = field(default_factory=list)
    landed: list[CellUpdate] = field(default_factory=list)
    skipped: list[CellUpdate] = field(default_factory=list)


def judge(updates: Sequence[CellUpdate], seen: Seen, *, after_lost_write: bool) -> Verdict:
    """Sort updates by whether their row still holds what they expect.

    A row whose every expected cell is blank cannot be told apart from any
    other blank row, so it is skipped. After a write whose answer was lost,
    a row already holding the values it was to get counts as landed.
    """
    verdict = Verdict()
    for update in updates:
        row = update.ref.position
        if row < 2 or not any(value.strip() for value in update.expect.values()):
            verdict.skipped.append(update)
            continue
        now = {name: seen.cell(name, row) for name in update.expect}
        if now == dict(update.expect):
            verdict.write.append(update)
        elif after_lost_write and _holds_written(update, now):
            verdict.landed.append(update)
        else:
            verdict.skipped.append(update)
    return verdict


def _holds_written(update: CellUpdate, now: Mapping[str, str]) -> bool:
    changed = False
    for name, expected in update.expect.items():
        written = update.values.get(name)
        if now[name] == expected:
            continue
        if written is None or now[name] != written:
            return False
        changed = True
    return changed


def row_ranges(tab: str, layout: Layout, update: CellUpdate) -> list[dict[str, Any]]:
    """The ValueRanges that write one update's cells, one per run of adjacent columns."""
    by_column = {layout.columns[name]: value for name, value in update.values.items()}
    row = update.ref.position
    quoted = quote_tab(tab)
    ranges = []
    for first, last in runs(list(by_column)):
        cells = [by_column[index] for index in range(first, last + 1)]
        ranges.append(
            {
                "range": f"{quoted}!{column_letters(first)}{row}:{column_letters(last)}{row}",
                "majorDimension": "ROWS",
                "values": [cells],
            }
        )
    return ranges


def log_ranges(
    log_tab: str, used_rows: int, entries: Sequence[LogEntry]
) -> tuple[int, list[dict[str, Any]]]:
    """Where the entries go (first row) and the ValueRanges writing them (with a header if new)."""
    rows = [entry.cells() for entry in entries]
    start = used_rows + 1
    if used_rows == 0:
        rows.insert(0, list(LOG_HEADER))
        start = 2
    first = start - 1 if used_rows == 0 else start
    last = first + len(rows) - 1
    return start, [
        {
            "range": f"{quote_tab(log_tab)}!A{first}:F{last}",
            "majorDimension": "ROWS",
            "values": rows,
        }
    ]


class CellWriter:
    """One store's compare-and-set writes: each part checked, then written in one call."""

    def __init__(
        self,
        api: SheetsApi,
        tabs: Tabs,
        summary: SummaryTab,
        *,
        log_tab: str,
        cells: Callable[[], SheetCells],
        on_header_moved: Callable[[], None],
    ) -> None:
        self.api = api
        self.tabs = tabs
        self.summary = summary
        self.log_tab = log_tab
        self._cells = cells  # the spreadsheet's locale and zone, for the check's dates
        self._on_header_moved = on_header_moved  # the store reads the header afresh

    def write(
        self,
        tab: str,
        layout: Layout,
        merged: Mapping[int, str],
        updates: Sequence[CellUpdate],
        log: Sequence[LogEntry],
    ) -> UpdateResult:
        """Every update whose row still holds what it expects, and ``log``; then the Summary.

        Rows under merged cells are skipped; a column the header lacks raises
        before anything is written.
        """
        on_merged = [u for u in updates if u.ref.position in merged]
        if on_merged:
            updates = [u for u in updates if u.ref.position not in merged]
        for update in updates:
            _check_columns(layout, update.values, tab)
        applied: list[RowRef] = []
        skipped: list[RowRef] = []
        for part, part_log in _chunks(updates, log, WRITE_LIMIT_BYTES):
            done = self._write_part(tab, layout, part, part_log)
            applied += done.applied
            skipped += done.skipped
        result = UpdateResult(applied, skipped)
        if on_merged:
            result = UpdateResult(result.applied, [*result.skipped, *(u.ref for u in on_merged)])
        self.summary.flush()  # nothing carried it (every row skipped): one write of its own
        return result

    def _write_part(
        self, tab: str, layout: Layout, updates: Sequence[CellUpdate], log: Sequence[LogEntry]
    ) -> UpdateResult:
        """One compare-and-set write: the pre-write check, then one ``values.batchUpdate``."""
        with_log = bool(log) or any(update.log for update in updates)
        check = Check.for_updates(tab, self.log_tab, layout, updates, with_log)
        state = _Attempt()
        result: UpdateResult = self.api.backoff.run(
            lambda: self._write_part_once(check, layout, updates, log, state),
            self.api.count_retry,
        )
        return result

    def _write_part_once(
        self,
        check: Check,
        layout: Layout,
        updates: Sequence[CellUpdate],
        extra_log: Sequence[LogEntry],
        state: _Attempt,
    ) -> UpdateResult:
        seen = self._check(check, layout)
        if seen is None:
            return UpdateResult([], [u.ref for u in updates])
        if state.lost is not None and state.lost_log and seen.log_holds(*state.lost_log):
            return state.lost
        verdict = judge(updates, seen, after_lost_write=state.lost is not None)
        entries = [*extra_log, *(e for u in [*verdict.write, *verdict.landed] for e in u.log)]
        data = [item for update in verdict.write for item in row_ranges(check.tab, layout, update)]
        start = 0
        if entries:
            start, written = log_ranges(self.log_tab, len(seen.log_rows), entries)
            data += written
        applied = {id(u) for u in [*verdict.write, *verdict.landed]}
        result = UpdateResult(
            [u.ref for u in updates if id(u) in applied],
            [u.ref for u in updates if id(u) not in applied],
        )
        if data:
            summary = self.summary.ranges()
            self._send([*data, *summary], state, result, (start, entries) if entries else None)
            self.summary.written(summary)
        return result

    def _check(self, check: Check, layout: Layout) -> Seen | None:
        """The pre-write read; None when the header moved (nothing may be written)."""
        try:
            blocks = self.api.batch_get(check.ranges(layout), major="COLUMNS", unformatted=True)
        except Refused as exc:
            if not check.with_log or not self.tabs.ensure_log():
                raise
            blocks = self.api.batch_get(check.ranges(layout), major="COLUMNS", unformatted=True)
            log.info("sheet.log_tab_created", tab=self.log_tab, after=exc.text)
        seen = check.read(blocks, self._cells())
        if not layout.holds_header(seen.header):
            log.warning("sheet.header_moved", tab=check.tab)
            self._on_header_moved()
            return None
        return seen

    def _send(
        self,
        data: list[dict[str, Any]],
        state: _Attempt,
        result: UpdateResult,
        lines: tuple[int, list[LogEntry]] | None,
    ) -> None:
        """The ``values.batchUpdate``; the Log grid grown once when the lines fall past it."""
        try:
            self._send_once(data, state, result, lines)
        except Refused as exc:
            if lines is None or "exceeds grid limits" not in exc.text:
                raise
            self.tabs.grow_log(lines[0] + len(lines[1]))
            self._send_once(data, state, result, lines)

    def _send_once(
        self,
        data: list[dict[str, Any]],
        state: _Attempt,
        result: UpdateResult,
        lines: tuple[int, list[LogEntry]] | None,
    ) -> None:
        try:
            self.api.batch_write(data, retry=False)
        except Transient as exc:
            if exc.maybe_applied:
                state.lost, state.lost_log = result, lines
            raise


class _Attempt:
    """What a failed write left behind, for the next try to look at."""

    def __init__(self) -> None:
        self.lost: UpdateResult | None = None
        self.lost_log: tuple[int, list[LogEntry]] | None = None


def _chunks(
    updates: Sequence[CellUpdate], log: Sequence[LogEntry], limit: int
) -> list[tuple[list[CellUpdate], list[LogEntry]]]:
    """Updates in parts whose write stays under ``limit`` bytes (as JSON, estimated).

    Each part is its own compare-and-set write (its own pre-write check), so
    every row is still checked just before its cells are written. ``log``
    (changes seen, not made) goes with the first part.
    """
    parts: list[tuple[list[CellUpdate], list[LogEntry]]] = [([], list(log))]
    size = sum(_entry_bytes(entry) for entry in log)
    for update in updates:
        cost = sum(_RANGE_BYTES + _text_bytes(value) for value in update.values.values())
        cost += sum(_entry_bytes(entry) for entry in update.log)
        if parts[-1][0] and size + cost > limit:
            parts.append(([], []))
            size = 0
        parts[-1][0].append(update)
        size += cost
    return parts


_RANGE_BYTES = 96  # a ValueRange around one run of cells: range, majorDimension, brackets


def _entry_bytes(entry: LogEntry) -> int:
    return sum(_text_bytes(cell) for cell in entry.cells()) + 8


def _text_bytes(text: str) -> int:
    """What one cell's text takes in the JSON body, with its quotes and comma."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text) + 3
    return len(json.dumps(text)) + 1


def _check_columns(layout: Layout, values: Mapping[str, str], tab: str) -> None:
    unknown = [name for name in values if name not in layout.columns]
    if unknown:
        raise StoreError(
            f"no column for {', '.join(sorted(unknown))} in {tab!r}: "
            "run 'sheetqueue init-sheet' to add the missing columns"
        )
