"""The composition root: build the real store, order source and clock from settings.

The CLI and the HTTP server call these; tests call them with their own
settings (a SQLite file in a temporary folder, the Sheets emulator's URL).
Nothing here runs at import time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from config.errors import InputError
from config.settings import Settings
from sheets.orders import FileOrderSource, Order, OrderSource, order_from_record
from sheets.store import Store
from worker.ledger import Ledger
from worker.metrics import Metrics
from worker.notify.factory import notifiers_from_settings
from worker.tick import Worker

__all__ = ["TabOrderSource", "build_worker", "open_order_source", "open_store", "utcnow"]

log = structlog.get_logger("sheetqueue.bootstrap")


def utcnow() -> datetime:
    """The one place the real clock is read."""
    return datetime.now(UTC)


def open_store(settings: Settings, metrics: Metrics | None = None) -> Store:
    """The queue the settings point at: the SQLite file or the Google Sheet."""
    if settings.backend == "gsheets":
        from sheets.gsheets_store import GsheetsStore  # gspread is imported only when used

        hook = metrics.sheets_hook() if metrics is not None else None
        return GsheetsStore.from_settings(settings, on_call=hook)
    from sheets.sqlite_store import SqliteStore

    return SqliteStore(settings.local_path)


class TabOrderSource:
    """``tab:Orders``: the store's Orders tab, read once on first use.

    A row that is not a valid order is skipped with a warning naming it, so one
    typo in the tab does not stop every other order from being checked.
    """

    def __init__(self, store: Store, zone: Any) -> None:
        self._store = store
        self._zone = zone
        self._by_id: dict[str, Order] | None = None

    def _load(self) -> dict[str, Order]:
        orders: dict[str, Order] = {}
        for record in self._store.read_orders():
            try:
                order = order_from_record(record, self._zone)
            except InputError as exc:
                log.warning("orders.invalid_row", problem=str(exc))
                continue
            orders[order.order_id.strip().lower()] = order
        return orders

    def get(self, order_id: str, email: str) -> Order | None:
        if self._by_id is None:
            self._by_id = self._load()
        return self._by_id.get(order_id.strip().lower())


def open_order_source(settings: Settings, store: Store) -> OrderSource:
    """The order data ``SHEETQUEUE_ORDERS`` names; a fresh one per pass."""
    where = settings.orders
    if where.startswith("file:"):
        return FileOrderSource(Path(where.removeprefix("file:")), settings.zone)
    if where.startswith(("http://", "https://")):
        from sheets.order_api import HttpOrderSource

        return HttpOrderSource(
            where,
            token=settings.orders_token.get_secret_value(),
            timeout=settings.orders_timeout_seconds,
            zone=settings.zone,
        )
    return TabOrderSource(store, settings.zone)


def build_worker(settings: Settings, store: Store, metrics: Metrics | None = None) -> Worker:
    """The worker with the real ledger, order source and notifiers."""
    return Worker(
        store=store,
        order_source=lambda: open_order_source(settings, store),
        notifiers=notifiers_from_settings(settings),
        ledger=Ledger(settings.state_path),
        settings=settings,
        metrics=metrics,
    )
