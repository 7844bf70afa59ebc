"""The Sheets emulator's wire format, checked with plain HTTP (httpx) against Google's shapes."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from sheetqueue.sheets.testing.emulator import Emulator


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def http(server: Emulator) -> Iterator[httpx.Client]:
    server.reset()
    with httpx.Client(base_url=f"{server.url}/v4/spreadsheets", timeout=5) as client:
        yield client


def _book(server: Emulator) -> str:
    return server.create_spreadsheet(
        "Shop", {"Requests": [["Request ID", "Type"], ["r1", "refund"]]}
    )


def test_unknown_spreadsheet_is_a_google_404(http: httpx.Client) -> None:
    """An unknown id answers 404 with Google's error object."""
    answer = http.get("/missing")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


def test_metadata_shape(server: Emulator, http: httpx.Client) -> None:
    """spreadsheets.get gives properties.title and each tab's properties."""
    book = _book(server)
    meta = http.get(f"/{book}", params={"includeGridData": "false"}).json()
    assert meta["spreadsheetId"] == book
    assert meta["properties"]["title"] == "Shop"
    props = meta["sheets"][0]["properties"]
    assert props == {
        "sheetId": 0,
        "title": "Requests",
        "index": 0,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 1000, "columnCount": 26},
    }
    grid = http.get(f"/{book}", params={"includeGridData": "true"}).json()
    first = grid["sheets"][0]["data"][0]["rowData"][1]["values"][0]
    assert first["userEnteredValue"] == {"stringValue": "r1"}


def test_append_answer_shape_with_quoted_range(server: Emulator, http: httpx.Client) -> None:
    """values.append answers tableRange and updates.updatedRange like Google."""
    book = server.create_spreadsheet("Shop", {"My Tab": [["a", "b"], ["c", "d"]]})
    answer = http.post(
        f"/{book}/values/{quote(chr(39) + 'My Tab' + chr(39) + '!A1:Q', safe='')}:append",
        params={"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
        json={"values": [["e", "f"]]},
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "spreadsheetId": book,
        "tableRange": "'My Tab'!A1:B2",
        "updates": {
            "spreadsheetId": book,
            "updatedRange": "'My Tab'!A3:B3",
            "updatedRows": 1,
            "updatedColumns": 2,
            "updatedCells": 2,
        },
    }


def test_append_to_an_empty_tab_has_no_table_range(server: Emulator, http: httpx.Client) -> None:
    """On an empty tab the append writes at the range's first cell and names no table."""
    book = server.create_spreadsheet("Shop", ["Sheet1"])
    answer = http.post(
        f"/{book}/values/Sheet1:append",
        params={"valueInputOption": "RAW"},
        json={"values": [["x"]]},
    ).json()
    assert "tableRange" not in answer
    assert answer["updates"]["updatedRange"] == "Sheet1!A1"


def test_update_clear_and_batch_clear(server: Emulator, http: httpx.Client) -> None:
    """values.update reports the written block; clear and batchClear name what they cleared."""
    book = _book(server)
    put = http.put(
        f"/{book}/values/Requests!C1",
        params={"valueInputOption": "RAW"},
        json={"values": [["Status"], ["Pending"]]},
    ).json()
    assert put == {
        "spreadsheetId": book,
        "updatedRange": "Requests!C1:C2",
        "updatedRows": 2,
        "updatedColumns": 1,
        "updatedCells": 2,
    }
    cleared = http.post(f"/{book}/values/Requests!C2:clear").json()
    assert cleared == {"spreadsheetId": book, "clearedRange": "Requests!C2"}
    both = http.post(
        f"/{book}/values:batchClear", json={"ranges": ["Requests!A2:A", "Requests!C1"]}
    )
    assert both.json()["clearedRanges"] == ["Requests!A2:A1000", "Requests!C1"]
    assert server.values(book, "Requests") == [["Request ID", "Type"], ["", "refund"]]


def test_batch_get_and_first_sheet_ranges(server: Emulator, http: httpx.Client) -> None:
    """batchGet answers one valueRange per range; a range without a tab means the first tab."""
    book = _book(server)
    answer = http.get(
        f"/{book}/values:batchGet", params=[("ranges", "A1:B1"), ("ranges", "Requests!2:2")]
    )
    ranges = answer.json()["valueRanges"]
    assert [r["range"] for r in ranges] == ["Requests!A1:B1", "Requests!A2:Z2"]
    assert ranges[1]["values"] == [["r1", "refund"]]


def test_batch_update_values_is_checked_before_writing(
    server: Emulator, http: httpx.Client
) -> None:
    """values.batchUpdate with one bad range writes nothing and answers 400."""
    book = _book(server)
    body = {
        "valueInputOption": "RAW",
        "data": [
            {"range": "Requests!A2", "values": [["changed"]]},
            {"range": "Nope!A1", "values": [["x"]]},
        ],
    }
    answer = http.post(f"/{book}/values:batchUpdate", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert server.values(book, "Requests")[1] == ["r1", "refund"]


def test_invalid_json_is_a_400(server: Emulator, http: httpx.Client) -> None:
    """A body that is not JSON is refused like Google refuses it."""
    answer = http.post(f"/{_book(server)}:batchUpdate", content=b"{nope")
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
