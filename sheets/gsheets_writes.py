"""Compare-and-set on a sheet: which rows still hold what was read, and the cells to write.

Just before a write, one ``values.batchGet`` reads row 1 (the header may have
moved), the whole column of every expected field (a row may have moved) and
the first two columns of the audit log (where its next free row is). These
pure functions build that read, judge each update against it and turn the
ones that still apply into ValueRanges for one ``values.batchUpdate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.sheets.gsheets_layout import Layout, cell_text, column_letters, quote_tab, runs
from sheetqueue.sheets.model import LOG_HEADER, LogEntry
from sheetqueue.sheets.sheet_cells import QUEUE_DATE_FIELDS, SheetCells, cell_value
from sheetqueue.sheets.store import CellUpdate

__all__ = ["Check", "Seen", "Verdict", "judge", "log_ranges", "row_ranges"]


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
