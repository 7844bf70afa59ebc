"""The batchUpdate requests that change cell values: ``updateCells`` and ``findReplace``.

``updateCells`` writes the ``userEnteredValue`` of each cell sent (strings
stay strings, as RAW) when its ``fields`` mask asks for it; formats are kept
loosely, as for the other formatting requests. ``findReplace`` replaces a
literal (or, with ``searchByRegex``, a pattern) in the cells of a range, a
tab or every tab, and answers with Google's counts. Both run inside the
batch's snapshot, so a batch that fails leaves no cell changed: a
``findReplace`` whose ``find`` matches nothing changes nothing, which makes
it a compare-and-set on a cell.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sheetqueue.sheets.testing.emulator.cells import Cell, render
from sheetqueue.sheets.testing.emulator.errors import bad_request
from sheetqueue.sheets.testing.emulator.grid import Sheet
from sheetqueue.sheets.testing.emulator.state import Spreadsheet

__all__ = ["find_replace", "update_cells"]


def update_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """``updateCells``: rows of cells from ``start`` (or the top left of ``range``)."""
    fields = str(payload.get("fields", ""))
    if not fields:
        raise bad_request("Invalid requests[0].updateCells: No fields specified.")
    if "start" in payload:
        start = payload["start"]
        sheet = book.sheet_by_id(start.get("sheetId", 0))
        row, col = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    else:
        grid = payload.get("range", {})
        sheet = book.sheet_by_id(grid.get("sheetId", 0))
        row, col = int(grid.get("startRowIndex", 0)), int(grid.get("startColumnIndex", 0))
    sheet.formats.append({"updateCells": copy.deepcopy(payload)})
    if "userEnteredValue" not in fields and fields != "*":
        return
    rows = [list(entry.get("values", [])) for entry in payload.get("rows", [])]
    if row + len(rows) > sheet.row_count or col + max(map(len, rows), default=0) > sheet.col_count:
        raise bad_request("Invalid requests[0].updateCells: the cells are outside the grid")
    sheet.write(row, col, [[_entered(cell) for cell in cells] for cells in rows])


def _entered(cell: Any) -> Cell | None:
    value = cell.get("userEnteredValue") if isinstance(cell, dict) else None
    if not value:
        return None
    if "stringValue" in value:
        return Cell(str(value["stringValue"])) if value["stringValue"] != "" else None
    if "boolValue" in value:
        return Cell(bool(value["boolValue"]))
    if "numberValue" in value:
        return Cell(float(value["numberValue"]))
    if "formulaValue" in value:
        formula = str(value["formulaValue"])
        return Cell(formula, formula=formula)
    raise bad_request("Invalid requests[0].updateCells: unknown userEnteredValue")


def find_replace(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``findReplace`` over a range, a tab or every tab; the reply counts what changed."""
    find = payload.get("find")
    if not isinstance(find, str) or find == "":
        raise bad_request("Invalid requests[0].findReplace: find must not be empty.")
    replacement = str(payload.get("replacement", ""))
    flags = 0 if payload.get("matchCase") else re.IGNORECASE
    pattern = find if payload.get("searchByRegex") else re.escape(find)
    if payload.get("matchEntireCell"):
        pattern = f"^(?:{pattern})$"
    try:
        compiled = re.compile(pattern, flags)
    except re.error as exc:
        raise bad_request(f"Invalid requests[0].findReplace: bad regex ({exc})") from None
    counts = {"valuesChanged": 0, "occurrencesChanged": 0, "rowsChanged": 0, "sheetsChanged": 0}
    for sheet, box in _targets(book, payload):
        rows_changed = _replace_in(sheet, box, compiled, replacement, counts)
        counts["rowsChanged"] += rows_changed
        counts["sheetsChanged"] += 1 if rows_changed else 0
    reply = {key: value for key, value in counts.items() if value}
    return {"findReplace": reply}


def _targets(
    book: Spreadsheet, payload: dict[str, Any]
) -> list[tuple[Sheet, tuple[int, int, int, int]]]:
    if payload.get("allSheets"):
        return [(sheet, (0, sheet.row_count, 0, sheet.col_count)) for sheet in book.sheets]
    if "sheetId" in payload:
        sheet = book.sheet_by_id(payload["sheetId"])
        return [(sheet, (0, sheet.row_count, 0, sheet.col_count))]
    grid = payload.get("range")
    if not isinstance(grid, dict):
        raise bad_request("Invalid requests[0].findReplace: give range, sheetId or allSheets.")
    sheet = book.sheet_by_id(grid.get("sheetId", 0))
    box = (
        int(grid.get("startRowIndex", 0)),
        int(grid.get("endRowIndex", sheet.row_count)),
        int(grid.get("startColumnIndex", 0)),
        int(grid.get("endColumnIndex", sheet.col_count)),
    )
    return [(sheet, box)]


def _replace_in(
    sheet: Sheet,
    box: tuple[int, int, int, int],
    pattern: re.Pattern[str],
    replacement: str,
    counts: dict[str, int],
) -> int:
    start_row, end_row, start_col, end_col = box
    rows_changed = 0
    for row in range(start_row, min(end_row, sheet.data_height())):
        changed = False
        for col in range(start_col, min(end_col, len(sheet.rows[row]))):
            cell = sheet.cell(row, col)
            if cell is None or cell.formula is not None:
                continue
            text = str(render(cell, "FORMATTED_VALUE"))
            new, found = pattern.subn(lambda _match: replacement, text)
            if not found:
                continue
            sheet.write(row, col, [[Cell(new) if new != "" else None]])
            counts["valuesChanged"] += 1
            counts["occurrencesChanged"] += found
            changed = True
        rows_changed += 1 if changed else 0
    return rows_changed
