"""A1 notation: parsing ranges such as ``'My Tab'!A2:Q`` and writing them back.

A parsed range keeps the sheet name apart from the cells part, because
``Requests`` alone may be a sheet name or not, which only the spreadsheet
knows. Indexes are 0-based, ends exclusive, ``None`` for an open end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sheetqueue.sheets.testing.emulator.errors import bad_request

__all__ = [
    "Box",
    "column_index",
    "column_letters",
    "format_range",
    "parse_cells",
    "quote_title",
    "split_sheet",
]

_ENDPOINT = re.compile(r"^([A-Za-z]{0,3})([0-9]{0,7})$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")


@dataclass(frozen=True)
class Box:
    """A block of cells; ``None`` ends are open (to the edge of the grid)."""

    start_row: int = 0
    start_col: int = 0
    end_row: int | None = None
    end_col: int | None = None


def column_index(letters: str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - ord("A") + 1)
    return index - 1


def column_letters(index: int) -> str:
    """0 -> ``A``, 26 -> ``AA``."""
    letters = ""
    number = index + 1
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'My Tab'!A1:B2`` into (``My Tab``, ``A1:B2``).

    Without ``!`` the whole text is returned as the sheet part *and* the cells
    part is ``None`` when it is quoted; an unquoted bare word is returned as
    (text, None) and the caller decides whether it is a sheet or cells.
    """
    text = text.strip()
    if text.startswith("'"):
        title, rest = _read_quoted(text)
        if rest == "":
            return title, None
        if not rest.startswith("!"):
            raise bad_request(f"Unable to parse range: {text}")
        return title, rest[1:] or None
    if "!" in text:
        title, _, cells = text.partition("!")
        return title, cells or None
    return text, None


def _read_quoted(text: str) -> tuple[str, str]:
    chars: list[str] = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "'":
            if text[index + 1 : index + 2] == "'":
                chars.append("'")
                index += 2
                continue
            return "".join(chars), text[index + 1 :]
        chars.append(char)
        index += 1
    raise bad_request(f"Unable to parse range: {text}")


def parse_cells(cells: str, original: str) -> Box:
    """Parse the cells part (``A1``, ``A1:B2``, ``A:B``, ``2:5``, ``A2:A``)."""
    first, sep, second = cells.partition(":")
    start = _ENDPOINT.match(first.strip())
    if start is None or first.strip() == "":
        raise bad_request(f"Unable to parse range: {original}")
    start_letters, start_digits = start.groups()
    if not sep:
        if not (start_letters and start_digits):
            raise bad_request(f"Unable to parse range: {original}")
        row, col = int(start_digits) - 1, column_index(start_letters)
        _check_row(row, original)
        return Box(row, col, row + 1, col + 1)
    end = _ENDPOINT.match(second.strip())
    if end is None or second.strip() == "":
        raise bad_request(f"Unable to parse range: {original}")
    end_letters, end_digits = end.groups()
    start_row = int(start_digits) - 1 if start_digits else 0
    start_col = column_index(start_letters) if start_letters else 0
    end_row = int(end_digits) if end_digits else None
    end_col = column_index(end_letters) + 1 if end_letters else None
    if start_digits:
        _check_row(start_row, original)
    if end_digits:
        _check_row(end_row - 1 if end_row is not None else 0, original)
    if end_row is not None and end_row <= start_row:
        start_row, end_row = end_row - 1, start_row + 1
    if end_col is not None and end_col <= start_col:
        start_col, end_col = end_col - 1, start_col + 1
    return Box(start_row, start_col, end_row, end_col)


def _check_row(row: int, original: str) -> None:
    if row < 0:
        raise bad_request(f"Unable to parse range: {original}")


def quote_title(title: str) -> str:
    """The sheet title as Google writes it in a range (quoted when needed)."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, start_row: int, start_col: int, end_row: int, end_col: int) -> str:
    """``Sheet1!A1:B2`` for the 0-based, end-exclusive block (``Sheet1!A1`` for one cell)."""
    first = f"{column_letters(start_col)}{start_row + 1}"
    prefix = f"{quote_title(title)}!"
    if end_row - start_row <= 1 and end_col - start_col <= 1:
        return prefix + first
    return f"{prefix}{first}:{column_letters(end_col - 1)}{end_row}"
