"""The Sheets emulator's model without HTTP: A1 ranges, cell parsing, values calls, batches."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sheetqueue.sheets.testing.emulator import ApiError, SheetsService
from sheetqueue.sheets.testing.emulator.a1 import (
    Box,
    column_index,
    column_letters,
    format_range,
    parse_cells,
    split_sheet,
)
from sheetqueue.sheets.testing.emulator.cells import Cell, from_input, render


def _call(
    service: SheetsService, method: str, path: str, body: object = None, **query: str
) -> tuple[int, Any]:
    return service.handle(method, path, dict(query), body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'My Tab'!B3", ("My Tab", "B3")),
        ("'It''s'!A1:B2", ("It's", "A1:B2")),
        ("Requests!A1:Q", ("Requests", "A1:Q")),
        ("'Requests'", ("Requests", None)),
        ("A1:B2", ("A1:B2", None)),
    ],
)
def test_split_sheet(text: str, expected: tuple[str | None, str | None]) -> None:
    """The sheet part and cells part of a range are split, quotes undone."""
    assert split_sheet(text) == expected


@pytest.mark.parametrize(
    ("cells", "box"),
    [
        ("B3", Box(2, 1, 3, 2)),
        ("A1:Q", Box(0, 0, None, 17)),
        ("A2:A", Box(1, 0, None, 1)),
        ("C:D", Box(0, 2, None, 4)),
        ("2:5", Box(1, 0, 5, None)),
        ("B2:A1", Box(0, 0, 2, 2)),
    ],
)
def test_parse_cells(cells: str, box: Box) -> None:
    """Cells, blocks, whole columns, whole rows and open-ended ranges parse to boxes."""
    assert parse_cells(cells, cells) == box


@pytest.mark.parametrize("cells", ["A", "1", "A1:", "!!", "A1:B2:C3"])
def test_unparsable_cells(cells: str) -> None:
    """Nonsense is Google's 400 'Unable to parse range'."""
    with pytest.raises(ApiError) as caught:
        parse_cells(cells, cells)
    assert caught.value.code == 400


def test_column_letters_round_trip() -> None:
    """Column letters and indexes convert both ways, past Z."""
    for index in (0, 25, 26, 51, 701, 702):
        assert column_index(column_letters(index)) == index
    assert column_letters(16) == "Q"
    assert format_range("My Tab", 0, 0, 1000, 26) == "'My Tab'!A1:Z1000"
    assert format_range("Requests", 4, 0, 5, 1) == "Requests!A5"


@pytest.mark.parametrize(
    ("typed", "formatted", "unformatted"),
    [
        ("00123", "123", 123),
        ("1,234.5", "1234.5", 1234.5),
        ("12%", "12%", 0.12),
        ("FALSE", "FALSE", False),
        ("'00123", "00123", "00123"),
        ("2026-11-22", "2026-11-22", 46348),
        ("11/22/2026 9:30:00", "11/22/2026 9:30:00", 46348.395833333336),
        ("=(1+2)*3", "9", 9),
        ("=1/0", "#DIV/0!", "#DIV/0!"),
        ('="a""b"', 'a"b', 'a"b'),
        ("=IMPORTXML(A1)", "=IMPORTXML(A1)", "=IMPORTXML(A1)"),
        ("2026-11-22T09:30:00Z", "2026-11-22T09:30:00Z", "2026-11-22T09:30:00Z"),
    ],
)
def test_user_entered_parsing(typed: str, formatted: str, unformatted: object) -> None:
    """USER_ENTERED text parses as the Sheets UI would, and formulas never run code."""
    cell = from_input(typed, user_entered=True)
    assert isinstance(cell, Cell)
    assert render(cell, "FORMATTED_VALUE") == formatted
    assert render(cell, "UNFORMATTED_VALUE") == unformatted


def test_raw_input_and_nulls() -> None:
    """RAW keeps strings; null skips a cell; an empty string clears it."""
    assert from_input("=1+1", user_entered=False) == Cell("=1+1")
    assert from_input("", user_entered=False) is None
    assert from_input(None, user_entered=True) is not None
    assert render(Cell(2.0), "UNFORMATTED_VALUE") == 2


def test_values_get_trims_trailing_empties_and_keeps_inner_blank_rows() -> None:
    """values.get drops trailing empty cells and rows, keeps inner empty rows as []."""
    service = SheetsService()
    book = service.create_spreadsheet("Q", {"S": [["a", "", ""], [], ["", "b"], [""]]})
    status, body = _call(service, "GET", f"/v4/spreadsheets/{book}/values/S")
    assert status == 200
    assert body == {
        "range": "S!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["a"], [], ["", "b"]],
    }
    _, empty = _call(service, "GET", f"/v4/spreadsheets/{book}/values/S!D5:E6")
    assert "values" not in empty
    _, cols = _call(
        service, "GET", f"/v4/spreadsheets/{book}/values/S!A1:B3", majorDimension="COLUMNS"
    )
    assert cols["values"] == [["a"], ["", "", "b"]]


def test_update_bounded_range_refuses_overflow() -> None:
    """Values larger than an explicit range are a 400 naming the row."""
    service = SheetsService()
    book = service.create_spreadsheet("Q", ["S"])
    status, body = _call(
        service,
        "PUT",
        f"/v4/spreadsheets/{book}/values/S!A1:B1",
        {"values": [["a"], ["b"]]},
        valueInputOption="RAW",
    )
    assert status == 400
    assert "tried writing to row [2]" in body["error"]["message"]
    status, body = _call(
        service, "PUT", f"/v4/spreadsheets/{book}/values/S!A1", {"values": [["a"]]}
    )
    assert status == 400
    assert "valueInputOption" in body["error"]["message"]


def test_failed_batch_update_changes_nothing() -> None:
    """A batchUpdate whose second request fails leaves the first undone too."""
    service = SheetsService()
    book = service.create_spreadsheet("Q", ["S"])
    body = {
        "requests": [
            {"addSheet": {"properties": {"title": "New"}}},
            {"deleteSheet": {"sheetId": 99}},
        ]
    }
    status, answer = _call(service, "POST", f"/v4/spreadsheets/{book}:batchUpdate", body)
    assert status == 400
    assert "requests[1]" in answer["error"]["message"]
    _, meta = _call(service, "GET", f"/v4/spreadsheets/{book}")
    assert [s["properties"]["title"] for s in meta["sheets"]] == ["S"]


def test_batch_update_requests_and_replies() -> None:
    """Structural requests apply in order and reply in Google's shapes."""
    service = SheetsService()
    book = service.create_spreadsheet("Q", {"S": [["h1", "h2"], ["b", 2], ["a", 1]]})
    grid = {
        "sheetId": 0,
        "startRowIndex": 1,
        "endRowIndex": 3,
        "startColumnIndex": 0,
        "endColumnIndex": 2,
    }
    requests = [
        {
            "addSheet": {
                "properties": {
                    "title": "Orders",
                    "gridProperties": {"rowCount": 5, "columnCount": 3},
                }
            }
        },
        {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 2}},
        {
            "insertDimension": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}
            }
        },
        {
            "deleteDimension": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}
            }
        },
        {
            "sortRange": {
                "range": grid,
                "sortSpecs": [{"dimensionIndex": 1, "sortOrder": "ASCENDING"}],
            }
        },
        {"setDataValidation": {"range": grid, "rule": {"condition": {"type": "ONE_OF_LIST"}}}},
        {"addConditionalFormatRule": {"rule": {"ranges": [grid], "booleanRule": {}}, "index": 0}},
        {"repeatCell": {"range": grid, "cell": {}, "fields": "userEnteredFormat"}},
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "ROWS"},
                "fields": "*",
            }
        },
    ]
    status, answer = _call(
        service, "POST", f"/v4/spreadsheets/{book}:batchUpdate", {"requests": requests}
    )
    assert status == 200, answer
    added = answer["replies"][0]["addSheet"]["properties"]
    assert added["title"] == "Orders" and added["index"] == 1
    assert added["gridProperties"] == {"rowCount": 5, "columnCount": 3}
    assert answer["replies"][1:] == [{}] * 8
    assert service.values(book, "S") == [["h1", "h2"], ["a", "1"], ["b", "2"]]
    assert service.grid_size(book, "S") == (1000, 28)
    _, meta = _call(service, "GET", f"/v4/spreadsheets/{book}", fields="sheets.conditionalFormats")
    assert list(meta) == ["sheets"] and list(meta["sheets"][0]) == ["conditionalFormats"]
    _, bad = _call(
        service, "POST", f"/v4/spreadsheets/{book}:batchUpdate", {"requests": [{"explode": {}}]}
    )
    assert "Unknown name" in bad["error"]["message"]


def test_fifty_thousand_appends_stay_linear() -> None:
    """Appending 50,000 rows one call at a time takes seconds, not minutes."""
    service = SheetsService()
    book = service.create_spreadsheet("Q", {"Requests": [["Request ID", "Status"]]})
    path = f"/v4/spreadsheets/{book}/values/Requests:append"
    started = time.perf_counter()
    for number in range(50_000):
        status, _ = service.handle(
            "POST",
            path,
            {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
            {"values": [[f"r{number}", "Pending"]]},
        )
        assert status == 200
    assert time.perf_counter() - started < 20
    assert service.grid_size(book, "Requests")[0] == 51_000
    assert service.values(book, "Requests")[-1] == ["r49999", "Pending"]
