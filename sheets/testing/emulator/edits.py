"""Hand edits: what a person does to a tab in the Sheets UI.

None of these is an API call (no log entry, no quota). Rows are 1-based as
the UI shows them; a column is a letter (``C``), a 0-based index, or a header
name from row 1 (case- and space-insensitive).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheetqueue.sheets.testing.emulator import a1
from sheetqueue.sheets.testing.emulator.cells import Cell, from_input, render
from sheetqueue.sheets.testing.emulator.grid import Sheet, Table

__all__ = ["append_row", "delete_rows", "insert_blank_rows", "set_cell", "sort_rows"]


def set_cell(sheet: Sheet, row: int, col: int | str, value: Any, locale: str = "en_US") -> None:
    """Type ``value`` into a cell (parsed as typed: ``=`` makes a formula)."""
    index = column_of(sheet, col)
    if not 1 <= row <= sheet.row_count or index >= sheet.col_count:
        raise ValueError(f"cell {a1.column_letters(index)}{row} is outside the grid")
    sheet.write(row - 1, index, [[from_input(value, user_entered=True, locale=locale)]])


def sort_rows(sheet: Sheet, col: int | str, descending: bool = False, header_rows: int = 1) -> None:
    """Data > Sort range by one column, keeping the header rows in place."""
    index = column_of(sheet, col)
    height = sheet.data_height()
    if height > header_rows:
        box = Table(header_rows, height, 0, sheet.col_count)
        if sheet.vertical_merge_in(box):
            raise ValueError("you can't sort a range containing vertically merged cells")
        sheet.sort(box, [(index, descending)])


def insert_blank_rows(sheet: Sheet, before_row: int, count: int = 1) -> None:
    """Insert ``count`` empty rows above row ``before_row``."""
    if not 1 <= before_row <= sheet.row_count + 1 or count < 1:
        raise ValueError("rows must be inserted inside the grid")
    sheet.insert_rows(before_row - 1, count)


def delete_rows(sheet: Sheet, row: int, count: int = 1) -> None:
    """Delete ``count`` rows starting at row ``row``."""
    if row < 1 or row - 1 + count > sheet.row_count or count >= sheet.row_count:
        raise ValueError("rows to delete must be inside the grid, and one row must remain")
    sheet.delete_rows(row - 1, row - 1 + count)


def append_row(sheet: Sheet, values: Sequence[Any], locale: str = "en_US") -> int:
    """Type a row below the last row holding data; returns its 1-based number."""
    row = sheet.data_height()
    if row >= sheet.row_count:
        sheet.row_count = row + 1
    sheet.col_count = max(sheet.col_count, len(values))
    cells = [from_input(value, user_entered=True, locale=locale) for value in values]
    sheet.write(row, 0, [[c if isinstance(c, Cell) else None for c in cells]])
    return row + 1


def column_of(sheet: Sheet, col: int | str) -> int:
    """A column index from an index, a letter or a header name."""
    if isinstance(col, int):
        return col
    wanted = _squash(col)
    header = sheet.rows[0] if sheet.rows else []
    for index, cell in enumerate(header):
        if cell is not None and _squash(str(render(cell, "FORMATTED_VALUE"))) == wanted:
            return index
    if col.isalpha() and len(col) <= 3:
        return a1.column_index(col)
    raise ValueError(f"no column {col!r}")


def _squash(text: str) -> str:
    return "".join(text.split()).lower()
