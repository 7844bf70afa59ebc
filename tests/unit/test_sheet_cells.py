"""Cells as the Google store reads them: numbers, booleans, serials and typed dates as text."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sheet_cells import SheetCells, UnreadTime, cell_value
from sheetqueue.sheets.store import RowRef, StoredRequest
from sheetqueue.sheets.times import parse_time

LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1001, "1001"),
        (1001.0, "1001"),
        (4000000000000001, "4000000000000001"),
        (2**70, "1180591620717411303424"),
        (-42, "-42"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (19.99, "19.99"),
        (True, "TRUE"),
        (False, "FALSE"),
        (None, ""),
        ("", ""),
        ("=1+1", "=1+1"),
        ("ORD-1001", "ORD-1001"),
    ],
)
def test_a_plain_cell_reads_as_its_exact_text(value: Any, text: str) -> None:
    """Numbers are their exact digits (never 1001.0), booleans TRUE/FALSE, text unchanged."""
    assert cell_value(value) == text
    assert type(cell_value(value)) is str


def test_the_locale_and_zone_come_from_the_spreadsheets_properties() -> None:
    """properties.locale/timeZone are kept; a missing or unknown zone falls back to UTC."""
    cells = SheetCells.from_properties(
        {"properties": {"locale": "de_DE", "timeZone": "Europe/Berlin"}}
    )
    assert (cells.locale, cells.time_zone, cells.zone) == (
        "de_DE",
        "Europe/Berlin",
        ZoneInfo("Europe/Berlin"),
    )
    assert SheetCells.from_properties({}) == SheetCells()
    assert SheetCells.from_properties({"properties": {"timeZone": "Mars/Olympus"}}).zone is UTC


@pytest.mark.parametrize(
    ("serial", "zone", "iso"),
    [
        (46115, UTC, "2026-04-03T00:00:00Z"),
        (46115, LONDON, "2026-04-02T23:00:00Z"),  # summer time: midnight is 23:00 UTC
        (46348.395833333336, LONDON, "2026-11-22T09:30:00Z"),  # winter: GMT
        (46115.5, TOKYO, "2026-04-03T03:00:00Z"),
        (46115.0, UTC, "2026-04-03T00:00:00Z"),
    ],
)
def test_a_serial_number_in_a_date_column_is_a_time_in_the_sheets_zone(
    serial: float, zone: ZoneInfo, iso: str
) -> None:
    """A date cell's serial (days since 1899-12-30) is read in the spreadsheet's time zone."""
    assert SheetCells(zone=zone).date_cell(serial) == iso


@pytest.mark.parametrize(
    ("locale", "typed", "iso"),
    [
        ("en_US", "04/03/2026", "2026-04-03T00:00:00Z"),
        ("en_US", "11/22/2026 9:30:00", "2026-11-22T09:30:00Z"),
        ("en_GB", "03/04/2026", "2026-04-03T00:00:00Z"),
        ("en_GB", "22/11/2026 09:30:00", "2026-11-22T09:30:00Z"),
        ("de_DE", "03.04.2026", "2026-04-03T00:00:00Z"),
        ("de_DE", "22.11.2026 09:30", "2026-11-22T09:30:00Z"),
        ("ja_JP", "2026/04/03", "2026-04-03T00:00:00Z"),
        ("ja_JP", "2026/11/22 09:30:00", "2026-11-22T09:30:00Z"),
        ("ja_JP", "04/04/2026", "2026-04-04T00:00:00Z"),  # day and month the same
    ],
)
def test_a_typed_text_date_is_read_by_the_sheets_locale(locale: str, typed: str, iso: str) -> None:
    """Text dates read the locale's way: month first in en_US, day first in en_GB/de_DE."""
    read = SheetCells(locale=locale).date_cell(typed)
    assert read == iso
    assert not isinstance(read, UnreadTime)


def test_a_typed_text_date_is_read_in_the_sheets_zone() -> None:
    """22/11/2026 09:30:00 on a Tokyo en_GB sheet is 09:30 in Tokyo."""
    cells = SheetCells(locale="en_GB", zone=TOKYO)
    assert cells.date_cell("22/11/2026 09:30:00") == "2026-11-22T00:30:00Z"


@pytest.mark.parametrize(
    ("locale", "typed", "problem"),
    [
        ("ja_JP", "05/04/2026", "is ambiguous"),  # a year-first sheet: day or month first?
        ("", "05/04/2026", "is ambiguous"),  # no locale known
        ("en_GB", "03/04/26", "does not read as a date"),  # a two-digit year
        ("en_GB", "31/02/2026", "does not read as a date"),
        ("en_US", "22/11/2026", "in the sheet's locale (en_US, month first)"),  # day first
        ("ja_JP", "13/04/2026", "in the sheet's locale (ja_JP, year first)"),  # one reading
        ("en_GB", "03/04/26", "two-digit year; expected DD/MM/YYYY or YYYY-MM-DD"),
    ],
)
def test_text_the_locale_does_not_settle_stays_as_typed_and_marked(
    locale: str, typed: str, problem: str
) -> None:
    """Unsettled text is kept as typed, marked with the problem and the cell: never guessed."""
    read = SheetCells(locale=locale).date_cell(typed, "Requests!B2")
    assert isinstance(read, UnreadTime)
    assert read == typed
    assert problem in read.problem and repr(typed) in read.problem
    assert read.cell == "Requests!B2"
    assert read.describe("timestamp").startswith(f"the cell Requests!B2 (timestamp): {typed!r}")


@pytest.mark.parametrize("text", ["2026-04-03T10:00:00Z", "2026-04-03 10:00", "soon", ""])
def test_iso_and_other_text_in_a_date_column_is_left_for_the_usual_reading(text: str) -> None:
    """ISO (naive or not) and words are not the locale's business: they are left unchanged."""
    read = SheetCells(locale="en_GB").date_cell(text)
    assert read == text and not isinstance(read, UnreadTime)


def test_rows_convert_only_the_date_columns_below_the_header() -> None:
    """The header stays; date columns read as dates, others as digits; the cell is named."""
    values: list[list[Any]] = [
        ["order_id", "delivered_at", "paid"],
        [1001, 46115, True],
        [1002, "03/04/26"],
        [],
    ]
    rows = SheetCells(locale="en_GB").rows(values, [1], "Orders")
    assert rows == [
        ["order_id", "delivered_at", "paid"],
        ["1001", "2026-04-03T00:00:00Z", "TRUE"],
        ["1002", "03/04/26"],
        [],
    ]
    marked = rows[2][1]
    assert isinstance(marked, UnreadTime) and marked.cell == "Orders!B3"


def test_a_marked_timestamp_reaches_the_request_and_is_never_parsed() -> None:
    """The mark survives the row -> Request step and copies; parse_time refuses it."""
    marked = SheetCells(locale="ja_JP").date_cell("05/04/2026", "Requests!B2")
    stored = StoredRequest(
        None, RowRef(2), cells=["R-1", marked], columns={"request_id": 0, "timestamp": 1}
    )
    request = stored.request
    assert isinstance(request.timestamp, UnreadTime)
    assert isinstance(request.model_copy(update={"status": "Pending"}).timestamp, UnreadTime)
    assert parse_time(request.timestamp) is None
    assert parse_time(Request(timestamp="05/04/2026").timestamp) is not None  # unmarked text


@pytest.mark.parametrize(("locale", "typed"), [("ja_JP", "13/04/2026"), ("en_US", "22/11/2026")])
def test_a_date_with_one_valid_reading_is_not_called_either_way_round(
    locale: str, typed: str
) -> None:
    """Only one reading is a date, not the locale's: the note says so, not 'either way'."""
    read = SheetCells(locale=locale).date_cell(typed, "Requests!B2")
    assert isinstance(read, UnreadTime)
    assert "either way" not in read.problem and "ambiguous" not in read.problem
    assert f"does not read as a date in the sheet's locale ({locale}" in read.problem
