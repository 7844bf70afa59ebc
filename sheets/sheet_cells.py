"""Cells as the Google store reads them: unformatted values made text, once, at the edge.

The store reads ``UNFORMATTED_VALUE`` with ``dateTimeRenderOption=SERIAL_NUMBER``:
a number comes back as a number, a boolean as a boolean and a date as its
serial number. :class:`SheetCells` turns each cell into the text the rest of
the code reads:

- a number in an ordinary column is its digits (``1001`` stays ``"1001"``, never
  ``"1001.0"``; integers are exact); a boolean is ``TRUE``/``FALSE``;
- a number in a date column is a serial number in the spreadsheet's time zone,
  written the project's way (``2026-04-03T00:00:00Z``);
- text in a date column typed the slashed way (``03/04/2026``) is read in the
  spreadsheet's locale and written the project's way; other text (ISO, naive
  ISO) is left for the usual reading (naive times in the shop's time zone);
- slashed text the locale does not settle stays as typed, marked
  :class:`UnreadTime` with the problem and the cell: it is reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetqueue.sheets.gsheets_layout import column_letters
from sheetqueue.sheets.times import UnreadTime, format_time, from_serial, read_sheet_time

__all__ = ["LOCALE_FIELDS", "QUEUE_DATE_FIELDS", "SheetCells", "UnreadTime", "cell_value"]

LOCALE_FIELDS = "properties(locale,timeZone)"
"""The ``fields`` mask part that reads the spreadsheet's locale and time zone."""

QUEUE_DATE_FIELDS = frozenset({"timestamp", "checked_at"})
"""The queue's fields that hold a time a person may type as a date."""

_SLASHED_OR_SHORT = re.compile(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}(?:[ T,].*)?$")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def cell_value(value: Any) -> str:
    """A non-date cell as text: numbers as their digits, booleans as TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class SheetCells:
    """The spreadsheet's locale and time zone, and the cell conversion they imply."""

    locale: str = ""
    zone: tzinfo = UTC
    time_zone: str = ""

    @classmethod
    def from_properties(cls, answer: dict[str, Any]) -> SheetCells:
        """From a ``spreadsheets.get`` answer holding ``properties.locale``/``timeZone``."""
        props = answer.get("properties") or {}
        name = str(props.get("timeZone") or "")
        zone: tzinfo = UTC
        if name:
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                zone = UTC
        return cls(str(props.get("locale") or ""), zone, name)

    def date_cell(self, value: Any, where: str = "") -> str:
        """A date column's cell: a serial number or typed text, as the project writes times."""
        if isinstance(value, bool) or value is None:
            return cell_value(value)
        if isinstance(value, int | float):
            return format_time(from_serial(value, self.zone))
        text = cell_value(value)
        stripped = text.strip()
        if not _SLASHED_OR_SHORT.match(stripped) or _ISO_START.match(stripped):
            return text
        read = read_sheet_time(stripped, self.zone, self.locale)
        if read.moment is not None:
            return format_time(read.moment)
        return UnreadTime(text, read.problem, where)

    def rows(
        self, values: Sequence[Sequence[Any]], dates: Iterable[int], tab: str = ""
    ) -> list[list[str]]:
        """Every cell as text; the columns ``dates`` (0-based) read as dates."""
        date_columns = frozenset(dates)
        out: list[list[str]] = []
        for number, row in enumerate(values, start=1):
            if number == 1:
                out.append([cell_value(cell) for cell in row])
            else:
                out.append(self.row(row, date_columns, number, tab))
        return out

    def row(
        self, row: Sequence[Any], dates: frozenset[int], number: int, tab: str = ""
    ) -> list[str]:
        """One data row's cells as text (sheet row ``number``); the columns ``dates`` as dates."""
        cells = [cell if type(cell) is str else cell_value(cell) for cell in row]
        for index in dates:
            if index < len(row):
                where = f"{tab}!{column_letters(index)}{number}" if tab else ""
                cells[index] = self.date_cell(row[index], where)
        return cells
