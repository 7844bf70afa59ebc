"""Where orders come from: the ``SHEETQUEUE_ORDERS`` setting turned into an order source.

- ``file:PATH``: a .json or .csv file, read once (:class:`FileOrderSource`);
- ``tab:Orders`` (the default): the store's Orders tab, read on first use
  (:class:`TabOrderSource`);
- ``http(s)://...``: the shop's order API, one call per order
  (:class:`~sheetqueue.sheets.order_api.HttpOrderSource`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog

from sheetqueue.config.errors import InputError, OrderSourceError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_fields import key_of
from sheetqueue.sheets.order_mapping import OrderMapping, mapping_of
from sheetqueue.sheets.order_table import OrderTable
from sheetqueue.sheets.orders import Order, OrderSource, load_order_file, order_from_record
from sheetqueue.sheets.sheet_cells import cell_value
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

    def __init__(
        self,
        path: Path,
        zone: Any = UTC,
        mapping: OrderMapping | None = None,
        locale: str = "",
    ) -> None:
        try:
            orders = load_order_file(path, zone, mapping, locale)
        except InputError as exc:
            raise OrderSourceError(f"SHEETQUEUE_ORDERS: {exc}") from None
        super().__init__(orders)


class TabOrderSource:
    """``tab:Orders``: the store's Orders tab, read once on first use.

    The rows are indexed by order number once (on the Google Sheet from the
    number's column alone); an order is made a record and parsed (validated)
    only when asked for, so a pass over a sheet of history pays for the few
    orders its open rows name, not for every order. A row that is not a valid
    order is skipped with a warning naming it, so one typo in the tab does not
    stop every other order from being checked.
    """

    def __init__(
        self, store: Store, zone: Any, mapping: OrderMapping | None = None, locale: str = ""
    ) -> None:
        self._store = store
        self._zone = zone
        self._mapping = mapping
        # The shop's locale reads the local store's text dates; a Google Sheet's own
        # cells are read by the spreadsheet's locale as the store reads them.
        self._locale = "" if isinstance(store, _Tabular) else locale
        self._rows: Callable[[str], list[Mapping[str, Any]]] | None = None
        self._parsed: dict[str, Order | None] = {}

    def get(self, order_id: str, email: str) -> Order | None:
        if self._rows is None:
            self._rows = self._index()
        key = _key(order_id)
        if key in self._parsed:
            return self._parsed[key]
        order = None
        for record in reversed(self._rows(key)):  # the last valid row wins
            try:
                order = order_from_record(
                    record,
                    self._zone,
                    self._mapping,
                    locale=self._locale,
                    review_dates=bool(self._locale),
                )
            except InputError as exc:
                log.warning("orders.invalid_row", problem=str(exc))
                continue
            break
        self._parsed[key] = order
        return order

    def _number_keys(self) -> tuple[str, ...]:
        """The names the order number may stand under, as matched (the mapping's first)."""
        mapping = self._mapping or OrderMapping()
        return tuple(dict.fromkeys(key_of(name) for name in mapping.number_names()))

    def _index(self) -> Callable[[str], list[Mapping[str, Any]]]:
        """Order number -> the records that carry it, in tab order."""
        if isinstance(self._store, _Tabular):
            return _table_index(self._store.order_table(), self._number_keys())
        records: dict[str, list[Mapping[str, Any]]] = {}
        for record in self._store.read_orders():
            number = _record_number(record, self._number_keys())
            if number:
                records.setdefault(_key(number), []).append(record)
        return lambda key: records.get(key, [])


@runtime_checkable
class _Tabular(Protocol):
    """A store that hands the Orders tab over as a table (the Google Sheet)."""

    def order_table(self) -> OrderTable: ...


def _table_index(
    table: OrderTable, keys: tuple[str, ...]
) -> Callable[[str], list[Mapping[str, Any]]]:
    """Rows by the number's column alone; a row becomes a record when its number is asked."""
    column = _first_column([key_of(name) for name in table.header], keys)
    rows: dict[str, int] = {}  # number -> its one row (most numbers)
    more: dict[str, list[int]] = {}  # number -> every row, for a number on several rows
    if column is not None:
        for index, row in enumerate(table.rows):
            if column >= len(row):
                continue
            value = row[column]
            number = (value if type(value) is str else cell_value(value)).strip()
            if number:
                key = number.lower()
                if key == number:
                    key = number  # the cell's own text: no second copy
                first = rows.setdefault(key, index)
                if first != index:
                    more.setdefault(key, [first]).append(index)

    def records(key: str) -> list[Mapping[str, Any]]:
        found = more.get(key)
        if found is None:
            found = [rows[key]] if key in rows else []
        built = (table.record(index) for index in found)
        return [record for record in built if record is not None]

    return records


def _first_column(header_keys: list[str], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        if key in header_keys:
            return header_keys.index(key)
    return None


def _record_number(record: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """The order number a record gives, under the first of its names present (as Order reads it)."""
    by_key = {key_of(name): value for name, value in record.items()}
    for key in keys:
        if key in by_key:
            value = by_key[key]
            return "" if value is None else str(value).strip()
    return ""


def open_order_source(settings: Settings, store: Store) -> OrderSource:
    """The order data ``SHEETQUEUE_ORDERS`` names; open a fresh one per pass."""
    where = settings.orders
    mapping = mapping_of(settings)
    if where.startswith("file:"):
        return FileOrderSource(
            Path(where.removeprefix("file:")), settings.zone, mapping, settings.locale
        )
    if where.startswith(("http://", "https://")):
        from sheetqueue.sheets.order_api import HttpOrderSource

        return HttpOrderSource(
            where,
            token=settings.orders_token.get_secret_value(),
            timeout=settings.orders_timeout_seconds,
            zone=settings.zone,
            mapping=mapping,
            locale=settings.locale,
        )
    return TabOrderSource(store, settings.zone, mapping, settings.locale)


def _key(order_id: str) -> str:
    return order_id.strip().lower()
