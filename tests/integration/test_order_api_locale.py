"""The order API's text dates read in the shop's locale (SHEETQUEUE_LOCALE), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.cli_runner import SheetqueueCli
from tests.integration.test_order_api import OrderApi

EMAIL = "ana@example.com"


def _answer(delivered: str) -> dict[str, object]:
    return {
        "order_id": "ORD-1001",
        "email": EMAIL,
        "status": "delivered",
        "order_date": "2026-03-28",
        "delivered_at": delivered,
        "items": [{"sku": "TEE-1", "name": "Classic Tee", "qty": 1, "price": 29.99}],
    }


@pytest.fixture
def api() -> Iterator[OrderApi]:
    """The order API, serving on 127.0.0.1."""
    with OrderApi() as server:
        yield server


def test_an_en_gb_shops_api_date_reads_day_first(api: OrderApi, tmp_path: Path) -> None:
    """With SHEETQUEUE_LOCALE=en_GB the API's 03/04/2026 is 3 April; en_US reads it 4 March."""
    api.script = [("json", (200, _answer("03/04/2026 09:30")))]
    store = SqliteStore(tmp_path / "q.db")
    british = open_order_source(load_settings(orders=api.url, locale="en_GB"), store)
    order = british.get("ORD-1001", EMAIL)
    assert order is not None and order.delivered_at == datetime(2026, 4, 3, 9, 30, tzinfo=UTC)
    assert order.order_date == datetime(2026, 3, 28, tzinfo=UTC)  # ISO in any locale
    american = open_order_source(load_settings(orders=api.url), store)
    other = american.get("ORD-1001", EMAIL)
    assert other is not None and other.delivered_at == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def test_an_api_date_the_locale_does_not_settle_leaves_the_request_for_review(
    api: OrderApi, cli: SheetqueueCli
) -> None:
    """A two-digit year from the API is not guessed: the pass sets review:unreadableOrderDate."""
    api.script = [("json", (200, _answer("03/04/26")))]
    cli.env.update({"SHEETQUEUE_ORDERS": api.url, "SHEETQUEUE_LOCALE": "en_GB"})
    recorded = cli("record", "--type", "refund", "--order", "ORD-1001", "--email", EMAIL, "--json")
    assert recorded.code == 0, recorded.stderr
    assert cli("tick").code == 0
    (row,) = cli("list", "--json").json()
    assert (row["status"], row["decision"]) == ("Needs Review", "review:unreadableOrderDate")
    assert (
        "delivered_at: '03/04/26' does not read as a date: the shop's locale (en_GB, day first) "
        "does not settle a two-digit year"
    ) in row["worker_note"]
