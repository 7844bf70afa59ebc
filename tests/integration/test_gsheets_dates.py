"""Dates the sheet's way: serial numbers, the spreadsheet's locale and zone, no guessing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sheetqueue.bootstrap import build_worker
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_layout import Layout, column_letters
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER
from sheetqueue.sheets.orders import order_from_record
from sheetqueue.sheets.testing.emulator import Emulator, emulator_client
from tests.factories import make_request
from tests.store_backends import gsheets_settings, no_sleep_backoff, shared_emulator

LONDON = ZoneInfo("Europe/London")
ORDER_HEADER = ["order_id", "email", "status", "delivered_at", "items"]
ITEMS = json.dumps([{"sku": "TEE-1", "name": "Tee", "category": "apparel", "price": 20}])
ASKED = "2026-04-20T10:00:00Z"  # 17 days after 3 April, 47 after 4 March


def _uk_book(
    emulator: Emulator,
    orders: list[list[Any]],
    *,
    header: list[str] = ORDER_HEADER,
    asked: str = ASKED,
    locale: str = "en_GB",
) -> str:
    """A spreadsheet in London time (en_GB unless told): one return asked at ``asked``."""
    layout = Layout.from_header(list(CANONICAL_HEADER))
    row = layout.row_of(make_request(order_id="1001", timestamp=asked, type="return"))
    return emulator.create_spreadsheet(
        "UK shop",
        {
            "Requests": [list(CANONICAL_HEADER), row],
            "Log": [list(LOG_HEADER)],
            "Orders": [header, *orders],
        },
        locale=locale,
        time_zone="Europe/London",
    )


def _store(emulator: Emulator, book: str) -> GsheetsStore:
    assert emulator.url is not None
    api = SheetsApi(emulator_client(emulator.url, 5.0), book, backoff=no_sleep_backoff())
    return GsheetsStore(api, orders_with_queue=True)


def _run_pass(emulator: Emulator, book: str, tmp_path: Path, **overrides: Any) -> dict[str, str]:
    """One worker pass at a fixed time; the queue row's cells after it, by header."""
    settings = gsheets_settings(
        emulator, book, state_path=tmp_path / "s.db", timezone="Europe/London", **overrides
    )
    store = GsheetsStore.from_settings(settings, backoff=no_sleep_backoff())
    worker = build_worker(settings, store)
    worker.run_pass(datetime(2026, 4, 21, 12, 0, tzinfo=UTC))
    worker.ledger.close()
    values = emulator.values(book, "Requests")
    return dict(zip(values[0], values[1], strict=False))


def test_en_gb_typed_delivery_date_is_3_april_and_the_return_window_counts_from_it(
    tmp_path: Path,
) -> None:
    """03/04/2026 typed on an en_GB sheet is 3 April: a return asked 20 April is in the window."""
    emulator = shared_emulator()
    book = _uk_book(emulator, [["", "ana@example.com", "delivered", "", ITEMS]])
    emulator.edit_cell(book, "Orders", 2, "A", "1001")  # typed: a number
    emulator.edit_cell(book, "Orders", 2, "D", "03/04/2026")  # typed: a date, day first
    emulator.edit_cell(book, "Requests", 2, CANONICAL_HEADER.index("Order ID"), "1001")
    assert emulator.values(book, "Orders")[1][3] == "03/04/2026"
    assert emulator.values(book, "Orders", "UNFORMATTED_VALUE")[1][:4:3] == [1001, 46115]
    cells = _run_pass(emulator, book, tmp_path)
    assert cells["Decision"].startswith("eligible:"), cells["Worker Note"]
    assert "17 days after delivery on 2026-04-03" in cells["Worker Note"]
    assert cells["Status"] == "Eligible"


def test_order_id_typed_as_a_number_reads_as_its_digits() -> None:
    """1001 and a 16-digit number typed into ID cells read back as exactly those digits."""
    emulator = shared_emulator()
    book = _uk_book(emulator, [["", "ana@example.com", "delivered", "", ITEMS]])
    emulator.edit_cell(book, "Orders", 2, "A", "4000000000000001")
    emulator.edit_cell(book, "Requests", 2, CANONICAL_HEADER.index("Order ID"), "1001")
    store = _store(emulator, book)
    [row] = store.read_requests()
    assert row.request.order_id == "1001"
    table = store.order_table()
    record = table.record(0)
    assert record is not None and record["order_id"] == "4000000000000001"
    assert store.cells is not None and store.cells.locale == "en_GB"


def test_shopper_text_past_latin_1_is_read_exactly_as_typed() -> None:
    """A curly apostrophe and an emoji (the answer's bytes parsed as UTF-8) read back exact."""
    emulator = shared_emulator()
    book = _uk_book(emulator, [["4000000000000001", "ana@example.com", "delivered", "", ITEMS]])
    typed = "it\u2019s torn \U0001f641, caf\u00e9 order"
    emulator.edit_cell(book, "Requests", 2, CANONICAL_HEADER.index("Details"), typed)
    store = _store(emulator, book)
    [row] = store.read_requests()
    assert row.request.details == typed


def test_text_dates_read_by_the_sheets_locale_and_serials_in_its_zone() -> None:
    """Text 03/04/2026 and 22/11/2026 09:30:00 read day first; a serial reads in London time."""
    emulator = shared_emulator()
    book = _uk_book(
        emulator,
        [
            ["A-1", "a@example.com", "delivered", "03/04/2026", ""],
            ["A-2", "b@example.com", "delivered", "22/11/2026 09:30:00", ""],
            ["A-3", "c@example.com", "delivered", "", ""],
        ],
    )
    emulator.edit_cell(book, "Orders", 4, "D", "2026-07-01 12:00")  # typed: a serial number
    store = _store(emulator, book)
    store.read_requests()
    table = store.order_table()
    delivered = []
    for index in range(3):
        record = table.record(index)
        assert record is not None
        delivered.append(order_from_record(record).delivered_at)
    assert delivered == [
        datetime(2026, 4, 3, tzinfo=LONDON),
        datetime(2026, 11, 22, 9, 30, tzinfo=LONDON),
        datetime(2026, 7, 1, 12, 0, tzinfo=LONDON),
    ]


def test_an_ambiguous_text_date_leaves_the_row_for_review_naming_the_cell(tmp_path: Path) -> None:
    """A two-digit year is not guessed: Needs Review, and the note names the cell and its text."""
    emulator = shared_emulator()
    book = _uk_book(emulator, [["1001", "ana@example.com", "delivered", "03/04/26", ITEMS]])
    cells = _run_pass(emulator, book, tmp_path)
    assert cells["Status"] == "Needs Review"
    assert cells["Decision"] == "review:unreadableOrderDate"
    assert "Orders!D2" in cells["Worker Note"] and "'03/04/26'" in cells["Worker Note"]


def test_emulator_renders_dates_by_option_and_reports_the_locale() -> None:
    """Serial by default unformatted, the locale's text with FORMATTED_STRING; locale in get."""
    emulator = shared_emulator()
    book = _uk_book(emulator, [])
    emulator.edit_cell(book, "Orders", 2, "D", "22/11/2026 09:30:00")
    assert emulator.url is not None
    http = emulator_client(emulator.url, 5.0).http_client
    params: dict[str, Any] = {"valueRenderOption": "UNFORMATTED_VALUE"}
    serial = http.values_get(book, "Orders!D2", params=params)["values"]
    shown = http.values_get(
        book, "Orders!D2", params={**params, "dateTimeRenderOption": "FORMATTED_STRING"}
    )["values"]
    assert serial == [[46348.395833333336]] and shown == [["22/11/2026 09:30:00"]]
    props = http.spreadsheets_get(book, params={"fields": "properties(locale,timeZone)"})
    assert props["properties"]["locale"] == "en_GB"
    assert props["properties"]["timeZone"] == "Europe/London"


SHOP_HEADER = ["Bestellnummer", "email", "status", "Zugestellt am", "items"]
SHOP_FIELDS = {"order_id": "Bestellnummer", "delivered_at": "Zugestellt am"}


def test_a_date_column_named_only_in_the_order_mapping_is_read_as_a_date(
    tmp_path: Path,
) -> None:
    """[orders.fields] delivered_at = "Zugestellt am": its serial cell is 3 April, not a number."""
    emulator = shared_emulator()
    book = _uk_book(
        emulator, [["1001", "ana@example.com", "delivered", "", ITEMS]], header=SHOP_HEADER
    )
    emulator.edit_cell(book, "Orders", 2, "D", "03/04/2026")  # typed: a serial number
    assert emulator.values(book, "Orders", "UNFORMATTED_VALUE")[1][3] == 46115
    cells = _run_pass(emulator, book, tmp_path, order_fields=SHOP_FIELDS)
    assert cells["Decision"].startswith("eligible:"), cells["Worker Note"]
    assert "17 days after delivery on 2026-04-03" in cells["Worker Note"]


def test_an_ambiguous_date_in_a_mapped_column_goes_to_review_naming_the_cell(
    tmp_path: Path,
) -> None:
    """A mapped date column's '03/04/26' is not guessed: unreadableOrderDate, the cell named."""
    emulator = shared_emulator()
    book = _uk_book(
        emulator, [["1001", "ana@example.com", "delivered", "03/04/26", ITEMS]], header=SHOP_HEADER
    )
    cells = _run_pass(emulator, book, tmp_path, order_fields=SHOP_FIELDS)
    assert cells["Status"] == "Needs Review"
    assert cells["Decision"] == "review:unreadableOrderDate"
    assert "the cell Orders!D2 (delivered at): '03/04/26'" in cells["Worker Note"]


def test_an_ambiguous_typed_timestamp_goes_to_review_naming_the_cell_and_its_text(
    tmp_path: Path,
) -> None:
    """A ja_JP sheet's Timestamp '05/04/2026' is not read month first: Needs Review, cell named."""
    emulator = shared_emulator()
    orders = [["1001", "ana@example.com", "delivered", "2026-04-03", ITEMS]]
    book = _uk_book(emulator, orders, asked="05/04/2026", locale="ja_JP")
    cells = _run_pass(emulator, book, tmp_path)
    where = f"Requests!{column_letters(CANONICAL_HEADER.index('Timestamp'))}2"
    assert cells["Status"] == "Needs Review", cells["Worker Note"]
    assert cells["Decision"] == "review:unreadableTimestamp"
    assert f"the cell {where} (timestamp): '05/04/2026' is ambiguous" in cells["Worker Note"]
    assert cells["Timestamp"] == "05/04/2026"


def test_a_typed_timestamp_the_locale_settles_is_read_day_first(tmp_path: Path) -> None:
    """On an en_GB sheet a Timestamp typed '05/04/2026' is 5 April: 2 days after delivery."""
    emulator = shared_emulator()
    orders = [["1001", "ana@example.com", "delivered", "2026-04-03", ITEMS]]
    book = _uk_book(emulator, orders, asked="05/04/2026")
    cells = _run_pass(emulator, book, tmp_path)
    assert cells["Decision"].startswith("eligible:"), cells["Worker Note"]
    assert "2 days after delivery on 2026-04-03" in cells["Worker Note"]
