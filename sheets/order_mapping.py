"""From the shapes shops have to the one order model: field names, statuses, nested parts.

A record (a JSON object, an API answer, a CSV row or a group of rows, see
:mod:`~sheetqueue.sheets.order_exports`) is turned into the canonical record
that :class:`~sheetqueue.sheets.orders.Order` validates. Names are matched as
:func:`~sheetqueue.sheets.order_fields.key_of` says. The columns a shop names
its own way are told in ``[orders.fields]`` (``email = "Customer E-mail"``);
they are looked at before the built-in names.

Statuses: the five of the model as they are, then ``[orders.statuses]``, then
a short built-in table of the words Shopify and WooCommerce use; any other
word is refused with the list of what is accepted. A record without a status
gets one only from what it proves (a refund, a cancellation, a delivery or a
shipment date, or seed-style ``isDelivered``/``isRefunded`` flags); otherwise
it is refused. Addresses give the city and the postal code only (see
:mod:`~sheetqueue.sheets.order_addresses`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_addresses import keep_city_and_postal_code
from sheetqueue.sheets.order_fields import (
    DATE_FIELDS,
    FIELDS,
    STATUSES,
    first_value,
    is_blank,
    key_of,
    status_word,
)

__all__ = ["OrderMapping", "mapping_of"]

_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "variant_sku", "product_sku", "item_sku"),
    "name": ("name", "title", "product_name", "item_name"),
    "qty": ("qty", "quantity", "item_quantity", "count"),
    "price": ("price", "unit_price", "item_price"),
    "category": ("category", "product_type", "type"),
    "final_sale": ("final_sale", "is_final_sale"),
}
_CUSTOMER_FIELDS = {
    "total_spent": ("total_spent", "totalspent", "lifetime_value"),
    "order_count": ("order_count", "orders_count", "orders"),
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
            table[status_word(word)] = chosen
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
            value = first_value(by_key, (*self.fields.get(name, ()), *aliases))
            if not is_blank(value):
                out[name] = value
        verification = by_key.get("verification")
        if "email" not in out and isinstance(verification, Mapping):
            found = verification.get("email")
            if not is_blank(found):
                out["email"] = found
        if "email" not in out and email:
            out["email"] = email
        if isinstance(out.get("items"), list):
            out["items"] = [_item(item) for item in out["items"]]
        if isinstance(out.get("customer"), Mapping):
            out["customer"] = _picked(out["customer"], _CUSTOMER_FIELDS)
        keep_city_and_postal_code(out)
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

    def status(self, value: Any, out: Mapping[str, Any], by_key: Mapping[str, Any]) -> str:
        """The model's status for ``value`` (or for what the record proves when blank)."""
        flags = {
            name: any(_true(by_key.get(key_of(a))) for a in keys) for name, keys in _FLAGS.items()
        }
        if flags["refunded"]:
            return "refunded"
        if not is_blank(value):
            word = status_word(str(value))
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
            if flags[name] or not is_blank(out.get(when)):
                return name
        raise ValueError(
            f"missing, and nothing in the order says where it stands; expected one of "
            f"{', '.join(STATUSES)}"
        )


def _true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _item(item: Any) -> Any:
    return _picked(item, _ITEM_FIELDS) if isinstance(item, Mapping) else item


def _picked(record: Mapping[str, Any], table: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The fields of ``table`` the record has, each from the first of its names with a value."""
    by_key = {key_of(name): value for name, value in record.items()}
    found = {name: first_value(by_key, names) for name, names in table.items()}
    return {name: value for name, value in found.items() if value is not None}
