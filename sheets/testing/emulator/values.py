"""The ``spreadsheets.values`` calls: get, batchGet, update, batchUpdate, append, clear.

Each function takes a :class:`~sheetqueue.sheets.testing.emulator.state.Spreadsheet` and the
call's parameters and returns the JSON body Google would send, or raises an
:class:`~sheetqueue.sheets.testing.emulator.errors.ApiError` shaped like Google's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sheetqueue.sheets.testing.emulator import a1
from sheetqueue.sheets.testing.emulator.cells import SKIP, Cell, _Skip, from_input, render
from sheetqueue.sheets.testing.emulator.errors import bad_request
from sheetqueue.sheets.testing.emulator.grid import Sheet, Table
from sheetqueue.sheets.testing.emulator.state import Spreadsheet, grid_error

__all__ = ["append", "batch_clear", "batch_get", "batch_update", "clear", "get", "update"]

_RENDERS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_INPUTS = ("RAW", "USER_ENTERED")
_DATE_RENDERS = ("SERIAL_NUMBER", "FORMATTED_STRING")
Block = list[list[Cell | _Skip | None]]


def get(
    book: Spreadsheet,
    range_text: str,
    render_option: str | None = None,
    major: str | None = None,
    date_option: str | None = None,
) -> dict[str, Any]:
    """``values.get``: the block's values, trailing empty cells and rows trimmed."""
    option = _render_option(render_option)
    dates = _date_option(date_option, option)
    dimension = _major(major)
    sheet, box = book.resolve(range_text)
    body: dict[str, Any] = {
        "range": a1.format_range(
            sheet.title, box.start_row, box.start_col, box.end_row, box.end_col
        ),
        "majorDimension": dimension,
    }
    rows = [
        _trim([render(cell, option, dates) for cell in cells])
        for cells in sheet.read(box.start_row, box.end_row, box.start_col, box.end_col)
    ]
    while rows and not rows[-1]:
        rows.pop()
    if dimension == "COLUMNS":
        rows = _columns(rows)
    if rows:
        body["values"] = rows
    return body


def batch_get(
    book: Spreadsheet,
    ranges: Sequence[str],
    render_option: str | None = None,
    major: str | None = None,
    date_option: str | None = None,
) -> dict[str, Any]:
    """``values.batchGet``: one ValueRange per range, in order."""
    return {
        "spreadsheetId": book.spreadsheet_id,
        "valueRanges": [get(book, text, render_option, major, date_option) for text in ranges],
    }


def update(
    book: Spreadsheet,
    range_text: str,
    values: Any,
    input_option: str | None,
    major: str | None = None,
    include_values: bool = False,
) -> dict[str, Any]:
    """``values.update``: write a block; past the grid is Google's 400."""
    user_entered = _input_option(input_option)
    sheet, box, block = _prepare(book, range_text, values, user_entered, major)
    return _write(book, sheet, box, block, include_values)


def batch_update(
    book: Spreadsheet, data: Any, input_option: str | None, include_values: bool = False
) -> dict[str, Any]:
    """``values.batchUpdate``: every range is checked before anything is written."""
    user_entered = _input_option(input_option)
    if not isinstance(data, list):
        raise bad_request("Invalid value at 'data': expected a list of ValueRange")
    prepared = []
    for item in data:
        if not isinstance(item, dict) or "range" not in item:
            raise bad_request("Invalid data[]: each ValueRange needs a range")
        prepared.append(
            _prepare(
                book,
                str(item["range"]),
                item.get("values", []),
                user_entered,
                item.get("majorDimension"),
            )
        )
    responses = [_write(book, *args, include_values) for args in prepared]
    return {
        "spreadsheetId": book.spreadsheet_id,
        "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
        "totalUpdatedColumns": sum(r.get("updatedColumns", 0) for r in responses),
        "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
        "totalUpdatedSheets": len({sheet.sheet_id for sheet, _, _ in prepared}),
        "responses": responses,
    }


def append(
    book: Spreadsheet,
    range_text: str,
    values: Any,
    input_option: str | None,
    insert_option: str | None = None,
    major: str | None = None,
) -> dict[str, Any]:
    """``values.append``: find the table at the range's anchor, write after its last row.

    The table is the run of non-blank rows from the range's first row (a
    single-cell anchor) or from the first non-blank row inside the range,
    spreading right from the range's first column; a blank row ends it.
    """
    user_entered = _input_option(input_option)
    insert = insert_option or "OVERWRITE"
    if insert not in ("OVERWRITE", "INSERT_ROWS"):
        raise bad_request(f"Invalid value at 'insert_data_option' ({insert})")
    sheet, box = book.resolve(range_text)
    block = _block(values, user_entered, major, book.locale)
    anchor = box.end_row - box.start_row == 1 and box.end_col - box.start_col == 1
    key = (box.start_row, box.start_col, None, not anchor)
    table = sheet.find_table(*key)
    body: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is None:
        row, col = box.start_row, box.start_col
    else:
        row, col = table.end_row, table.start_col
        body["tableRange"] = a1.format_range(
            sheet.title, table.start_row, table.start_col, table.end_row, table.end_col
        )
    height, width = len(block), max((len(r) for r in block), default=0)
    if insert == "INSERT_ROWS" and height:
        sheet.insert_rows(row, height)
    sheet.row_count = max(sheet.row_count, row + height)
    sheet.col_count = max(sheet.col_count, col + width)
    sheet.write(row, col, block)
    if height and all(any(isinstance(c, Cell) for c in r) for r in block):
        first = table.start_row if table is not None else row
        low = min(col, table.start_col) if table is not None else col
        high = max(col + width, table.end_col) if table is not None else col + width
        sheet.remember_table(key, Table(first, row + height, low, high))
    body["updates"] = _counts(book, sheet, row, col, block)
    return body


def clear(book: Spreadsheet, range_text: str) -> dict[str, Any]:
    """``values.clear``: empty the block's values."""
    sheet, box = book.resolve(range_text)
    sheet.clear(box.start_row, box.end_row, box.start_col, box.end_col)
    return {
        "spreadsheetId": book.spreadsheet_id,
        "clearedRange": a1.format_range(
            sheet.title, box.start_row, box.start_col, box.end_row, box.end_col
        ),
    }


def batch_clear(book: Spreadsheet, ranges: Sequence[str]) -> dict[str, Any]:
    """``values.batchClear``: every range checked first, then cleared."""
    for text in ranges:
        book.resolve(text)
    cleared = [clear(book, text)["clearedRange"] for text in ranges]
    return {"spreadsheetId": book.spreadsheet_id, "clearedRanges": cleared}


# -- helpers ---------------------------------------------------------------


def _prepare(
    book: Spreadsheet, range_text: str, values: Any, user_entered: bool, major: str | None
) -> tuple[Sheet, Table, Block]:
    sheet, box = book.resolve(range_text)
    block = _block(values, user_entered, major, book.locale)
    height, width = len(block), max((len(r) for r in block), default=0)
    single = box.end_row - box.start_row == 1 and box.end_col - box.start_col == 1
    if not single and height > box.end_row - box.start_row:
        raise bad_request(
            f"Requested writing within range [{range_text}], but tried writing to row "
            f"[{box.start_row + height}]"
        )
    if not single and width > box.end_col - box.start_col:
        raise bad_request(
            f"Requested writing within range [{range_text}], but tried writing to column "
            f"[{a1.column_letters(box.start_col + width - 1)}]"
        )
    if box.start_row + height > sheet.row_count or box.start_col + width > sheet.col_count:
        reach = a1.format_range(
            sheet.title,
            box.start_row,
            box.start_col,
            box.start_row + max(height, 1),
            box.start_col + max(width, 1),
        )
        raise grid_error(sheet, reach.split("!", 1)[1])
    return sheet, box, block


def _write(
    book: Spreadsheet, sheet: Sheet, box: Table, block: Block, include_values: bool
) -> dict[str, Any]:
    sheet.write(box.start_row, box.start_col, block)
    body = _counts(book, sheet, box.start_row, box.start_col, block)
    if not block:
        body = {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": a1.format_range(
                sheet.title, box.start_row, box.start_col, box.end_row, box.end_col
            ),
        }
    if include_values and block:
        body["updatedData"] = get(book, body["updatedRange"])
    return body


def _counts(book: Spreadsheet, sheet: Sheet, row: int, col: int, block: Block) -> dict[str, Any]:
    height, width = len(block), max((len(r) for r in block), default=0)
    cells = sum(1 for r in block for c in r if c is not SKIP)
    return {
        "spreadsheetId": book.spreadsheet_id,
        "updatedRange": a1.format_range(
            sheet.title, row, col, row + max(height, 1), col + max(width, 1)
        ),
        "updatedRows": sum(1 for r in block if any(c is not SKIP for c in r)),
        "updatedColumns": width,
        "updatedCells": cells,
    }


def _block(values: Any, user_entered: bool, major: str | None, locale: str = "en_US") -> Block:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        raise bad_request("Invalid value at 'data.values': expected a list of lists")
    try:
        block: Block = [[from_input(v, user_entered, locale) for v in r] for r in values]
    except ValueError as exc:
        raise bad_request(f"Invalid values: {exc}") from exc
    if _major(major) == "COLUMNS":
        height = max((len(c) for c in block), default=0)
        block = [[c[i] if i < len(c) else SKIP for c in block] for i in range(height)]
    return block


def _trim(values: list[Any]) -> list[Any]:
    while values and values[-1] == "":
        values.pop()
    return values


def _columns(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    return [_trim([r[i] if i < len(r) else "" for r in rows]) for i in range(width)]


def _render_option(option: str | None) -> str:
    chosen = option or "FORMATTED_VALUE"
    if chosen not in _RENDERS:
        raise bad_request(f"Invalid value at 'value_render_option' ({chosen})")
    return chosen


def _date_option(option: str | None, render_option: str) -> str:
    chosen = option or "SERIAL_NUMBER"
    if chosen not in _DATE_RENDERS:
        raise bad_request(f"Invalid value at 'date_time_render_option' ({chosen})")
    return chosen if render_option != "FORMATTED_VALUE" else "SERIAL_NUMBER"


def _input_option(option: str | None) -> bool:
    if not option:
        raise bad_request("'valueInputOption' is required but not specified")
    if option not in _INPUTS:
        raise bad_request(f"Invalid value at 'value_input_option' ({option})")
    return option == "USER_ENTERED"


def _major(major: str | None) -> str:
    chosen = major or "ROWS"
    if chosen not in ("ROWS", "COLUMNS"):
        raise bad_request(f"Invalid value at 'major_dimension' ({chosen})")
    return chosen
