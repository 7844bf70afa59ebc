"""The words of a decision: what they may mention, and the phrases they share.

A decision's words are one sentence for the team (:mod:`~sheetqueue.worker.team_notes`)
and a message for the shopper (:mod:`~sheetqueue.worker.shopper_messages`); both
read one :class:`Texts`, grown as the checks go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.orders import Item, Order
from sheetqueue.worker.policy_rules import ItemCheck, item_label

__all__ = ["Texts", "item_names", "plural"]


@dataclass(frozen=True, slots=True)
class Texts:
    """What the words of a decision may mention; grown as the checks go."""

    request: Request
    order: Order | None
    policy: Policy
    zone: tzinfo
    sku: str = ""
    items: tuple[Item, ...] = ()
    days: int | None = None
    window: int | None = None
    checks: tuple[ItemCheck, ...] = ()
    worst: ItemCheck | None = None
    until: datetime | None = None
    offer: tuple[int, float, str] | None = None  # percent, amount, ladder

    def with_sku(self, sku: str) -> Texts:
        return replace(self, sku=sku)

    def with_items(self, items: Sequence[Item]) -> Texts:
        return replace(self, items=tuple(items))

    def with_days(self, days: int) -> Texts:
        return replace(self, days=days)

    def with_offer(self, percent: int, amount: float, ladder: str) -> Texts:
        return replace(self, offer=(percent, amount, ladder))

    def with_until(self, until: datetime) -> Texts:
        return replace(self, until=until)

    def with_window(self, window: int) -> Texts:
        return replace(self, window=window)

    def with_checks(self, checks: Sequence[ItemCheck], worst: ItemCheck) -> Texts:
        return replace(self, checks=tuple(checks), worst=worst, window=worst.window)

    # What the templates read.

    @property
    def oid(self) -> str:
        if self.order is not None:
            return self.order.order_id
        return self.request.order_id.strip() or "(no order number)"

    @property
    def kind(self) -> str:
        """The request type as the words say it: ``address_change`` for ``Address-Change``."""
        parsed = self.request.parsed_type
        return parsed.value if parsed is not None else self.request.type.strip().lower()

    @property
    def what(self) -> str:
        """The items in question, for the shopper: one name, or "your order"."""
        if len(self.items) == 1:
            return item_label(self.items[0])
        return f"your order {self.oid}"

    @property
    def delivered_on(self) -> str:
        return self.moment("delivered_at")

    def moment(self, field: str) -> str:
        """One of the order's times as a date in the store's zone."""
        value = getattr(self.order, field, None) if self.order is not None else None
        return self.date(value if isinstance(value, datetime) else None)

    def date(self, moment: datetime | None) -> str:
        """A date in the store's time zone, ``2026-03-08``."""
        if moment is None:
            return "an unknown date"
        return moment.astimezone(self.zone).date().isoformat()

    @property
    def refund_days(self) -> str:
        return self.policy.refund_processing_days

    @property
    def kind_words(self) -> str:
        """The request type in words: ``address change``."""
        return self.kind.replace("_", " ")

    @property
    def after_delivery(self) -> str:
        """How long after delivery the shopper asked: ``12 days``."""
        return plural(self.days or 0, "day")

    @property
    def late_by(self) -> str:
        """How far past its window the request came: ``3 days``."""
        return plural((self.days or 0) - (self.window or 0), "day")

    @property
    def offered(self) -> str:
        """The retention offer taken: ``10 % (4.50 EUR)``."""
        if self.offer is None:
            return "?"
        percent, amount, _ladder_id = self.offer
        currency = self.order.currency if self.order is not None and self.order.currency else ""
        return f"{percent} % ({amount:.2f}{' ' + currency if currency else ''})"

    @property
    def until_stamp(self) -> str:
        """The time a wait ends, in the store's zone: ``2026-03-08 14:00``."""
        if self.until is None:
            return "an unknown time"
        return self.until.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")


def plural(count: int, word: str) -> str:
    """``1 day``, ``3 days``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def item_names(items: Sequence[Item]) -> str:
    """Items by name: ``Mug``, ``Mug and Cap``, ``Mug, Cap and Scarf``."""
    labels = [item_label(item) for item in items]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]
