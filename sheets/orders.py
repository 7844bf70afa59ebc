"""Orders: the one order model, and reading order files.

An order is read leniently (a shop's export names things its own way: see
:mod:`sheetqueue.sheets.order_mapping`) but checked: ``order_id``, ``email``
and ``status`` must be there, times must be readable. Naive times are taken in
the store's time zone, passed as the validation context
``{"zone": ZoneInfo(...)}``; text dates are read in the shop's locale
(``SHEETQUEUE_LOCALE``, ``"locale"`` in the context) by the same rules as a
Google Sheet's (``03/04/2026`` is 3 April in ``en_GB``; ISO 8601 in any locale).
A date the locale does not settle refuses the order, or, with ``"review": True``
(an order API, the local store's Orders tab), is set aside like a sheet's
unsettled cell, so the request goes to review. A file is read whole or not at all:
:func:`read_order_file` reports every line it cannot read, by line number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sheetqueue.config.errors import InputError
from sheetqueue.sheets.order_exports import Row, csv_orders
from sheetqueue.sheets.order_fields import DATE_FIELDS
from sheetqueue.sheets.order_mapping import OrderMapping
from sheetqueue.sheets.times import SheetTime, UnreadTime, parse_time, read_sheet_time

__all__ = [
    "Customer",
    "Item",
    "Order",
    "OrderFile",
    "OrderSource",
    "OrderStatus",
    "load_order_file",
    "order_from_record",
    "orders_from_records",
    "read_order_file",
]


class OrderStatus(StrEnum):
    """Where the order data says an order stands (lower case, as the contract spells it)."""

    PROCESSING = "processing"  # paid, not shipped: it can still be cancelled or readdressed
    SHIPPED = "shipped"  # on its way
    DELIVERED = "delivered"  # arrived: the return and refund windows count from here
    CANCELLED = "cancelled"  # cancelled before it shipped
    REFUNDED = "refunded"  # the money went back


_TIME_FIELDS = DATE_FIELDS


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: str = ""
    name: str = ""
    qty: int = 1
    price: float | None = None
    category: str = ""
    final_sale: bool = False

    @field_validator("sku", "name", "category", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return "" if value is None else str(value)


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    total_spent: float = 0.0
    order_count: int = 0


class Order(BaseModel):
    """One order as the order data describes it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    order_id: str = Field(validation_alias=AliasChoices("order_id", "order_number", "id"))
    email: str
    phone: str = ""
    status: OrderStatus
    order_date: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    refunded_at: datetime | None = None
    cancelled_at: datetime | None = None
    items: tuple[Item, ...] = ()
    total: float | None = None
    currency: str = "USD"
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    estimated_delivery: str = ""
    shipping_address: str = ""
    city: str = ""
    postal_code: str = ""
    payment_method: str = ""
    customer: Customer = Field(default_factory=Customer)
    unread_dates: tuple[str, ...] = ()  # date cells the sheet's locale does not settle

    @model_validator(mode="before")
    @classmethod
    def _unread(cls, data: Any, info: ValidationInfo) -> Any:
        """A date cell the sheet could not read unambiguously is set aside, in plain words."""
        if not isinstance(data, dict):
            return data
        context = info.context or {}
        if context.get("review") and context.get("locale"):
            data = {**data}
            for name in _TIME_FIELDS:
                value = data.get(name)
                if type(value) is str and value.strip():
                    read = _shop_time(value, context)
                    if read.moment is None:
                        data[name] = UnreadTime(value, read.problem)
        found = []
        for name in _TIME_FIELDS:
            value = data.get(name)
            if isinstance(value, UnreadTime):
                found.append(value.describe(name))
        if not found:
            return data
        kept = {key: value for key, value in data.items() if key not in _TIME_FIELDS}
        for name in _TIME_FIELDS:
            if name in data and not isinstance(data[name], UnreadTime):
                kept[name] = data[name]
        kept["unread_dates"] = tuple(found)
        return kept

    @field_validator("order_id", "email", mode="before")
    @classmethod
    def _required_text(cls, value: object) -> object:
        if value is None or not str(value).strip():
            raise ValueError("must not be empty")
        return str(value).strip()

    @field_validator(
        "phone",
        "carrier",
        "tracking_number",
        "tracking_url",
        "estimated_delivery",
        "shipping_address",
        "city",
        "postal_code",
        "payment_method",
        "currency",
        mode="before",
    )
    @classmethod
    def _optional_text(cls, value: object) -> object:
        return "" if value is None else str(value)

    @field_validator("status", mode="before")
    @classmethod
    def _status_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(*_TIME_FIELDS, mode="before")
    @classmethod
    def _time(cls, value: object, info: ValidationInfo) -> object:
        if value is None or value == "":
            return None
        context = info.context or {}
        if type(value) is str and context.get("locale"):
            read = _shop_time(value, context)
            if read.moment is None:
                raise ValueError(read.problem)
            return read.moment
        moment = parse_time(value, context.get("zone", UTC))
        if moment is None:
            raise ValueError(f"cannot read {value!r} as a date or time")
        return moment

    @field_validator("items", mode="before")
    @classmethod
    def _items_json(cls, value: object) -> object:
        return _json_text(value, default=())

    @field_validator("customer", mode="before")
    @classmethod
    def _customer_json(cls, value: object) -> object:
        return _json_text(value, default={})

    def matches_email(self, email: str) -> bool:
        """Trimmed, case-insensitive comparison with the order's email."""
        return self.email.strip().lower() == email.strip().lower()


def _shop_time(text: str, context: Mapping[str, Any]) -> SheetTime:
    """A text date read in the shop's locale by the sheet's rules (one rule set)."""
    return read_sheet_time(
        text, context.get("zone", UTC), str(context["locale"]), whose="the shop's locale"
    )


def _json_text(value: object, default: object) -> object:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON text ({exc.msg})") from None
    return value


def order_from_record(
    record: Mapping[str, Any],
    zone: Any = UTC,
    mapping: OrderMapping | None = None,
    *,
    email: str = "",
    locale: str = "",
    review_dates: bool = False,
) -> Order:
    """One order from a record in any known shape, or InputError naming the order and field.

    ``email`` fills a missing email (an order API that answers without one was
    asked with it and matched it). ``locale`` (the shop's) reads text dates;
    with ``review_dates`` one it does not settle is set aside for review, not refused.
    """
    ident = _ident(record)
    try:
        canonical = (mapping or OrderMapping()).canonical(record, email=email)
    except ValueError as exc:
        raise InputError(f"order {ident}: status: {exc}") from None
    try:
        context = {"zone": zone, "locale": locale, "review": review_dates}
        return Order.model_validate(canonical, context=context)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "order"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            message = f"missing; expected {_EXPECTED.get(name, 'a value')}"
        raise InputError(f"order {ident}: {name}: {message}") from None


_EXPECTED = {
    "order_id": "the order number (order_id, order_number, id, or a column named in "
    "[orders.fields])",
    "email": "the shopper's email (email, customer_email, billing_email, or a column named "
    "in [orders.fields])",
}


def _ident(record: Mapping[str, Any]) -> str:
    for key in ("order_id", "order_number", "id", "Name", "order"):
        value = record.get(key)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return "?"


def orders_from_records(
    records: Iterable[Mapping[str, Any]],
    zone: Any = UTC,
    mapping: OrderMapping | None = None,
    locale: str = "",
) -> list[Order]:
    return [order_from_record(record, zone, mapping, locale=locale) for record in records]


class OrderFile(BaseModel):
    """What a file holds: the orders it can load, and every line it cannot (with why)."""

    model_config = ConfigDict(frozen=True)

    orders: tuple[Order, ...] = ()
    problems: tuple[str, ...] = ()  # "line 4: order #1002: email: missing; expected ..."


def read_order_file(
    path: Path, zone: Any = UTC, mapping: OrderMapping | None = None, locale: str = ""
) -> OrderFile:
    """Every order of a .json (array) or .csv file, and every entry it cannot read.

    A CSV's lines are counted as in the file (the header is line 1); a JSON
    array's entries from 1. InputError when the file itself is unreadable.
    """
    rows = _file_rows(path)
    unit = "entry" if path.suffix.lower() == ".json" else "line"
    orders: list[Order] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            order = order_from_record(row.record, zone, mapping, locale=locale)
        except InputError as exc:
            problems.append(f"{unit} {row.line}: {exc}")
            continue
        key = order.order_id.strip().lower()
        if key in seen:
            problems.append(
                f"{unit} {row.line}: order {order.order_id}: order_id: "
                f"the same order as {unit} {seen[key]}"
            )
            continue
        seen[key] = row.line
        orders.append(order)
    return OrderFile(orders=tuple(orders), problems=tuple(problems))


def load_order_file(
    path: Path, zone: Any = UTC, mapping: OrderMapping | None = None, locale: str = ""
) -> list[Order]:
    """All the orders of a file, or InputError listing every line it cannot read."""
    found = read_order_file(path, zone, mapping, locale)
    if found.problems:
        lines = list(found.problems)
        shown = "; ".join(lines[:5]) + (f"; and {len(lines) - 5} more" if len(lines) > 5 else "")
        raise InputError(f"{path}: {len(lines)} order(s) cannot be read, nothing loaded: {shown}")
    return list(found.orders)


def _file_rows(path: Path) -> list[Row]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise InputError(f"{path}: expected a JSON array of order objects")
        return [Row(index, row) for index, row in enumerate(data, start=1)]
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        lines: list[tuple[int, dict[str, str]]] = []
        start = 2
        for raw in reader:
            lines.append((start, {k: v for k, v in raw.items() if k}))
            start = reader.line_num + 1
        return csv_orders(list(reader.fieldnames or []), lines)
    raise InputError(f"{path}: use a .json or .csv file")


class OrderSource(Protocol):
    """Where the worker and the bot find an order by its number."""

    def get(self, order_id: str, email: str) -> Order | None:
        """The order, or None when no order has that number.

        ``email`` is passed for sources that need it (an order API); it is not
        checked here: verifying the shopper is the caller's job.
        """
        ...
