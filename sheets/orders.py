"""Orders: the model, and the sources that read them (a file or the Orders tab).

An order is read leniently (a shop's export names things its own way) but
checked: the fields marked required in the contract must be there, times must
be readable. Naive times are taken in the store's time zone, passed as the
validation context ``{"zone": ZoneInfo(...)}``.
"""

from __future__ import annotations

import csv
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
)

from sheetqueue.config.errors import InputError
from sheetqueue.sheets.times import parse_time

__all__ = [
    "Customer",
    "Item",
    "Order",
    "OrderSource",
    "OrderStatus",
    "load_order_file",
    "order_from_record",
    "orders_from_records",
]


class OrderStatus(StrEnum):
    """Where the order data says an order stands (lower case, as the contract spells it)."""

    PROCESSING = "processing"  # paid, not shipped: it can still be cancelled or readdressed
    SHIPPED = "shipped"  # on its way
    DELIVERED = "delivered"  # arrived: the return and refund windows count from here
    CANCELLED = "cancelled"  # cancelled before it shipped
    REFUNDED = "refunded"  # the money went back


_TIME_FIELDS = ("order_date", "shipped_at", "delivered_at", "refunded_at", "cancelled_at")


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
    order_date: datetime
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
    payment_method: str = ""
    customer: Customer = Field(default_factory=Customer)

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
        zone = (info.context or {}).get("zone", UTC)
        moment = parse_time(value, zone)
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


def _json_text(value: object, default: object) -> object:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON text ({exc.msg})") from None
    return value


def order_from_record(record: Mapping[str, Any], zone: Any = UTC) -> Order:
    """One order from a record, or InputError naming the order and the bad field."""
    try:
        return Order.model_validate(dict(record), context={"zone": zone})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "order"
        ident = record.get("order_id") or record.get("order_number") or record.get("id") or "?"
        raise InputError(f"order {ident}: {name}: {error['msg']}") from None


def orders_from_records(records: Iterable[Mapping[str, Any]], zone: Any = UTC) -> list[Order]:
    return [order_from_record(record, zone) for record in records]


def load_order_file(path: Path, zone: Any = UTC) -> list[Order]:
    """Orders from a .json file (an array) or a .csv file (one order a row)."""
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
        return orders_from_records(data, zone)
    if suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        cleaned = [{k: v for k, v in row.items() if k} for row in rows]
        return orders_from_records(cleaned, zone)
    raise InputError(f"{path}: use a .json or .csv file")


class OrderSource(Protocol):
    """Where the worker and the bot find an order by its number."""

    def get(self, order_id: str, email: str) -> Order | None:
        """The order, or None when no order has that number.

        ``email`` is passed for sources that need it (an order API); it is not
        checked here: verifying the shopper is the caller's job.
        """
        ...
