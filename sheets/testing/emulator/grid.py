"""One tab of a spreadsheet: its grid of cells, size and sheet-level settings.

Rows are kept as Python lists with trailing empty cells and trailing empty
rows dropped, so reads and writes cost what they touch. Finding the "table"
an append writes after is cached per anchor and kept up to date by appends,
so a long run of appends stays linear.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.sheets.testing.emulator.cells import SKIP, Cell, _Skip

__all__ = ["Row", "Sheet", "Table"]

Row = list[Cell | None]


@dataclass(frozen=True)
class Table:
    """The block of data an append found: rows and columns, ends exclusive."""

    start_row: int
    end_row: int
    start_col: int
    end_col: int


@dataclass
class Sheet:
    """A tab: cells plus the properties the API exposes."""

    sheet_id: int
    title: str
    index: int = 0
    row_count: int = 1000
    col_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    rows: list[Row] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    validations: list[dict[str, Any]] = field(default_factory=list)
    formats: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    _tables: dict[tuple[int, int, int | None, bool], tuple[int, Table]] = field(
        default_factory=dict, repr=False
    )
    _version: int = 0

    # -- reading -----------------------------------------------------------

    def cell(self, row: int, col: int) -> Cell | None:
        """The cell at (row, col), ``None`` when empty."""
        if row >= len(self.rows):
            return None
        cells = self.rows[row]
        return cells[col] if col < len(cells) else None

    def read(self, start_row: int, end_row: int, start_col: int, end_col: int) -> list[Row]:
        """The block's rows as stored (ragged: trailing empties already dropped)."""
        return [cells[start_col:end_col] for cells in self.rows[start_row:end_row]]

    def data_height(self) -> int:
        """Rows up to the last one holding data."""
        return len(self.rows)

    def data_width(self) -> int:
        """Columns up to the last one holding data."""
        return max((len(cells) for cells in self.rows), default=0)

    # -- writing -----------------------------------------------------------

    def write(
        self, start_row: int, start_col: int, block: Sequence[Sequence[Cell | _Skip | None]]
    ) -> None:
        """Write a block of cells; :data:`SKIP` leaves a cell as it is."""
        self._touch()
        needed = start_row + len(block)
        while len(self.rows) < needed:
            self.rows.append([])
        for offset, values in enumerate(block):
            cells = self.rows[start_row + offset]
            end = start_col + len(values)
            if len(cells) < end:
                cells.extend([None] * (end - len(cells)))
            for col, value in enumerate(values, start_col):
                if value is not SKIP:
                    cells[col] = value if isinstance(value, Cell) else None
            _trim_row(cells)
        self._trim_rows()

    def clear(self, start_row: int, end_row: int, start_col: int, end_col: int) -> None:
        """Empty every cell of the block."""
        self._touch()
        for cells in self.rows[start_row:end_row]:
            for col in range(start_col, min(end_col, len(cells))):
                cells[col] = None
            _trim_row(cells)
        self._trim_rows()

    def insert_rows(self, at: int, count: int) -> None:
        """Insert blank rows before row ``at``; the grid grows by ``count``."""
        self._touch()
        if at < len(self.rows):
            self.rows[at:at] = [[] for _ in range(count)]
        self.row_count += count
        self._shift("ROWS", at, count)

    def delete_rows(self, start: int, end: int) -> None:
        """Remove rows ``start..end`` (exclusive); the grid shrinks."""
        self._touch()
        del self.rows[start:end]
        self.row_count -= end - start
        self._trim_rows()
        self._cut("ROWS", start, end)

    def insert_cols(self, at: int, count: int) -> None:
        """Insert blank columns before column ``at``."""
        self._touch()
        for cells in self.rows:
            if at < len(cells):
                cells[at:at] = [None] * count
        self.col_count += count
        self._shift("COLUMNS", at, count)

    def delete_cols(self, start: int, end: int) -> None:
        """Remove columns ``start..end`` (exclusive)."""
        self._touch()
        for cells in self.rows:
            del cells[start:end]
            _trim_row(cells)
        self.col_count -= end - start
        self._trim_rows()
        self._cut("COLUMNS", start, end)

    def resize(self, rows: int | None = None, cols: int | None = None) -> None:
        """Set the grid size; cells beyond a smaller grid are dropped."""
        self._touch()
        if rows is not None:
            self.row_count = rows
            del self.rows[rows:]
        if cols is not None:
            self.col_count = cols
            for cells in self.rows:
                del cells[cols:]
                _trim_row(cells)
        self._trim_rows()

    def sort(self, box: Table, keys: Sequence[tuple[int, bool]]) -> None:
        """Sort the rows of ``box`` by (column, descending) keys, blanks last."""
        self._touch()
        width = box.end_col - box.start_col
        segments: list[Row] = []
        for row in range(box.start_row, box.end_row):
            cells = self.rows[row] if row < len(self.rows) else []
            segment = cells[box.start_col : box.end_col]
            segments.append(segment + [None] * (width - len(segment)))
        for col, descending in reversed(keys):
            index = col - box.start_col
            filled = [seg for seg in segments if seg[index] is not None]
            blank = [seg for seg in segments if seg[index] is None]
            filled.sort(key=lambda seg: _sort_key(seg[index]), reverse=descending)
            segments = filled + blank
        self.write(box.start_row, box.start_col, segments)

    # -- append support ----------------------------------------------------

    def find_table(
        self, start_row: int, start_col: int, end_col: int | None, skip_blank: bool = True
    ) -> Table | None:
        """The block of consecutive non-blank rows from ``start_row``.

        With ``skip_blank`` the block is the first one at or below
        ``start_row``; without it a blank ``start_row`` means no table.
        """
        key = (start_row, start_col, end_col, skip_blank)
        cached = self._tables.get(key)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        row = start_row
        height = len(self.rows)
        while skip_blank and row < height and not self._has_data(row, start_col, end_col):
            row += 1
        if row >= height or not self._has_data(row, start_col, end_col):
            return None
        first = row
        low, high = 1 << 30, 0
        while row < height and self._has_data(row, start_col, end_col):
            low, high = self._widen(row, start_col, end_col, low, high)
            row += 1
        table = Table(first, row, low, high)
        self._tables[key] = (self._version, table)
        return table

    def remember_table(self, key: tuple[int, int, int | None, bool], table: Table) -> None:
        """After an append grew ``table``, keep it cached if nothing follows it."""
        if not self._has_data(table.end_row, key[1], key[2]):
            self._tables[key] = (self._version, table)

    def _has_data(self, row: int, start_col: int, end_col: int | None) -> bool:
        if row >= len(self.rows):
            return False
        cells = self.rows[row]
        if start_col == 0 and (end_col is None or end_col >= len(cells)):
            return bool(cells)
        return any(cell is not None for cell in cells[start_col:end_col])

    def _widen(
        self, row: int, start_col: int, end_col: int | None, low: int, high: int
    ) -> tuple[int, int]:
        cells = self.rows[row]
        stop = len(cells) if end_col is None else min(end_col, len(cells))
        first = next((c for c in range(start_col, stop) if cells[c] is not None), stop)
        last = next((c for c in range(stop - 1, start_col - 1, -1) if cells[c] is not None), first)
        return min(low, first), max(high, last + 1)

    # -- bookkeeping -------------------------------------------------------

    def copy(self) -> Sheet:
        """An independent copy (cells are immutable and shared)."""
        twin = copy.copy(self)
        twin.rows = [list(cells) for cells in self.rows]
        for name in (
            "protected_ranges",
            "conditional_formats",
            "validations",
            "formats",
            "developer_metadata",
            "merges",
            "notes",
        ):
            setattr(twin, name, copy.deepcopy(getattr(self, name)))
        twin.basic_filter = copy.deepcopy(self.basic_filter)
        twin.extra = copy.deepcopy(self.extra)
        twin._tables = {}
        return twin

    def vertical_merge_in(self, box: Table) -> bool:
        """Whether a merge spanning rows lies in ``box`` (Google will not sort such a range)."""
        return any(
            m["endRowIndex"] - m["startRowIndex"] > 1
            and m["startRowIndex"] < box.end_row
            and box.start_row < m["endRowIndex"]
            and m["startColumnIndex"] < box.end_col
            and box.start_col < m["endColumnIndex"]
            for m in self.merges
        )

    def merge_at(self, row: int, col: int) -> dict[str, Any] | None:
        """The merged range covering (row, col), or None."""
        for merge in self.merges:
            if (
                merge["startRowIndex"] <= row < merge["endRowIndex"]
                and merge["startColumnIndex"] <= col < merge["endColumnIndex"]
            ):
                return merge
        return None

    def _shift(self, dimension: str, at: int, count: int) -> None:
        """Inserted rows or columns: what sits at or after ``at`` moves on, as in Google."""
        for entry in self.developer_metadata:
            span = entry["location"].get("dimensionRange")
            if span is not None and span["dimension"] == dimension and span["startIndex"] >= at:
                span["startIndex"] += count
                span["endIndex"] += count
        start, end = _merge_keys(dimension)
        for merge in self.merges:
            if merge[start] >= at:
                merge[start] += count
                merge[end] += count
            elif merge[end] > at:
                merge[end] += count
        axis = 0 if dimension == "ROWS" else 1
        self.notes = {
            key if key[axis] < at else _moved(key, axis, count): text
            for key, text in self.notes.items()
        }

    def _cut(self, dimension: str, first: int, stop: int) -> None:
        """Deleted rows or columns take their metadata, notes and merged cells with them."""
        count = stop - first
        kept = []
        for entry in self.developer_metadata:
            span = entry["location"].get("dimensionRange")
            if span is not None and span["dimension"] == dimension:
                if first <= span["startIndex"] < stop:
                    continue
                if span["startIndex"] >= stop:
                    span["startIndex"] -= count
                    span["endIndex"] -= count
            kept.append(entry)
        self.developer_metadata = kept
        start, end = _merge_keys(dimension)
        merges = []
        for merge in self.merges:
            low = merge[start] - min(count, max(0, merge[start] - first))
            high = merge[end] - min(count, max(0, merge[end] - first))
            merge[start], merge[end] = low, high
            rows = merge["endRowIndex"] - merge["startRowIndex"]
            cols = merge["endColumnIndex"] - merge["startColumnIndex"]
            if rows > 0 and cols > 0 and rows * cols > 1:
                merges.append(merge)
        self.merges = merges
        axis = 0 if dimension == "ROWS" else 1
        self.notes = {
            key if key[axis] < first else _moved(key, axis, -count): text
            for key, text in self.notes.items()
            if not first <= key[axis] < stop
        }

    def _touch(self) -> None:
        self._version += 1

    def _trim_rows(self) -> None:
        while self.rows and not self.rows[-1]:
            self.rows.pop()


def _merge_keys(dimension: str) -> tuple[str, str]:
    if dimension == "ROWS":
        return "startRowIndex", "endRowIndex"
    return "startColumnIndex", "endColumnIndex"


def _moved(key: tuple[int, int], axis: int, count: int) -> tuple[int, int]:
    return (key[0] + count, key[1]) if axis == 0 else (key[0], key[1] + count)


def _trim_row(cells: Row) -> None:
    while cells and cells[-1] is None:
        cells.pop()


def _sort_key(cell: Cell | None) -> tuple[int, Any]:
    value = cell.value if cell is not None else ""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).lower())
