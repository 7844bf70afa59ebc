"""From the shapes shops have to the one order model: field names, statuses, addresses.

A record (a JSON object, an API answer, a CSV row or a group of rows) is
turned into the canonical record that :class:`~sheetqueue.sheets.orders.Order`
validates. Names are matched loosely: case, spaces, ``_``, ``-`` and camelCase
do not matter (``trackingUrl``, ``tracking_url`` and ``Tracking URL`` are one
name). The columns a shop names its own way are told in ``[orders.fields]``
(``email = "Customer E-mail"``); they are looked at before the built-in names.

Statuses: the five of the model as they are, then ``[orders.statuses]``, then
a short built-in table of the words Shopify and WooCommerce use; any other
word is refused with the list of what is accepted. A record without a status
gets one only from what it proves (a refund, a cancellation, a delivery or a
shipment date, or seed-style ``isDelivered``/``isRefunded`` flags); otherwise
it is refused. Addresses, as text or as an object, give the city and the
postal code only.

Two CSV exports with one line per item are recognised by their header and
grouped into orders: Shopify's order export (``Name``, ``Lineitem name``, ...)
and WooCommerce's Customer/Order CSV Export "one row per item"
(``order_number``, ``item_name``, ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings

__all__ = [
    "DATE_FIELDS",
    "FIELDS",
    "STATUSES",
    "OrderMapping",
    "Row",
    "city_and_postal_code",
    "csv_orders",
    "key_of",
    "mapping_of",
]

STATUSES = ("processing", "shipped", "delivered", "cancelled", "refunded")

# Every field of the order model, with the names shops commonly give it.
FIELDS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "order_number", "id", "number", "order_no"),
    "email": ("email", "customer_email", "billing_email", "email_address"),
    "phone": ("phone", "customer_phone", "billing_phone", "shipping_phone", "phone_number"),
    "status": ("status", "order_status"),
    "order_date": ("order_date", "created_at", "ordered_at", "placed_at", "date_created", "date"),
    "shipped_at": ("shipped_at", "shipped_on", "fulfilled_at", "ship_date", "dispatched_at"),
    "delivered_at": ("delivered_at", "delivered_on", "delivery_date"),
    "refunded_at": ("refunded_at", "refunded_on", "refund_date"),
    "cancelled_at": ("cancelled_at", "canceled_at", "cancelled_on", "canceled_on"),
    "items": ("items", "line_items", "products"),
    "total": ("total", "order_total", "total_price", "grand_total"),
    "currency": ("currency", "order_currency", "currency_code"),
    "carrier": ("carrier", "shipping_carrier", "tracking_company"),
    "tracking_number": ("tracking_number", "tracking_code", "tracking_id"),
    "tracking_url": ("tracking_url", "tracking_link"),
    "estimated_delivery": ("estimated_delivery", "estimated_delivery_date", "eta"),
    "shipping_address": ("shipping_address", "delivery_address", "ship_to", "address"),
    "city": ("city", "shipping_city", "town"),
    "postal_code": (
        "postal_code",
        "zip",
        "zip_code",
        "postcode",
        "shipping_zip",
        "shipping_postcode",
        "shipping_postal_code",
    ),
    "payment_method": ("payment_method", "payment", "payment_method_title"),
    "customer": ("customer",),
}
DATE_FIELDS = ("order_date", "shipped_at", "delivered_at", "refunded_at", "cancelled_at")
"""The order model's fields that hold a date or time (their columns are read as dates)."""
_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "variant_sku", "product_sku", "item_sku"),
    "name": ("name", "title", "product_name", "item_name"),
    "qty": ("qty", "quantity", "item_quantity", "count"),
    "price": ("price", "unit_price", "item_price"),
    "category": ("category", "product_type", "type"),
    "final_sale": ("final_sale", "is_final_sale"),
}
_FLAGS = {
    "refunded": ("is_refunded", "refunded"),
    "cancelled": ("is_cancelled", "is_canceled", "cancelled", "canceled"),
    "delivered": ("is_delivered", "delivered"),
    "shipped": ("is_shipped", "shipped"),
}
_BUILT_IN_STATUSES = {
    # Shopify (fulfillment and financial statuses)
    "unfulfilled": "processing",
    "partially_fulfilled": "processing",
    "partial": "processing",
    "fulfilled": "shipped",
    "in_transit": "shipped",
    "out_for_delivery": "shipped",
    "voided": "cancelled",
    "canceled": "cancelled",
    # WooCommerce ("completed" means fulfilled, not delivered: WooCommerce does not know)
    "pending": "processing",
    "on_hold": "processing",
    "completed": "shipped",
    "failed": "cancelled",
}
_TRUE = frozenset({"true", "yes", "y", "1"})


def mapping_of(settings: Settings) -> OrderMapping:
    """The mapping ``[orders.fields]`` and ``[orders.statuses]`` describe (ConfigError if bad)."""
    return OrderMapping.from_config(settings.order_fields, settings.order_statuses)


@functools.lru_cache(maxsize=4096)  # a tab's few header names, asked for every record
def key_of(name: str) -> str:
    """A name as matched: ``trackingUrl``, ``tracking_url``, ``Tracking URL`` -> ``trackingurl``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _status_word(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


@dataclass(frozen=True)
class OrderMapping:
    """How a shop's records read as orders: extra names per field and a status table."""

    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    statuses: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls, fields: Mapping[str, Any] | None = None, statuses: Mapping[str, str] | None = None
    ) -> OrderMapping:
        """Check ``[orders.fields]`` and ``[orders.statuses]``; ConfigError names the bad one."""
        names: dict[str, tuple[str, ...]] = {}
        for name, columns in (fields or {}).items():
            if name not in FIELDS:
                known = ", ".join(FIELDS)
                raise ConfigError(f"[orders.fields] {name}: not an order field; use one of {known}")
            listed = [columns] if isinstance(columns, str) else list(columns)
            if not listed or any(not str(column).strip() for column in listed):
                raise ConfigError(f"[orders.fields] {name}: give the column name it is read from")
            names[name] = tuple(str(column) for column in listed)
        table: dict[str, str] = {}
        for word, status in (statuses or {}).items():
            chosen = str(status).strip().lower()
            if chosen not in STATUSES:
                raise ConfigError(
                    f"[orders.statuses] {word!r}: {status!r} is not a status; "
                    f"use one of {', '.join(STATUSES)}"
                )
            table[_status_word(word)] = chosen
        return cls(names, table)

    # -- one record -----------------------------------------------------------

    def canonical(self, record: Mapping[str, Any], email: str = "") -> dict[str, Any]:
        """The record with the model's field names; ``email`` fills a missing one.

        Raises ValueError naming the field and what was expected (status only:
        the model checks the rest).
        """
        by_key = {key_of(name): value for name, value in record.items()}
        out: dict[str, Any] = {}
        for name, aliases in FIELDS.items():
            value = self._pick(by_key, name, aliases)
            if not _blank(value):
                out[name] = value
        verification = by_key.get("verification")
        if "email" not in out and isinstance(verification, Mapping):
            found = verification.get("email")
            if not _blank(found):
                out["email"] = found
        if "email" not in out and email:
            out["email"] = email
        if isinstance(out.get("items"), list):
            out["items"] = [_item(item) for item in out["items"]]
        if isinstance(out.get("customer"), Mapping):
            out["customer"] = _customer(out["customer"])
        _address(out)
        out["status"] = self.status(out.get("status"), out, by_key)
        return out

    def date_columns(self) -> frozenset[str]:
        """The column names (as matched, :func:`key_of`) a date field is read from.

        The shop's own names in ``[orders.fields]`` and the usual ones: a store that
        reads a sheet's dates by their cells asks this which columns are dates.
        """
        return frozenset(
            key_of(column)
            for name in DATE_FIELDS
            for column in (*self.fields.get(name, ()), *FIELDS[name])
        )

    def number_names(self) -> tuple[str, ...]:
        """The names an order number is read from: the shop's own first, then the usual ones."""
        return (*self.fields.get("order_id", ()), *FIELDS["order_id"])

    def _pick(self, by_key: Mapping[str, Any], name: str, aliases: Sequence[str]) -> Any:
        for alias in (*self.fields.get(name, ()), *aliases):
            value = by_key.get(key_of(alias))
            if not _blank(value):
                return value
        return None

    def status(self, value: Any, out: Mapping[str, Any], by_key: Mapping[str, Any]) -> str:
        """The model's status for ``value`` (or for what the record proves when blank)."""
        flags = {
            name: any(_true(by_key.get(key_of(a))) for a in keys) for name, keys in _FLAGS.items()
        }
        if flags["refunded"]:
            return "refunded"
        if not _blank(value):
            word = _status_word(str(value))
            if word in STATUSES:
                return word
            if word in self.statuses:
                return self.statuses[word]
            if word in _BUILT_IN_STATUSES:
                return _BUILT_IN_STATUSES[word]
            raise ValueError(
                f"{value!r} is not a known order status; use one of {', '.join(STATUSES)} "
                "or map it in [orders.statuses]"
            )
        for name, when in (
            ("refunded", "refunded_at"),
            ("cancelled", "cancelled_at"),
            ("delivered", "delivered_at"),
            ("shipped", "shipped_at"),
        ):
            if flags[name] or not _blank(out.get(when)):
                return name
        raise ValueError(
            f"missing, and nothing in the order says where it stands; expected one of "
            f"{', '.join(STATUSES)}"
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _item(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    by_key = {key_of(name): value for name, value in item.items()}
    out: dict[str, Any] = {}
    for name, aliases in _ITEM_FIELDS.items():
        for alias in aliases:
            value = by_key.get(key_of(alias))
            if not _blank(value):
                out[name] = value
                break
    return out


def _customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    by_key = {key_of(name): value for name, value in customer.items()}
    out: dict[str, Any] = {}
    for name, aliases in (
        ("total_spent", ("total_spent", "totalspent", "lifetime_value")),
        ("order_count", ("order_count", "orders_count", "orders")),
    ):
        for alias in aliases:
            if not _blank(by_key.get(key_of(alias))):
                out[name] = by_key[key_of(alias)]
                break
    return out


# -- addresses -------------------------------------------------------------------


def _address(out: dict[str, Any]) -> None:
    """City and postal code from a structured or one-line address; the street is dropped."""
    address = out.pop("shipping_address", None)
    city, postal = out.get("city"), out.get("postal_code")
    if isinstance(address, Mapping):
        parts = {key_of(name): value for name, value in address.items()}
        city = city or _first(parts, FIELDS["city"])
        postal = postal or _first(parts, FIELDS["postal_code"])
    elif isinstance(address, str) and address.strip():
        found_city, found_postal = city_and_postal_code(address)
        city, postal = city or found_city, postal or found_postal
    for name, value in (("city", city), ("postal_code", postal)):
        if _blank(value):
            out.pop(name, None)
        else:
            out[name] = " ".join(str(value).split())


def _first(parts: Mapping[str, Any], aliases: Iterable[str]) -> Any:
    for alias in aliases:
        value = parts.get(key_of(alias))
        if not _blank(value):
            return value
    return None


_POSTAL_AT_END = re.compile(
    r"^(?P<city>.*?)[\s,]*(?:\b[A-Z]{2,3}\.?\s+)?"
    r"(?P<postal>\d{5}-\d{4}|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d{4,6})$"
)
_POSTAL_FIRST = re.compile(r"^(?P<postal>\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{4,6})\s+(?P<city>\D+)$")
_STATE = re.compile(r"^[A-Z]{2,3}$")


def city_and_postal_code(address: str) -> tuple[str | None, str | None]:
    """City and postal code of a one-line address (``123 Main St, Austin, TX 78701``)."""
    parts = [part.strip() for part in re.split(r"[,;\n]+", address) if part.strip()]
    for index in range(len(parts) - 1, 0, -1):
        part = parts[index]
        match = _POSTAL_FIRST.match(part) or _POSTAL_AT_END.match(part)
        if match is None:
            continue
        postal = " ".join(match.group("postal").split())
        city = match.group("city").strip(" ,")
        if (not city or _STATE.match(city)) and index > 1:
            city = parts[index - 1]
        return (city if city and not re.search(r"\d", city) else None), postal
    return (parts[-2] if len(parts) > 2 else None), None


# -- CSV exports with one line per item ----------------------------------------------


@dataclass(frozen=True)
class Row:
    """One order read from a file: the first line it came from, and its record."""

    line: int
    record: dict[str, Any]


_SHOPIFY: dict[str, str | tuple[str, ...]] = {
    "order_id": "Name",
    "email": "Email",
    "phone": ("Phone", "Shipping Phone", "Billing Phone"),
    "order_date": "Created at",
    "shipped_at": "Fulfilled at",
    "cancelled_at": "Cancelled at",
    "total": "Total",
    "currency": "Currency",
    "city": ("Shipping City", "Billing City"),
    "postal_code": ("Shipping Zip", "Billing Zip"),
    "payment_method": "Payment Method",
}
_SHOPIFY_ITEM = {
    "name": "Lineitem name",
    "sku": "Lineitem sku",
    "qty": "Lineitem quantity",
    "price": "Lineitem price",
}
_WOO: dict[str, str | tuple[str, ...]] = {
    "order_id": ("order_number", "order_id"),
    "email": "billing_email",
    "phone": "billing_phone",
    "status": "status",
    "order_date": "order_date",
    "total": "order_total",
    "currency": "order_currency",
    "city": ("shipping_city", "billing_city"),
    "postal_code": ("shipping_postcode", "billing_postcode"),
    "payment_method": "payment_method",
}
_WOO_ITEM = {"name": "item_name", "sku": "item_sku", "qty": "item_quantity"}


def csv_orders(header: Sequence[str], lines: Sequence[tuple[int, dict[str, str]]]) -> list[Row]:
    """Orders from CSV lines: Shopify and WooCommerce exports grouped, others one a line."""
    keys = {key_of(name) for name in header}
    if {"name", "lineitemname"} <= keys:
        return _grouped(lines, _SHOPIFY, _SHOPIFY_ITEM, _shopify_status)
    if "itemname" in keys and keys & {"ordernumber", "orderid"} and "billingemail" in keys:
        return _grouped(lines, _WOO, _WOO_ITEM, None)
    return [Row(line, dict(record)) for line, record in lines]


def _grouped(
    lines: Sequence[tuple[int, dict[str, str]]],
    order_columns: Mapping[str, str | tuple[str, ...]],
    item_columns: Mapping[str, str],
    status_of: Any,
) -> list[Row]:
    orders: dict[str, Row] = {}
    for line, raw in lines:
        cells = {key_of(name): (value or "").strip() for name, value in raw.items() if name}
        ident = _cell(cells, order_columns["order_id"])
        if not ident:
            orders[f"\0{line}"] = Row(line, {})  # refused later: no order number on the line
            continue
        row = orders.setdefault(ident, Row(line, {"items": []}))
        for name, columns in order_columns.items():
            value = _cell(cells, columns)
            if value and name not in row.record:
                row.record[name] = value
        if status_of is not None and "status" not in row.record:
            status = status_of(cells)
            if status:
                row.record["status"] = status
        item = {name: _cell(cells, column) for name, column in item_columns.items()}
        if item.get("name") or item.get("sku"):
            row.record["items"].append({k: v for k, v in item.items() if v})
    return list(orders.values())


def _cell(cells: Mapping[str, str], columns: str | tuple[str, ...]) -> str:
    for column in (columns,) if isinstance(columns, str) else columns:
        value = cells.get(key_of(column), "")
        if value:
            return value
    return ""


def _shopify_status(cells: Mapping[str, str]) -> str:
    """Shopify keeps money and shipping apart: refunds and cancellations first."""
    financial = _status_word(cells.get("financialstatus", ""))
    fulfillment = _status_word(cells.get("fulfillmentstatus", ""))
    if cells.get("cancelledat"):
        return "cancelled"
    if financial == "refunded":
        return "refunded"
    if financial == "voided":
        return "cancelled"
    if not financial and not fulfillment:
        return ""
    return fulfillment or "unfulfilled"
