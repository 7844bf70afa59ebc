"""The Orders tab as read: a header and rows, each row made a record only when needed.

A pass over a sheet of history needs the few orders its open rows name; the
table finds them by number without turning every row into a record first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sheetqueue.sheets.gsheets_layout import cell_text

__all__ = ["OrderTable"]


class OrderTable:
    """The Orders tab as read: its header and rows, a record built only when asked for."""

    def __init__(
        self,
        header: Sequence[Any],
        rows: Sequence[Sequence[Any]],
        texts: Callable[[int, Sequence[Any]], list[str]] | None = None,
    ) -> None:
        self.header = [cell_text(cell).strip() for cell in header]
        self.rows = rows  # as read: made text row by row, when a record is built
        self._texts = texts  # (row index, raw row) -> the row's cells as text
        self._named = [(index, name) for index, name in enumerate(self.header) if name]
        self._names = [name for _, name in self._named]
        self._plain = len(self._named) == len(self.header)  # zip a row onto the header

    def column(self, names: Sequence[str]) -> int | None:
        """The index of the first of ``names`` the header has."""
        for name in names:
            if name in self.header:
                return self.header.index(name)
        return None

    def record(self, index: int) -> dict[str, Any] | None:
        """Row ``index`` (0 is the first below the header) as a record; None when blank."""
        row = self.rows[index]
        if self._texts is not None:
            row = self._texts(index, row)
        elif not all(type(cell) is str for cell in row):
            row = [cell_text(cell) for cell in row]
        if not any(cell.strip() for cell in row):
            return None
        if self._plain:
            record = dict(zip(self._names, row, strict=False))
            for name in self._names[len(row) :]:
                record[name] = ""
            return record
        width = len(row)
        return {name: row[i] if i < width else "" for i, name in self._named}
