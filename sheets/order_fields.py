"""The order model's fields, the names shops give them, and how a name is matched.

Names are matched loosely: case, spaces, ``_``, ``-`` and camelCase do not
matter (``trackingUrl``, ``tracking_url`` and ``Tracking URL`` are one name).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "DATE_FIELDS",
    "FIELDS",
    "STATUSES",
    "first_value",
    "is_blank",
    "key_of",
    "status_word",
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


@functools.lru_cache(maxsize=4096)  # a tab's few header names, asked for every record
def key_of(name: str) -> str:
    """A name as matched: ``trackingUrl``, ``tracking_url``, ``Tracking URL`` -> ``trackingurl``."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def status_word(text: str) -> str:
    """A status as looked up: ``On-Hold`` -> ``on_hold``."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def is_blank(value: Any) -> bool:
    """Nothing there: no value, or text that is only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def first_value(by_key: Mapping[str, Any], names: Iterable[str]) -> Any:
    """The first value not blank under one of ``names`` (keys as :func:`key_of`), or None."""
    for name in names:
        value = by_key.get(key_of(name))
        if not is_blank(value):
            return value
    return None
