"""The local (SQLite) store's Orders tab: text dates read in the shop's locale, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sheetqueue.config.loading import load_settings
from sheetqueue.sheets.order_sources import open_order_source
from sheetqueue.sheets.sqlite_store import SqliteStore

EMAIL = "ana@example.com"


def _store(tmp_path: Path, delivered: str) -> SqliteStore:
    store = SqliteStore(tmp_path / "queue.db")
    store.replace_orders(
        [{"order_id": "ORD-1", "email": EMAIL, "status": "delivered", "delivered_at": delivered}]
    )
    return store


def test_a_day_first_order_date_in_the_local_store_reads_by_the_shops_locale(
    tmp_path: Path,
) -> None:
    """22/11/2026 and 03/04/2026 in the local store read day first with SHEETQUEUE_LOCALE=en_GB."""
    store = _store(tmp_path, "03/04/2026")
    order = open_order_source(load_settings(locale="en_GB"), store).get("ORD-1", EMAIL)
    assert order is not None and order.delivered_at == datetime(2026, 4, 3, tzinfo=UTC)
    assert not order.unread_dates
    default = open_order_source(load_settings(), store).get("ORD-1", EMAIL)
    assert default is not None and default.delivered_at == datetime(2026, 3, 4, tzinfo=UTC)


def test_a_local_store_date_the_locale_does_not_settle_is_set_aside_for_review(
    tmp_path: Path,
) -> None:
    """22/11/2026 under en_US is not read at all: the order names the field for review."""
    store = _store(tmp_path, "22/11/2026")
    order = open_order_source(load_settings(locale="en_US"), store).get("ORD-1", EMAIL)
    assert order is not None and order.delivered_at is None
    assert order.unread_dates == (
        "delivered_at: '22/11/2026' does not read as a date in the shop's locale "
        "(en_US, month first); expected MM/DD/YYYY or YYYY-MM-DD",
    )
