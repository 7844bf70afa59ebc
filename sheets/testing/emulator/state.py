"""The spreadsheets the emulator holds, and how ranges resolve against them.

A :class:`Workspace` is the whole server state (guarded by one lock, taken
by the callers); a :class:`Spreadsheet` owns its tabs and turns an A1 range
into a tab and a concrete block, raising Google's errors for unknown tabs,
unparsable ranges and ranges past the grid.
"""

from __future__ import annotations

import copy
import random
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.sheets.testing.emulator import a1
from sheetqueue.sheets.testing.emulator.cells import Cell, from_input, render
from sheetqueue.sheets.testing.emulator.errors import ApiError, bad_request, not_found
from sheetqueue.sheets.testing.emulator.grid import Sheet, Table

__all__ = ["Spreadsheet", "Workspace"]

_SHEET_KEYS = (
    "properties",
    "protectedRanges",
    "conditionalFormats",
    "basicFilter",
    "data",
    "developerMetadata",
    "merges",
)


@dataclass
class Spreadsheet:
    """One spreadsheet: a title and its tabs, in order."""

    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    seed: int = 0
    _ids: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._ids.seed(self.seed)

    # -- tabs --------------------------------------------------------------

    def sheet_by_title(self, title: str, original: str | None = None) -> Sheet:
        """The tab named ``title`` (exact, then case-insensitive)."""
        found = self.find_title(title)
        if found is None:
            raise bad_request(f"Unable to parse range: {original or title}")
        return found

    def find_title(self, title: str) -> Sheet | None:
        """The tab named ``title`` or ``None``."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        lowered = title.lower()
        return next((s for s in self.sheets if s.title.lower() == lowered), None)

    def sheet_by_id(self, sheet_id: Any) -> Sheet:
        """The tab whose sheetId is ``sheet_id``."""
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise bad_request(f"Invalid requests[0]: No grid with id: {sheet_id}")

    def add_sheet(
        self,
        title: str | None = None,
        index: int | None = None,
        sheet_id: int | None = None,
        rows: int = 1000,
        cols: int = 26,
    ) -> Sheet:
        """Add a tab (Google's defaults: 1000 rows, 26 columns, ``SheetN``)."""
        if title is None:
            number = len(self.sheets) + 1
            while self.find_title(f"Sheet{number}") is not None:
                number += 1
            title = f"Sheet{number}"
        if self.find_title(title) is not None:
            raise bad_request(
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists. '
                "Please enter another name."
            )
        if sheet_id is None:
            sheet_id = 0 if not self.sheets else self._ids.randrange(10**8, 2 * 10**9)
        elif any(s.sheet_id == sheet_id for s in self.sheets):
            raise bad_request(
                f"Invalid requests[0].addSheet: Sheet with id {sheet_id} already exists."
            )
        sheet = Sheet(sheet_id=sheet_id, title=title, row_count=rows, col_count=cols)
        position = len(self.sheets) if index is None else max(0, min(index, len(self.sheets)))
        self.sheets.insert(position, sheet)
        self.renumber()
        return sheet

    def delete_sheet(self, sheet_id: int) -> None:
        """Remove a tab; the last one cannot go."""
        sheet = self.sheet_by_id(sheet_id)
        if len(self.sheets) == 1:
            raise bad_request(
                "Invalid requests[0].deleteSheet: You can't remove all the sheets in a document."
            )
        self.sheets.remove(sheet)
        self.renumber()

    def renumber(self) -> None:
        """Make every tab's ``index`` its position."""
        for position, sheet in enumerate(self.sheets):
            sheet.index = position

    def next_id(self) -> int:
        """A fresh id for a protected range or similar object."""
        return self._ids.randrange(10**8, 2 * 10**9)

    # -- ranges ------------------------------------------------------------

    def resolve(self, text: str, check_grid: bool = True) -> tuple[Sheet, Table]:
        """The tab and the concrete block (open ends clipped to the grid) of ``text``."""
        if not text or not text.strip():
            raise bad_request(f"Unable to parse range: {text}")
        title, cells = a1.split_sheet(text)
        explicit = text.strip().startswith("'") or "!" in text
        if cells is None and not explicit:
            sheet = self.find_title(text.strip())
            if sheet is None:
                sheet, cells = self.sheets[0], text.strip()
        else:
            sheet = self.sheet_by_title(title or "", text)
        if cells is None:
            return sheet, Table(0, sheet.row_count, 0, sheet.col_count)
        box = a1.parse_cells(cells, text)
        end_row = sheet.row_count if box.end_row is None else box.end_row
        end_col = sheet.col_count if box.end_col is None else box.end_col
        if check_grid and (
            end_row > sheet.row_count
            or end_col > sheet.col_count
            or box.start_row >= sheet.row_count
            or box.start_col >= sheet.col_count
        ):
            raise grid_error(sheet, cells)
        return sheet, Table(box.start_row, end_row, box.start_col, end_col)

    # -- metadata ----------------------------------------------------------

    def metadata(self, fields: str | None = None, include_grid: bool = False) -> dict[str, Any]:
        """The ``spreadsheets.get`` body, filtered loosely by ``fields``."""
        body: dict[str, Any] = {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
            },
            "sheets": [
                _sheet_json(sheet, include_grid, "columnMetadata" in (fields or ""))
                for sheet in self.sheets
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }
        if not fields:
            return body
        wanted = set(re.findall(r"[A-Za-z]+", fields))
        filtered = {key: value for key, value in body.items() if key in wanted}
        sheet_keys = wanted.intersection(_SHEET_KEYS)
        if "sheets" in filtered and sheet_keys:
            filtered["sheets"] = [
                {k: v for k, v in entry.items() if k in sheet_keys} for entry in body["sheets"]
            ]
        return filtered

    def snapshot(self) -> Spreadsheet:
        """A copy to roll back to when a batch fails half-way (cells are shared: immutable)."""
        twin = copy.copy(self)
        twin.sheets = [sheet.copy() for sheet in self.sheets]
        twin._ids = copy.deepcopy(self._ids)
        return twin


def grid_error(sheet: Sheet, cells: str) -> ApiError:
    """Google's 400 for a range outside the tab's grid."""
    return bad_request(
        f"Range ({a1.quote_title(sheet.title)}!{cells}) exceeds grid limits. "
        f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
    )


def sheet_properties(sheet: Sheet) -> dict[str, Any]:
    """The ``SheetProperties`` object of a tab."""
    grid: dict[str, Any] = {"rowCount": sheet.row_count, "columnCount": sheet.col_count}
    if sheet.frozen_rows:
        grid["frozenRowCount"] = sheet.frozen_rows
    if sheet.frozen_cols:
        grid["frozenColumnCount"] = sheet.frozen_cols
    props: dict[str, Any] = {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": sheet.index,
        "sheetType": "GRID",
        "gridProperties": grid,
    }
    props.update(copy.deepcopy(sheet.extra))
    return props


def _sheet_json(sheet: Sheet, include_grid: bool, column_metadata: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"properties": sheet_properties(sheet)}
    on_sheet = [e for e in sheet.developer_metadata if e["location"]["locationType"] == "SHEET"]
    if on_sheet:
        entry["developerMetadata"] = copy.deepcopy(on_sheet)
    if sheet.merges:
        entry["merges"] = copy.deepcopy(sheet.merges)
    if sheet.protected_ranges:
        entry["protectedRanges"] = copy.deepcopy(sheet.protected_ranges)
    if sheet.conditional_formats:
        entry["conditionalFormats"] = copy.deepcopy(sheet.conditional_formats)
    if sheet.basic_filter is not None:
        entry["basicFilter"] = copy.deepcopy(sheet.basic_filter)
    if include_grid or column_metadata:
        data: dict[str, Any] = {"startRow": 0, "startColumn": 0}
        if include_grid:
            data["rowData"] = _row_data(sheet)
        if column_metadata:
            data["columnMetadata"] = _column_metadata(sheet)
        entry["data"] = [data]
    return entry


def _column_metadata(sheet: Sheet) -> list[dict[str, Any]]:
    """One DimensionProperties per column, with the entries located on it."""
    columns: list[dict[str, Any]] = [{"pixelSize": 100} for _ in range(sheet.col_count)]
    for entry in sheet.developer_metadata:
        span = entry["location"].get("dimensionRange")
        if (
            span is not None
            and span["dimension"] == "COLUMNS"
            and span["startIndex"] < len(columns)
        ):
            columns[span["startIndex"]].setdefault("developerMetadata", []).append(
                copy.deepcopy(entry)
            )
    return columns


def _row_data(sheet: Sheet) -> list[dict[str, Any]]:
    return [{"values": [_cell_data(cell) for cell in cells]} for cells in sheet.rows]


def _cell_data(cell: Cell | None) -> dict[str, Any]:
    if cell is None:
        return {}
    kind = {bool: "boolValue", str: "stringValue"}.get(type(cell.value), "numberValue")
    entered: dict[str, Any] = {"formulaValue": cell.formula} if cell.formula else {kind: cell.value}
    return {
        "userEnteredValue": entered,
        "effectiveValue": {kind: cell.value},
        "formattedValue": render(cell, "FORMATTED_VALUE"),
    }


class Workspace:
    """Every spreadsheet of one emulator, behind one lock."""

    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.books: dict[str, Spreadsheet] = {}
        self._seed = seed
        self._ids = random.Random(seed)

    def create(
        self,
        title: str = "Untitled spreadsheet",
        tabs: Sequence[str] | Mapping[str, Sequence[Sequence[Any]]] = ("Sheet1",),
        spreadsheet_id: str | None = None,
        user_entered: bool = False,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
    ) -> Spreadsheet:
        """Create a spreadsheet; ``tabs`` may map titles to rows (RAW unless ``user_entered``)."""
        with self.lock:
            book_id = spreadsheet_id or self._new_id()
            if book_id in self.books:
                raise bad_request(f"Spreadsheet {book_id} already exists")
            book = Spreadsheet(
                book_id,
                title,
                locale=locale,
                time_zone=time_zone,
                seed=self._ids.randrange(1 << 30),
            )
            names = list(tabs) or ["Sheet1"]
            for name in names:
                sheet = book.add_sheet(name)
                rows = tabs[name] if isinstance(tabs, Mapping) else []
                _fill(sheet, rows, user_entered, locale)
            self.books[book_id] = book
            return book

    def get(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet, or Google's 404."""
        book = self.books.get(spreadsheet_id)
        if book is None:
            raise not_found("Requested entity was not found.")
        return book

    def replace(self, book: Spreadsheet) -> None:
        """Put a (rolled-back) copy in place of the spreadsheet of the same id."""
        self.books[book.spreadsheet_id] = book

    def clear(self) -> None:
        """Drop every spreadsheet."""
        with self.lock:
            self.books.clear()
            self._ids = random.Random(self._seed)

    def _new_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(self._ids.choice(alphabet) for _ in range(44))


def _fill(
    sheet: Sheet, rows: Sequence[Sequence[Any]], user_entered: bool, locale: str = "en_US"
) -> None:
    if not rows:
        return
    width = max(len(row) for row in rows)
    sheet.row_count = max(sheet.row_count, len(rows))
    sheet.col_count = max(sheet.col_count, width)
    block = [[from_input(value, user_entered, locale) for value in row] for row in rows]
    sheet.write(0, 0, block)
