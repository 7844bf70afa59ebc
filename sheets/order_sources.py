"""Where orders come from: the ``SHEETQUEUE_ORDERS`` setting turned into an order source.

- ``file:PATH``: a .json or .csv file, read once (:class:`FileOrderSource`);
- ``tab:Orders`` (the default): the store's Orders tab, read on first use
  (:class:`TabOrderSource`);
- ``http(s)://...``: the shop's order API, one call per order
  (:class:`~sheetqueue.sheets.order_api.HttpOrderSource`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import structlog

from sheetqueue.config.errors import InputError, OrderSourceError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_mapping import OrderMapping, mapping_of
from sheetqueue.sheets.orders import Order, OrderSource, load_order_file, order_from_record
from sheetqueue.sheets.store import Store

__all__ = ["FileOrderSource", "RecordsOrderSource", "TabOrderSource", "open_order_source"]

log = structlog.get_logger("sheetqueue.orders")


class RecordsOrderSource:
    """Orders held in memory, indexed by number (from a file or the Orders tab)."""

    def __init__(self, orders: Sequence[Order]) -> None:
        self._by_id = {_key(order.order_id): order for order in orders}

    def get(self, order_id: str, email: str) -> Order | None:
        return self._by_id.get(_key(order_id))

    def __len__(self) -> int:
        return len(self._by_id)


class FileOrderSource(RecordsOrderSource):
    """``file:PATH``: a .json or .csv file, read once."""

    def __init__(self, path: Path, zone: Any = UTC, mapping: OrderMapping | None = None) -> None:
        try:
            orders = load_order_file(path, zone, mapping)
        except InputError as exc:
            raise OrderSourceError(f"SHEETQUEUE_ORDERS: {exc}") from None
        super().__init__(orders)


class TabOrderSource:
    """``tab:Orders``: the store's Orders tab, read once on first use.

    A row that is not a valid order is skipped with a warning naming it, so one
    typo in the tab does not stop every other order from being checked.
    """

    def __init__(self, store: Store, zone: Any, mapping: OrderMapping | None = None) -> None:
        self._store = store
        self._zone = zone
        self._mapping = mapping
        self._by_id: dict[str, Order] | None = None

    def _load(self) -> dict[str, Order]:
        orders: dict[str, Order] = {}
        for record in self._store.read_orders():
            try:
                order = order_from_record(record, self._zone, self._mapping)
            except InputError as exc:
                log.warning("orders.invalid_row", problem=str(exc))
                continue
            orders[_key(order.order_id)] = order
        return orders

    def get(self, order_id: str, email: str) -> Order | None:
        if self._by_id is None:
            self._by_id = self._load()
        return self._by_id.get(_key(order_id))


def open_order_source(settings: Settings, store: Store) -> OrderSource:
    """The order data ``SHEETQUEUE_ORDERS`` names; open a fresh one per pass."""
    where = settings.orders
    mapping = mapping_of(settings)
    if where.startswith("file:"):
        return FileOrderSource(Path(where.removeprefix("file:")), settings.zone, mapping)
    if where.startswith(("http://", "https://")):
        from sheetqueue.sheets.order_api import HttpOrderSource

        return HttpOrderSource(
            where,
            token=settings.orders_token.get_secret_value(),
            timeout=settings.orders_timeout_seconds,
            zone=settings.zone,
            mapping=mapping,
        )
    return TabOrderSource(store, settings.zone, mapping)


def _key(order_id: str) -> str:
    return order_id.strip().lower()
