"""Developer metadata: key/value tags on a tab, a row or a column that move with it.

As in Google's API, an entry located on a column (``dimensionRange`` on
``COLUMNS``, exactly one column) follows that column when columns are
inserted or deleted before it, and goes away when its column is deleted
(the grid does the moving: :meth:`Sheet._shift` and :meth:`Sheet._cut`).
Spreadsheet-level entries are not supported (a 400 says so).

Calls: ``createDeveloperMetadata``, ``updateDeveloperMetadata`` and
``deleteDeveloperMetadata`` in a ``batchUpdate``; ``developerMetadata:search``
and ``developerMetadata/{id}``; ``sheets.developerMetadata`` and
``sheets.data.columnMetadata.developerMetadata`` in ``spreadsheets.get``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from sheetqueue.sheets.testing.emulator.errors import bad_request, not_found
from sheetqueue.sheets.testing.emulator.grid import Sheet
from sheetqueue.sheets.testing.emulator.state import Spreadsheet

__all__ = ["create", "delete", "get", "search", "update"]

_VISIBILITIES = ("DOCUMENT", "PROJECT")


def create(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``createDeveloperMetadata``: the stored entry, with its id and location type."""
    wanted = payload.get("developerMetadata")
    if not isinstance(wanted, dict):
        raise bad_request(
            "Invalid requests[0].createDeveloperMetadata: developerMetadata is required"
        )
    key = wanted.get("metadataKey")
    if not key:
        raise bad_request(
            "Invalid requests[0].createDeveloperMetadata: "
            "Developer metadata must always have a key."
        )
    visibility = wanted.get("visibility")
    if visibility not in _VISIBILITIES:
        raise bad_request(
            "Invalid requests[0].createDeveloperMetadata: Developer metadata must always have a "
            "visibility specified."
        )
    sheet, location = _location(book, wanted.get("location"))
    metadata_id = wanted.get("metadataId")
    if metadata_id is None:
        metadata_id = book.next_id()
    elif int(metadata_id) <= 0 or any(e["metadataId"] == int(metadata_id) for _s, e in _all(book)):
        raise bad_request(
            f"Invalid requests[0].createDeveloperMetadata: metadataId {metadata_id} is taken or "
            "not positive."
        )
    entry: dict[str, Any] = {
        "metadataId": int(metadata_id),
        "metadataKey": str(key),
        "location": location,
        "visibility": visibility,
    }
    if wanted.get("metadataValue") is not None:
        entry["metadataValue"] = str(wanted["metadataValue"])
    sheet.developer_metadata.append(entry)
    return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(entry)}}


def update(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``updateDeveloperMetadata``: set the masked fields on every entry the filters select."""
    filters = payload.get("dataFilters") or []
    changes = payload.get("developerMetadata") or {}
    fields = {part.strip() for part in str(payload.get("fields", "")).split(",") if part.strip()}
    if not filters or not fields:
        raise bad_request(
            "Invalid requests[0].updateDeveloperMetadata: dataFilters and fields are required"
        )
    updated = []
    for sheet, entry in _select(book, filters):
        for name in fields:
            if name in ("metadataKey", "metadataValue", "visibility"):
                entry[name] = changes.get(name)
            elif name == "location":
                target, location = _location(book, changes.get("location"))
                entry["location"] = location
                if target is not sheet:
                    sheet.developer_metadata.remove(entry)
                    target.developer_metadata.append(entry)
            else:
                raise bad_request(
                    f"Invalid requests[0].updateDeveloperMetadata: cannot update {name}"
                )
        updated.append(copy.deepcopy(entry))
    return {"updateDeveloperMetadata": {"developerMetadata": updated}}


def delete(book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``deleteDeveloperMetadata``: remove every entry the filter selects."""
    flt = payload.get("dataFilter")
    if not isinstance(flt, dict):
        raise bad_request("Invalid requests[0].deleteDeveloperMetadata: dataFilter is required")
    deleted = []
    for sheet, entry in list(_select(book, [flt])):
        sheet.developer_metadata.remove(entry)
        deleted.append(entry)
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}}


def search(book: Spreadsheet, body: Any) -> dict[str, Any]:
    """``developerMetadata:search``: each matching entry with the filters it matched."""
    filters = body.get("dataFilters") if isinstance(body, dict) else None
    if not isinstance(filters, list) or not filters:
        raise bad_request("Invalid dataFilters: at least one data filter is required")
    found = []
    for _sheet, entry in _all(book):
        matched = [flt for flt in filters if _matches(book, entry, flt)]
        if matched:
            found.append(
                {"developerMetadata": copy.deepcopy(entry), "dataFilters": copy.deepcopy(matched)}
            )
    return {"matchedDeveloperMetadata": found} if found else {}


def get(book: Spreadsheet, metadata_id: str) -> dict[str, Any]:
    """``developerMetadata/{id}``."""
    for _sheet, entry in _all(book):
        if str(entry["metadataId"]) == metadata_id:
            return copy.deepcopy(entry)
    raise not_found(f"No developer metadata with id {metadata_id}")


def _all(book: Spreadsheet) -> Iterator[tuple[Sheet, dict[str, Any]]]:
    for sheet in book.sheets:
        for entry in sheet.developer_metadata:
            yield sheet, entry


def _select(book: Spreadsheet, filters: list[Any]) -> list[tuple[Sheet, dict[str, Any]]]:
    return [
        (sheet, entry)
        for sheet, entry in _all(book)
        if any(_matches(book, entry, flt) for flt in filters)
    ]


def _matches(book: Spreadsheet, entry: dict[str, Any], flt: Any) -> bool:
    lookup = flt.get("developerMetadataLookup") if isinstance(flt, dict) else None
    if not isinstance(lookup, dict):
        raise bad_request("Invalid dataFilter: only developerMetadataLookup is supported")
    for name in ("metadataKey", "metadataValue", "visibility"):
        if name in lookup and entry.get(name) != lookup[name]:
            return False
    if "metadataId" in lookup and entry["metadataId"] != int(lookup["metadataId"]):
        return False
    if "locationType" in lookup and entry["location"]["locationType"] != lookup["locationType"]:
        return False
    where = lookup.get("metadataLocation")
    if where is not None:
        _sheet, wanted = _location(book, where)
        if wanted != entry["location"]:
            return False
    return True


def _location(book: Spreadsheet, location: Any) -> tuple[Sheet, dict[str, Any]]:
    if not isinstance(location, dict):
        raise bad_request("Invalid developerMetadata: a location is required")
    if location.get("spreadsheet"):
        raise bad_request("Spreadsheet-level developer metadata is not supported by the emulator")
    span = location.get("dimensionRange")
    if isinstance(span, dict):
        sheet = book.sheet_by_id(span.get("sheetId", 0))
        dimension = span.get("dimension")
        if dimension not in ("ROWS", "COLUMNS"):
            raise bad_request("Invalid dimensionRange: dimension must be ROWS or COLUMNS")
        start, end = int(span.get("startIndex", 0)), int(span.get("endIndex", -1))
        limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
        if end - start != 1 or not 0 <= start < limit:
            raise bad_request(
                "Invalid developerMetadata location: the dimension range must be exactly one "
                "row or column inside the grid"
            )
        kind = "ROW" if dimension == "ROWS" else "COLUMN"
        return sheet, {
            "locationType": kind,
            "dimensionRange": {
                "sheetId": sheet.sheet_id,
                "dimension": dimension,
                "startIndex": start,
                "endIndex": end,
            },
        }
    if "sheetId" in location:
        sheet = book.sheet_by_id(location["sheetId"])
        return sheet, {"locationType": "SHEET", "sheetId": sheet.sheet_id}
    raise bad_request("Invalid developerMetadata location: give a sheetId or a dimensionRange")
