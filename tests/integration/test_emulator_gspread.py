"""The Sheets emulator as the real gspread 6 client sees it, over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import gspread
import pytest
from gspread.utils import InsertDataOption, ValueInputOption, ValueRenderOption

from sheetqueue.sheets.testing.emulator import Emulator, emulator_client

HEADER = ["Request ID", "Timestamp", "Type", "Status"]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    return server


@pytest.fixture
def client(emu: Emulator) -> gspread.Client:
    assert emu.url is not None
    return emulator_client(emu.url, timeout=5)


def _queue(emu: Emulator, *rows: list[str]) -> str:
    return emu.create_spreadsheet("Queue", {"Requests": [HEADER, *rows], "Orders": []})


def test_open_by_key_lists_tabs_with_google_default_grid(
    emu: Emulator, client: gspread.Client
) -> None:
    """open_by_key reads the title and tabs, each 1000 x 26 unless the data is wider."""
    sheet = client.open_by_key(_queue(emu))
    assert sheet.title == "Queue"
    assert [ws.title for ws in sheet.worksheets()] == ["Requests", "Orders"]
    requests_tab = sheet.worksheet("Requests")
    assert (requests_tab.row_count, requests_tab.col_count) == (1000, 26)


def test_unknown_spreadsheet_is_not_found(client: gspread.Client) -> None:
    """An unknown key raises gspread's SpreadsheetNotFound (a 404 underneath)."""
    with pytest.raises(gspread.SpreadsheetNotFound):
        client.open_by_key("nope")


def test_get_all_values_returns_the_rows(emu: Emulator, client: gspread.Client) -> None:
    """get_all_values gives every row, padded by gspread to the widest row."""
    ws = client.open_by_key(_queue(emu, ["r1", "t1", "refund"])).worksheet("Requests")
    assert ws.get_all_values() == [HEADER, ["r1", "t1", "refund", ""]]


def test_append_rows_writes_after_the_table_and_inserts_rows(
    emu: Emulator, client: gspread.Client
) -> None:
    """append_rows with INSERT_ROWS lands under the last data row and grows the grid."""
    book = _queue(emu, ["r1", "t1", "refund", "Pending"])
    ws = client.open_by_key(book).worksheet("Requests")
    answer = ws.append_rows(
        [["r2", "t2", "return", "Pending"], ["r3", "t3", "support", "Pending"]],
        value_input_option=ValueInputOption.raw,
        insert_data_option=InsertDataOption.insert_rows,
        table_range="A1",
    )
    assert answer["tableRange"] == "Requests!A1:D2"
    assert answer["updates"]["updatedRange"] == "Requests!A3:D4"
    assert answer["updates"]["updatedRows"] == 2
    assert emu.values(book, "Requests")[2:] == [
        ["r2", "t2", "return", "Pending"],
        ["r3", "t3", "support", "Pending"],
    ]
    assert emu.grid_size(book, "Requests") == (1002, 26)


def test_append_stops_at_the_first_blank_row(emu: Emulator, client: gspread.Client) -> None:
    """A blank row ends Google's table: the append fills it rather than going to the end."""
    book = _queue(emu, ["r1"], [], ["r3"])
    ws = client.open_by_key(book).worksheet("Requests")
    answer = ws.append_row(
        ["r4"],
        value_input_option=ValueInputOption.raw,
        insert_data_option=InsertDataOption.overwrite,
    )
    assert answer["updates"]["updatedRange"] == "Requests!A3"
    assert [row[:1] for row in emu.values(book, "Requests")] == [
        ["Request ID"],
        ["r1"],
        ["r4"],
        ["r3"],
    ]


def test_raw_keeps_text_as_typed(emu: Emulator, client: gspread.Client) -> None:
    """RAW stores 00123 and =1+1 as the strings sent, in every render option."""
    book = _queue(emu)
    ws = client.open_by_key(book).worksheet("Requests")
    ws.update([["00123", "=1+1", '=HYPERLINK("http://x","y")']], "A2", raw=True)
    assert ws.get("A2:C2")[0] == ["00123", "=1+1", '=HYPERLINK("http://x","y")']
    assert ws.get("A2:C2", value_render_option=ValueRenderOption.unformatted)[0][0] == "00123"
    cell = emu.cell(book, "Requests", "B2")
    assert cell is not None and cell.formula is None


def test_user_entered_parses_numbers_and_formulas(emu: Emulator, client: gspread.Client) -> None:
    """USER_ENTERED turns 00123 into 123, TRUE into a boolean and = into a stored formula."""
    book = _queue(emu)
    ws = client.open_by_key(book).worksheet("Requests")
    ws.update([["00123", '=HYPERLINK("http://x","y")', "=1+1", "true"]], "A2", raw=False)
    assert ws.get("A2:D2")[0] == ["123", "y", "2", "TRUE"]
    assert ws.get("A2:D2", value_render_option=ValueRenderOption.unformatted)[0] == [
        123,
        "y",
        2,
        True,
    ]
    assert ws.get("A2:D2", value_render_option=ValueRenderOption.formula)[0] == [
        123,
        '=HYPERLINK("http://x","y")',
        "=1+1",
        True,
    ]


def test_write_past_the_grid_is_refused(emu: Emulator, client: gspread.Client) -> None:
    """values.update beyond the last column is Google's 400 'exceeds grid limits'."""
    ws = client.open_by_key(_queue(emu)).worksheet("Requests")
    ws.resize(cols=4)
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.update([["a", "b"]], "D1")
    assert caught.value.code == 400
    assert "exceeds grid limits" in str(caught.value)
    ws.add_cols(1)
    ws.update([["Status", "Decision"]], "D1")
    assert ws.row_values(1) == ["Request ID", "Timestamp", "Type", "Status", "Decision"]


def test_batch_update_and_batch_get(emu: Emulator, client: gspread.Client) -> None:
    """batch_update writes several ranges in one call; batch_get reads several back."""
    ws = client.open_by_key(_queue(emu, ["r1"], ["r2"])).worksheet("Requests")
    ws.batch_update(
        [{"range": "D2", "values": [["Eligible"]]}, {"range": "D3", "values": [["Done"]]}]
    )
    got = ws.batch_get(["D2:D3", "A1:B1"])
    assert got[0] == [["Eligible"], ["Done"]]
    assert got[0].range == "Requests!D2:D3"
    assert got[1] == [["Request ID", "Timestamp"]]


def test_add_worksheet_freeze_and_protect(emu: Emulator, client: gspread.Client) -> None:
    """add_worksheet, freeze and a warning-only protected range show in the metadata."""
    sheet = client.open_by_key(_queue(emu))
    tab = sheet.add_worksheet("My Tab", rows=20, cols=5)
    tab.freeze(rows=1)
    tab.add_protected_range("A1:E1", warning_only=True, description="header")
    meta = sheet.fetch_sheet_metadata()
    entry = next(s for s in meta["sheets"] if s["properties"]["title"] == "My Tab")
    assert entry["properties"]["gridProperties"] == {
        "rowCount": 20,
        "columnCount": 5,
        "frozenRowCount": 1,
    }
    assert entry["protectedRanges"][0]["warningOnly"] is True
    assert entry["protectedRanges"][0]["range"]["endColumnIndex"] == 5
    tab.update([["x"]], "B3")
    assert tab.acell("B3").value == "x"


def test_insert_delete_and_sort_through_the_api(emu: Emulator, client: gspread.Client) -> None:
    """insert_row, delete_rows and sort move whole rows like Google does."""
    book = _queue(emu, ["b", "2"], ["a", "1"], ["c", "3"])
    ws = client.open_by_key(book).worksheet("Requests")
    ws.sort((1, "asc"), range="A2:D4")
    assert [r[0] for r in emu.values(book, "Requests")[1:]] == ["a", "b", "c"]
    ws.delete_rows(2)
    ws.insert_row(["z", "9"], index=2)
    assert [r[0] for r in emu.values(book, "Requests")[1:]] == ["z", "b", "c"]
    assert emu.grid_size(book, "Requests") == (1000, 26)


def test_unknown_tab_is_a_bad_range(emu: Emulator, client: gspread.Client) -> None:
    """A range on a missing tab is a 400 'Unable to parse range'."""
    sheet = client.open_by_key(_queue(emu))
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sheet.values_get("'Nope'!A1")
    assert caught.value.code == 400
    assert "Unable to parse range" in str(caught.value)


def _tag(sheet_id: int, column: int, value: str) -> dict[str, object]:
    location = {
        "dimensionRange": {
            "sheetId": sheet_id,
            "dimension": "COLUMNS",
            "startIndex": column,
            "endIndex": column + 1,
        }
    }
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": "col",
                "metadataValue": value,
                "location": location,
                "visibility": "DOCUMENT",
            }
        }
    }


def _search(book: gspread.Spreadsheet) -> dict[str, int]:
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{book.id}/developerMetadata:search"
    answer = book.client.request(
        "post", url, json={"dataFilters": [{"developerMetadataLookup": {"metadataKey": "col"}}]}
    ).json()
    return {
        m["developerMetadata"]["metadataValue"]: m["developerMetadata"]["location"][
            "dimensionRange"
        ]["startIndex"]
        for m in answer.get("matchedDeveloperMetadata", [])
    }


def test_column_metadata_moves_with_inserted_and_deleted_columns(
    emu: Emulator, client: gspread.Client
) -> None:
    """As in Google: a column's metadata follows it, and goes with it when it is deleted."""
    book = client.open_by_key(_queue(emu))
    sheet_id = book.sheet1.id
    book.batch_update({"requests": [_tag(sheet_id, 1, "timestamp"), _tag(sheet_id, 3, "status")]})
    assert _search(book) == {"timestamp": 1, "status": 3}
    book.sheet1.insert_cols([[]], col=2)  # a new column B
    assert _search(book) == {"timestamp": 2, "status": 4}
    book.sheet1.delete_columns(3)  # Timestamp's column, now C
    assert _search(book) == {"status": 3}
    got = book.fetch_sheet_metadata({"fields": "sheets(data(columnMetadata(developerMetadata)))"})
    columns = got["sheets"][0]["data"][0]["columnMetadata"]
    assert [
        c["developerMetadata"][0]["metadataValue"] for c in columns if "developerMetadata" in c
    ] == ["status"]


def test_merges_are_listed_and_keep_only_the_top_left_value(
    emu: Emulator, client: gspread.Client
) -> None:
    """mergeCells through gspread: the range shows in the metadata; hidden cells are cleared."""
    book = client.open_by_key(_queue(emu, ["REQ-1", "t", "refund", "Done"]))
    book.sheet1.merge_cells("C2:D2")
    merges = book.fetch_sheet_metadata({"fields": "sheets(merges)"})["sheets"][0]["merges"]
    assert merges == [
        {
            "sheetId": 0,
            "startRowIndex": 1,
            "endRowIndex": 2,
            "startColumnIndex": 2,
            "endColumnIndex": 4,
        }
    ]
    assert book.sheet1.row_values(2) == ["REQ-1", "t", "refund"]
