"""Where the queue's fields sit in a tab: header mapping, row parsing and A1 ranges.

The header is row 1. A cell names a field when it is the field's canonical
header or one of its aliases (:func:`sheetqueue.sheets.model.header_names`,
case- and space-insensitive); a blank header or a note to the right of the
header is a team column that is read past and never written. Which columns
a tab's fields are in is decided by :mod:`sheetqueue.sheets.gsheets_header`
(the header contract); this module only maps and reads. Rows are 1-based sheet row numbers,
as a person sees them; columns are 0-based indexes here and letters in A1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sheetqueue.sheets.model import HEADER_BY_FIELD, Request, header_key, header_names

__all__ = [
    "Layout",
    "cell_text",
    "column_letters",
    "quote_tab",
    "runs",
]


def quote_tab(title: str) -> str:
    """A tab title as A1 wants it: ``'My Tab'`` (quotes doubled inside)."""
    return "'" + title.replace("'", "''") + "'"


def column_letters(index: int) -> str:
    """0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``."""
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as the API returned it, as text (``FORMATTED_VALUE`` gives strings already)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value  # kept as is (a marked date cell keeps its mark)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


@dataclass(frozen=True)
class Layout:
    """The header of one tab and the column of each known field."""

    header: tuple[str, ...]
    columns: Mapping[str, int]

    @classmethod
    def from_header(cls, cells: Sequence[Any], names: Mapping[str, str] | None = None) -> Layout:
        """Map each known field to the first header cell naming it."""
        known = _DEFAULT_NAMES if names is None else names
        header = tuple(cell_text(cell) for cell in cells)
        columns: dict[str, int] = {}
        for index, text in enumerate(header):
            name = known.get(header_key(text))
            if name is not None and name not in columns:
                columns[name] = index
        return cls(header, columns)

    def holds_header(self, cells: Sequence[Any]) -> bool:
        """Whether row 1 still reads as it did over every known column (nothing moved)."""
        for index in self.columns.values():
            now = cell_text(cells[index]) if index < len(cells) else ""
            if now != (self.header[index] if index < len(self.header) else ""):
                return False
        return True

    @property
    def missing(self) -> list[str]:
        """Canonical headers that no cell names, in canonical order."""
        return [header for name, header in HEADER_BY_FIELD.items() if name not in self.columns]

    @property
    def width(self) -> int:
        """Columns the header spans (trailing blanks trimmed)."""
        return len(self.header)

    def request_of(self, row: Sequence[Any]) -> Request | None:
        """The request a data row holds; None for a blank row (no known field filled)."""
        values: dict[str, str] = {}
        for name, index in self.columns.items():
            values[name] = cell_text(row[index]) if index < len(row) else ""
        if not any(text.strip() for text in values.values()):
            return None
        return Request(**values)

    def holds_request(self, row: Sequence[Any]) -> bool:
        """Whether a data row fills any known field (a blank row holds no request)."""
        width = len(row)
        for index in self.columns.values():
            if index < width:
                value = row[index]
                if (value if type(value) is str else cell_text(value)).strip():
                    return True
        return False

    def row_of(self, request: Request) -> list[str]:
        """A request as one row in this tab's column order; team columns left empty."""
        last = max(self.columns.values(), default=-1)
        cells = [""] * (last + 1)
        dumped = request.model_dump()
        for name, index in self.columns.items():
            cells[index] = dumped[name]
        return cells

    def letter(self, name: str) -> str:
        """The column letter of a field (it must be in the header)."""
        return column_letters(self.columns[name])

    def same_columns(self, other: Layout, names: Sequence[str]) -> bool:
        """Whether ``names`` sit in the same columns in both layouts."""
        return all(self.columns.get(name) == other.columns.get(name) for name in names)


_DEFAULT_NAMES = header_names()


def runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted column indexes as (first, last) runs of neighbours: ``[1, 2, 5]`` -> 1-2, 5-5."""
    found: list[tuple[int, int]] = []
    for index in sorted(set(indexes)):
        if found and found[-1][1] == index - 1:
            found[-1] = (found[-1][0], index)
        else:
            found.append((index, index))
    return found
