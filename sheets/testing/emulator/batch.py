"""``spreadsheets.batchUpdate``: the structural requests the project and gspread send.

Supported: addSheet, deleteSheet, updateSheetProperties, appendDimension,
insertDimension, deleteDimension, sortRange, setDataValidation,
addProtectedRange, addConditionalFormatRule, updateConditionalFormatRule
(a new rule at an index), deleteConditionalFormatRule, setBasicFilter,
clearBasicFilter, mergeCells, unmergeCells, updateCells (values and cell
notes), findReplace (see cell_requests), createDeveloperMetadata,
updateDeveloperMetadata, deleteDeveloperMetadata. repeatCell, updateCells of
other fields, updateDimensionProperties, updateBorders, autoResizeDimensions
and the like are accepted and kept loosely (no effect on values). The batch is
all or nothing: the caller runs it on a snapshot and keeps it only when every
request succeeded.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from sheetqueue.sheets.testing.emulator import cell_requests, metadata
from sheetqueue.sheets.testing.emulator.errors import ApiError, bad_request
from sheetqueue.sheets.testing.emulator.grid import Table
from sheetqueue.sheets.testing.emulator.state import Spreadsheet, sheet_properties

__all__ = ["apply"]

Handler = Callable[[Spreadsheet, dict[str, Any]], dict[str, Any] | None]
_LOOSE = {
    "repeatCell",
    "updateDimensionProperties",
    "updateBorders",
    "autoResizeDimensions",
    "updateSpreadsheetProperties",
    "addNamedRange",
    "updateProtectedRange",
    "deleteProtectedRange",
}


def apply(book: Spreadsheet, body: Any) -> dict[str, Any]:
    """Run every request of a batchUpdate body on ``book``; return Google's reply."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid requests: at least one request is required")
    replies: list[dict[str, Any]] = []
    for position, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise bad_request(
                f"Invalid requests[{position}]: exactly one kind of request is allowed"
            )
        ((kind, payload),) = request.items()
        handler = _HANDLERS.get(kind)
        if handler is None and kind not in _LOOSE:
            raise bad_request(
                f'Invalid JSON payload received. Unknown name "{kind}" at '
                f"'requests[{position}]': Cannot find field."
            )
        try:
            if handler is None:
                _loose(book, kind, payload)
                reply = None
            else:
                reply = handler(book, payload or {})
        except ApiError as exc:
            exc.message = exc.message.replace("requests[0]", f"requests[{position}]")
            raise
        replies.append(reply or {})
    return {"spreadsheetId": book.spreadsheet_id, "replies": replies}


def _loose(book: Spreadsheet, kind: str, payload: Any) -> None:
    grid = payload.get("range") if isinstance(payload, dict) else None
    sheet_id = grid.get("sheetId", 0) if isinstance(grid, dict) else None
    target = book.sheet_by_id(sheet_id) if sheet_id is not None else book.sheets[0]
    target.formats.append({kind: copy.deepcopy(payload)})


def _add_sheet(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties", {})
    grid = props.get("gridProperties", {})
    sheet = book.add_sheet(
        props.get("title"),
        props.get("index"),
        props.get("sheetId"),
        int(grid.get("rowCount", 1000)),
        int(grid.get("columnCount", 26)),
    )
    sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
    sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    for key in ("tabColor", "tabColorStyle", "hidden", "rightToLeft"):
        if key in props:
            sheet.extra[key] = props[key]
    return {"addSheet": {"properties": sheet_properties(sheet)}}


def _delete_sheet(book: Spreadsheet, payload: dict[str, Any]) -> None:
    book.delete_sheet(payload.get("sheetId", -1))


def _update_sheet(book: Spreadsheet, payload: dict[str, Any]) -> None:
    props = payload.get("properties", {})
    sheet = book.sheet_by_id(props.get("sheetId", 0))
    fields = str(payload.get("fields", ""))
    if not fields:
        raise bad_request("Invalid requests[0].updateSheetProperties: No fields specified.")
    wanted = _mask(fields)
    everything = "*" in wanted

    def asked(path: str) -> bool:
        return everything or path in wanted or path.split(".")[0] in wanted

    grid = props.get("gridProperties", {})
    if asked("title") and "title" in props and props["title"] != sheet.title:
        if book.find_title(props["title"]) is not None:
            raise bad_request(
                f"Invalid requests[0].updateSheetProperties: A sheet with the name "
                f'"{props["title"]}" already exists. Please enter another name.'
            )
        sheet.title = props["title"]
    if asked("index") and "index" in props:
        book.sheets.remove(sheet)
        book.sheets.insert(max(0, min(int(props["index"]), len(book.sheets))), sheet)
        book.renumber()
    rows = grid.get("rowCount") if asked("gridProperties.rowCount") else None
    cols = grid.get("columnCount") if asked("gridProperties.columnCount") else None
    if rows is not None or cols is not None:
        sheet.resize(None if rows is None else int(rows), None if cols is None else int(cols))
    if asked("gridProperties.frozenRowCount"):
        frozen = int(grid.get("frozenRowCount", 0))
        if frozen >= sheet.row_count:
            raise bad_request(
                "Invalid requests[0].updateSheetProperties: You can't freeze all visible rows "
                "on the sheet."
            )
        sheet.frozen_rows = frozen
    if asked("gridProperties.frozenColumnCount"):
        sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    for key in ("tabColor", "tabColorStyle", "hidden", "rightToLeft"):
        if asked(key) and key in props:
            sheet.extra[key] = props[key]


def _append_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet = book.sheet_by_id(payload.get("sheetId", 0))
    length = int(payload.get("length", 0))
    if length <= 0:
        raise bad_request("Invalid requests[0].appendDimension: length must be positive")
    if _dimension(payload.get("dimension")) == "ROWS":
        sheet.row_count += length
    else:
        sheet.col_count += length


def _insert_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    rng = payload.get("range", {})
    sheet = book.sheet_by_id(rng.get("sheetId", 0))
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    rows = _dimension(rng.get("dimension")) == "ROWS"
    limit = sheet.row_count if rows else sheet.col_count
    if not 0 <= start < end or start > limit:
        raise bad_request("Invalid requests[0].insertDimension: range is out of the grid")
    if rows:
        sheet.insert_rows(start, end - start)
    else:
        sheet.insert_cols(start, end - start)


def _delete_dimension(book: Spreadsheet, payload: dict[str, Any]) -> None:
    rng = payload.get("range", {})
    sheet = book.sheet_by_id(rng.get("sheetId", 0))
    rows = _dimension(rng.get("dimension")) == "ROWS"
    limit = sheet.row_count if rows else sheet.col_count
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", limit))
    if not 0 <= start < end or end > limit:
        raise bad_request("Invalid requests[0].deleteDimension: range is out of the grid")
    if end - start >= limit:
        raise bad_request(
            "Invalid requests[0].deleteDimension: You can't delete all the rows on the sheet."
        )
    if rows:
        sheet.delete_rows(start, end)
    else:
        sheet.delete_cols(start, end)


def _sort_range(book: Spreadsheet, payload: dict[str, Any]) -> None:
    box, sheet_id = _grid_range(book, payload.get("range", {}))
    keys = []
    for spec in payload.get("sortSpecs", []):
        col = int(spec.get("dimensionIndex", 0))
        if not box.start_col <= col < box.end_col:
            raise bad_request("Invalid requests[0].sortRange: sort column is outside the range")
        keys.append((col, spec.get("sortOrder", "ASCENDING") == "DESCENDING"))
    sheet = book.sheet_by_id(sheet_id)
    if sheet.vertical_merge_in(box):
        raise bad_request(
            "Invalid requests[0].sortRange: You can't sort a range containing vertically "
            "merged cells."
        )
    sheet.sort(box, keys or [(box.start_col, False)])


def _set_validation(book: Spreadsheet, payload: dict[str, Any]) -> None:
    rng = payload.get("range", {})
    _grid_range(book, rng)
    book.sheet_by_id(rng.get("sheetId", 0)).validations.append(copy.deepcopy(payload))


def _add_protected(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    protected = copy.deepcopy(payload.get("protectedRange", {}))
    rng = protected.get("range", {})
    _grid_range(book, rng)
    protected.setdefault("protectedRangeId", book.next_id())
    protected.setdefault("warningOnly", False)
    protected["requestingUserCanEdit"] = True
    book.sheet_by_id(rng.get("sheetId", 0)).protected_ranges.append(protected)
    return {"addProtectedRange": {"protectedRange": copy.deepcopy(protected)}}


def _add_conditional(book: Spreadsheet, payload: dict[str, Any]) -> None:
    rule = copy.deepcopy(payload.get("rule", {}))
    ranges = rule.get("ranges") or []
    if not ranges:
        raise bad_request("Invalid requests[0].addConditionalFormatRule: rule needs ranges")
    for rng in ranges:
        _grid_range(book, rng)
    sheet = book.sheet_by_id(ranges[0].get("sheetId", 0))
    index = int(payload.get("index", len(sheet.conditional_formats)))
    sheet.conditional_formats.insert(index, rule)


def _update_conditional(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(payload.get("sheetId", 0))
    index = int(payload.get("index", -1))
    if not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(
            f"Invalid requests[0].updateConditionalFormatRule: No conditional format on sheet: "
            f"{sheet.sheet_id} at index: {index}"
        )
    rule = copy.deepcopy(payload.get("rule", {}))
    if not rule.get("ranges"):
        raise bad_request("Invalid requests[0].updateConditionalFormatRule: rule needs ranges")
    for rng in rule["ranges"]:
        _grid_range(book, rng)
    old = sheet.conditional_formats[index]
    sheet.conditional_formats[index] = rule
    return {
        "updateConditionalFormatRule": {
            "oldIndex": index,
            "newIndex": index,
            "oldRule": copy.deepcopy(old),
            "newRule": copy.deepcopy(rule),
        }
    }


def _delete_conditional(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(payload.get("sheetId", 0))
    index = int(payload.get("index", -1))
    if not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(
            f"Invalid requests[0].deleteConditionalFormatRule: No conditional format on sheet: "
            f"{sheet.sheet_id} at index: {index}"
        )
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _set_filter(book: Spreadsheet, payload: dict[str, Any]) -> None:
    flt = copy.deepcopy(payload.get("filter", {}))
    rng = flt.get("range", {})
    _grid_range(book, rng)
    book.sheet_by_id(rng.get("sheetId", 0)).basic_filter = flt


def _clear_filter(book: Spreadsheet, payload: dict[str, Any]) -> None:
    book.sheet_by_id(payload.get("sheetId", 0)).basic_filter = None


def _merge_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    rng = payload.get("range", {})
    box, sheet_id = _grid_range(book, rng)
    sheet = book.sheet_by_id(sheet_id)
    kind = payload.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ALL":
        pieces = [box]
    elif kind == "MERGE_ROWS":
        pieces = [
            Table(r, r + 1, box.start_col, box.end_col) for r in range(box.start_row, box.end_row)
        ]
    elif kind == "MERGE_COLUMNS":
        pieces = [
            Table(box.start_row, box.end_row, c, c + 1) for c in range(box.start_col, box.end_col)
        ]
    else:
        raise bad_request(f"Invalid requests[0].mergeCells: unknown mergeType {kind}")
    for piece in pieces:
        if (piece.end_row - piece.start_row) * (piece.end_col - piece.start_col) < 2:
            continue
        for merge in sheet.merges:
            if _overlap(merge, piece):
                raise bad_request(
                    "Invalid requests[0].mergeCells: You must select all cells in a merged range "
                    "to merge or unmerge them."
                )
        for row in range(piece.start_row, piece.end_row):  # only the top-left value is kept
            for col in range(piece.start_col, piece.end_col):
                if (row, col) != (piece.start_row, piece.start_col) and sheet.cell(row, col):
                    sheet.clear(row, row + 1, col, col + 1)
        sheet.merges.append(
            {
                "sheetId": sheet_id,
                "startRowIndex": piece.start_row,
                "endRowIndex": piece.end_row,
                "startColumnIndex": piece.start_col,
                "endColumnIndex": piece.end_col,
            }
        )


def _unmerge_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    box, sheet_id = _grid_range(book, payload.get("range", {}))
    sheet = book.sheet_by_id(sheet_id)
    inside = [
        m
        for m in sheet.merges
        if box.start_row <= m["startRowIndex"]
        and m["endRowIndex"] <= box.end_row
        and box.start_col <= m["startColumnIndex"]
        and m["endColumnIndex"] <= box.end_col
    ]
    if any(_overlap(m, box) and m not in inside for m in sheet.merges):
        raise bad_request(
            "Invalid requests[0].unmergeCells: You must select all cells in a merged range to "
            "merge or unmerge them."
        )
    sheet.merges = [m for m in sheet.merges if m not in inside]


def _overlap(merge: dict[str, Any], box: Table) -> bool:
    return bool(
        merge["startRowIndex"] < box.end_row
        and box.start_row < merge["endRowIndex"]
        and merge["startColumnIndex"] < box.end_col
        and box.start_col < merge["endColumnIndex"]
    )


def _update_cells(book: Spreadsheet, payload: dict[str, Any]) -> None:
    """Cell notes are kept (``fields: "note"``); values as cell_requests writes them."""
    fields = _mask(str(payload.get("fields", "")))
    if fields != {"note"}:
        cell_requests.update_cells(book, payload)
        return
    start = payload.get("start")
    if isinstance(start, dict):
        sheet = book.sheet_by_id(start.get("sheetId", 0))
        first_row, first_col = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    else:
        box, sheet_id = _grid_range(book, payload.get("range", {}))
        sheet = book.sheet_by_id(sheet_id)
        first_row, first_col = box.start_row, box.start_col
    for row_offset, row in enumerate(payload.get("rows", [])):
        for col_offset, cell in enumerate(row.get("values", [])):
            row_at, col_at = first_row + row_offset, first_col + col_offset
            if row_at >= sheet.row_count or col_at >= sheet.col_count:
                raise bad_request("Invalid requests[0].updateCells: cells are outside the grid")
            note = (cell or {}).get("note")
            if note:
                sheet.notes[(row_at, col_at)] = str(note)
            else:
                sheet.notes.pop((row_at, col_at), None)


def _grid_range(book: Spreadsheet, rng: dict[str, Any]) -> tuple[Table, int]:
    sheet_id = rng.get("sheetId", 0)
    sheet = book.sheet_by_id(sheet_id)
    box = Table(
        int(rng.get("startRowIndex", 0)),
        int(rng.get("endRowIndex", sheet.row_count)),
        int(rng.get("startColumnIndex", 0)),
        int(rng.get("endColumnIndex", sheet.col_count)),
    )
    if (
        box.start_row < 0
        or box.start_col < 0
        or box.end_row > sheet.row_count
        or box.end_col > sheet.col_count
        or box.start_row > box.end_row
        or box.start_col > box.end_col
    ):
        raise bad_request(
            f"Invalid requests[0]: range is outside the grid (rows {sheet.row_count}, "
            f"columns {sheet.col_count})"
        )
    return box, sheet_id


def _mask(fields: str) -> set[str]:
    """``a/b,c(d,e)`` -> ``{"a.b", "c.d", "c.e"}``."""
    text = fields.replace("/", ".").replace(" ", "")
    text = re.sub(
        r"([\w.]+)\(([^()]*)\)",
        lambda m: ",".join(f"{m.group(1)}.{part}" for part in m.group(2).split(",")),
        text,
    )
    return {part for part in text.split(",") if part}


def _dimension(value: Any) -> str:
    if value not in ("ROWS", "COLUMNS"):
        raise bad_request(f"Invalid requests[0]: dimension must be ROWS or COLUMNS, not {value}")
    return str(value)


_HANDLERS: dict[str, Handler] = {
    "updateConditionalFormatRule": _update_conditional,
    "deleteConditionalFormatRule": _delete_conditional,
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet,
    "appendDimension": _append_dimension,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
    "sortRange": _sort_range,
    "setDataValidation": _set_validation,
    "addProtectedRange": _add_protected,
    "addConditionalFormatRule": _add_conditional,
    "setBasicFilter": _set_filter,
    "clearBasicFilter": _clear_filter,
    "mergeCells": _merge_cells,
    "unmergeCells": _unmerge_cells,
    "updateCells": _update_cells,
    "createDeveloperMetadata": metadata.create,
    "updateDeveloperMetadata": metadata.update,
    "deleteDeveloperMetadata": metadata.delete,
    "findReplace": cell_requests.find_replace,
}
