"""Shop CSV exports with one line per item, grouped into one record per order.

Two exports are recognised by their header: Shopify's order export (``Name``,
``Lineitem name``, ...) and WooCommerce's Customer/Order CSV Export "one row per
item" (``order_number``, ``item_name``, ...). Any other CSV is one order a line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sheetqueue.sheets.order_fields import first_value, key_of, status_word

__all__ = ["Row", "csv_orders"]


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
    """The first of these columns with text in it on the line (cells are stripped)."""
    return str(first_value(cells, (columns,) if isinstance(columns, str) else columns) or "")


def _shopify_status(cells: Mapping[str, str]) -> str:
    """Shopify keeps money and shipping apart: refunds and cancellations first."""
    financial = status_word(cells.get("financialstatus", ""))
    fulfillment = status_word(cells.get("fulfillmentstatus", ""))
    if cells.get("cancelledat"):
        return "cancelled"
    if financial == "refunded":
        return "refunded"
    if financial == "voided":
        return "cancelled"
    if not financial and not fulfillment:
        return ""
    return fulfillment or "unfulfilled"
