"""The words of a decision: one sentence for the team, a message for the shopper.

Every decision code has its own note and its own shopper message (never one
generic text). Notes say what was checked, with days and dates, so a team
member can agree or overrule at a glance. Shopper messages never reveal what
the order data holds beyond what the shopper already knows: an unknown order
and an email that does not match read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, RequestType
from sheetqueue.sheets.orders import Item, Order, OrderStatus
from sheetqueue.sheets.times import UnreadTime
from sheetqueue.worker.decision_codes import Code, Outcome
from sheetqueue.worker.policy_rules import ItemCheck, item_label

__all__ = ["Texts"]

_VERB: dict[str, str] = {RequestType.REFUND: "refunded", RequestType.EXCHANGE: "exchanged"}
_NOT_MATCHED = (
    "We couldn't match order {oid} with the email address you gave, so our team will "
    "check the details and get back to you."
)


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

    def note(self, code: Code) -> str:
        """One plain sentence for the ``Worker Note`` column."""
        return _NOTES.get(code, _note_checks)(self)

    def shopper(self, code: Code) -> str:
        """What the shopper is told about this outcome."""
        return _SHOPPER.get(code, _shopper_generic)(self)

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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _names(items: Sequence[Item]) -> str:
    labels = [item_label(item) for item in items]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


# Notes for the team, one sentence each.


def _note_checks(t: Texts) -> str:
    """Window and item checks: which items pass and which do not, and why."""
    verb = t.kind.replace("_", " ").capitalize()
    clauses = "; ".join(_clause(t, check) for check in t.checks[:6])
    more = f"; and {len(t.checks) - 6} more items" if len(t.checks) > 6 else ""
    days = _plural(t.days or 0, "day")
    return f"{verb} asked {days} after delivery on {t.delivered_on}: {clauses}{more}."


def _clause(t: Texts, check: ItemCheck) -> str:
    label = item_label(check.item) if check.item != Item() else f"order {t.oid}"
    days, window, grace = t.days or 0, check.window or 0, t.policy.grace_days
    clauses = {
        Code.WITHIN_RETURN_WINDOW: f"{label} is within its {window}-day window",
        Code.GRACE_WINDOW: (
            f"{label} is {_plural(days - window, 'day')} past its {window}-day window, "
            f"inside the {grace}-day grace period, so a person should decide"
        ),
        Code.OUTSIDE_WINDOW: (
            f"{label} is {_plural(days - window, 'day')} past its {window}-day window"
        ),
        Code.LATE_RETURN_REVIEW: (
            f"{label} is {_plural(days - window, 'day')} past its {window}-day window, within "
            f"the {t.policy.late_return_review_days}-day exception limit, so a manager should "
            "approve or decline"
        ),
        Code.FINAL_SALE: f"{label} is a final-sale item",
        Code.NON_RETURNABLE: f"{label} is a {check.item.category or '?'} item, never taken back",
        Code.REFUNDABLE: f"{label} can be refunded",
    }
    return clauses.get(check.code, f"{label}: {check.code}")


def _refund_note(summary: str) -> Callable[[Texts], str]:
    def note(t: Texts) -> str:
        detail = summary.format(
            full=t.policy.full_refund_days, partial=t.policy.partial_refund_days
        )
        days = _plural(t.days or 0, "day")
        return f"Refund asked {days} after delivery on {t.delivered_on}: {detail}."

    return note


def _since(t: Texts, field: str, verb: str) -> str:
    """`` (shipped on 2026-03-02)`` when the order data holds that date."""
    if t.order is None or getattr(t.order, field, None) is None:
        return ""
    return f" ({verb} on {t.moment(field)})" if verb else f" on {t.moment(field)}"


def _offer(t: Texts) -> str:
    if t.offer is None:
        return "?"
    percent, amount, _ladder_id = t.offer
    currency = t.order.currency if t.order is not None and t.order.currency else ""
    return f"{percent} % ({amount:.2f}{' ' + currency if currency else ''})"


def _ladder(t: Texts) -> str:
    ladder = t.offer[2] if t.offer is not None else ""
    return f"retention ladder {ladder}" if ladder else "retention offer"


def _stamp(t: Texts) -> str:
    if t.until is None:
        return "an unknown time"
    return t.until.astimezone(t.zone).strftime("%Y-%m-%d %H:%M")


def _status_note(t: Texts) -> str:
    order = t.order
    status = order.status if order else "unknown"
    return f"Order {t.oid} is {status}"


_NOTES: dict[Code, Callable[[Texts], str]] = {
    Code.UNKNOWN_TYPE: lambda t: (
        f"The Type cell {t.request.type!r} is not a request type the worker knows; set one of "
        f"{RequestType.names()}."
    ),
    Code.UNSUBSCRIBE: lambda t: (
        "Unsubscribe requests are always allowed; remove the address from marketing email."
    ),
    Code.SUPPORT_HANDOFF: lambda t: "The shopper asked for a person; read the reason and reply.",
    Code.ORDER_NOT_FOUND: lambda t: (
        f"No order {t.oid} in the order data; check the number with the shopper."
    ),
    Code.EMAIL_MISMATCH: lambda t: (
        f"The request's email does not match the email on order {t.oid}; verify who is asking "
        "before acting."
    ),
    Code.SKU_NOT_IN_ORDER: lambda t: (
        f"Item {t.sku!r} is not on order {t.oid}; check which item the shopper means."
    ),
    Code.NOT_YET_SHIPPED: lambda t: (
        f"{_status_note(t)} and has not shipped, so the {t.kind.replace('_', ' ')} can go ahead."
    ),
    Code.ALREADY_SHIPPED: lambda t: (
        f"{_status_note(t)}{_since(t, 'shipped_at', 'shipped')}, "
        f"too late for a {t.kind.replace('_', ' ')}."
    ),
    Code.ALREADY_CANCELLED: lambda t: (
        f"{_status_note(t)}{_since(t, 'cancelled_at', 'cancelled')}, so there is nothing to do."
    ),
    Code.ALREADY_REFUNDED: lambda t: (
        f"Order {t.oid} was already refunded{_since(t, 'refunded_at', '')}; do not refund it twice."
    ),
    Code.NOT_DELIVERED: lambda t: (
        f"{_status_note(t)} and not delivered yet, so a {t.kind} cannot start."
    ),
    Code.MISSING_DELIVERY_DATE: lambda t: (
        f"Order {t.oid} is marked delivered but has no delivery date, "
        "so the window cannot be measured."
    ),
    Code.UNREADABLE_TIMESTAMP: lambda t: _unread_timestamp(t.request.timestamp),
    Code.UNREADABLE_ORDER_DATE: lambda t: (
        f"Order {t.oid} has a date the worker will not guess, so no window was measured: "
        f"{'; '.join(t.order.unread_dates if t.order else ())}; correct the cell or decide "
        "by hand."
    ),
    Code.DAMAGED_ITEM: lambda t: (
        f"The shopper reports {t.what.replace('your order', 'order')} damaged or defective; "
        "offer a replacement or a full refund "
        "(no window applies)."
    ),
    Code.WITHIN_14_DAYS: _refund_note("within the {full}-day full-refund window"),
    Code.WITHIN_60_DAYS: _refund_note(
        "past {full} days but within {partial}, so offer a partial refund or store credit"
    ),
    Code.VIP_FULL_REFUND: _refund_note(
        "within {partial} days and a VIP customer, so a full refund"
    ),
    Code.RETENTION_OFFER: lambda t: (
        f"The shopper accepted a {_offer(t)} partial refund on order {t.oid} instead of "
        f"cancelling ({_ladder(t)}); refund that amount and let the order go ahead."
    ),
    Code.VIP_NO_QUESTIONS: _refund_note(
        "a VIP customer, and VIP refunds are granted with no questions asked"
    ),
    Code.INVESTIGATION: lambda t: (
        f"Order {t.oid} shows delivered on {t.delivered_on} but the shopper has not received it, "
        f"and {t.policy.not_received_wait_hours} hours have passed: open an investigation with "
        "the carrier, then reship or refund."
    ),
    Code.CARRIER_GRACE: lambda t: (
        f"Order {t.oid} shows delivered on {t.delivered_on} but the shopper has not received it; "
        f"carriers sometimes scan early, so this waits until {_stamp(t)} before it becomes an "
        "investigation."
    ),
    Code.FIRST_ORDER_FULL_REFUND: _refund_note(
        "within {partial} days and the customer's first order, so a full refund"
    ),
}


def _grace_or_outside_note(t: Texts) -> str:
    if t.checks:
        return _note_checks(t)
    window = t.window or 0
    past = _plural((t.days or 0) - window, "day")
    extra = (
        f", inside the {t.policy.grace_days}-day grace period, so a person should decide"
        if (t.days or 0) <= window + t.policy.grace_days
        else ""
    )
    return (
        f"Refund asked {_plural(t.days or 0, 'day')} after delivery on {t.delivered_on}: "
        f"{past} past the {window}-day refund window{extra}."
    )


_NOTES[Code.GRACE_WINDOW] = _grace_or_outside_note
_NOTES[Code.OUTSIDE_WINDOW] = _grace_or_outside_note


# Messages for the shopper.


def _shopper_generic(t: Texts) -> str:
    return (
        f"Our team is looking at your request for order {t.oid} and will email you as soon as "
        "it is decided."
    )


def _passing_sentence(t: Texts) -> str:
    passing = [check.item for check in t.checks if check.outcome is Outcome.ELIGIBLE]
    if not passing or t.worst is None or t.worst.outcome is Outcome.ELIGIBLE:
        return ""
    verb = _VERB.get(t.kind, "returned")
    return f" {_names(passing)} can still be {verb}; tell us if you'd like to go ahead with those."


def _worst_names(t: Texts) -> str:
    if t.worst is None:
        return t.what
    same = [check.item for check in t.checks if check.code == t.worst.code]
    return _names(same) if same and same[0] != Item() else f"Order {t.oid}"


def _within_window(t: Texts) -> str:
    if t.kind == RequestType.EXCHANGE:
        return (
            f"Good news: your exchange for order {t.oid} is within our window. Our team will check "
            "that the size or color you want is available and, once they approve it, email you "
            f"how to send the item back (within {t.policy.return_ship_back_days} days); exchanges "
            "ship at no extra cost."
        )
    return (
        f"Good news: your return for order {t.oid} is within our return window. Once our team "
        "approves it, we'll email you how to send the items back; ship them within "
        f"{t.policy.return_ship_back_days} days of that email and your refund will be processed "
        f"within {t.refund_days} business days of our receiving them."
    )


def _grace(t: Texts) -> str:
    window = t.window or 0
    return (
        f"Your request for order {t.oid} came {_plural((t.days or 0) - window, 'day')} after our "
        f"{window}-day window closed, so we've asked our team to consider an exception; we'll "
        "email you once they decide." + _passing_sentence(t)
    )


def _outside(t: Texts) -> str:
    window = t.window or 0
    kind = "refund" if t.kind == RequestType.REFUND else "standard return"
    return (
        f"Order {t.oid} was delivered {_plural(t.days or 0, 'day')} before you asked, which is "
        f"past our {window}-day window, so we can't offer a {kind}. If an item is damaged or "
        "defective we can still help, and you can ask our support team to review an exception."
        + _passing_sentence(t)
    )


def _full_refund(prefix: str) -> Callable[[Texts], str]:
    def message(t: Texts) -> str:
        return (
            f"{prefix.format(oid=t.oid)} Our team will refund it to your original payment method; "
            f"allow {t.refund_days} business days for it to appear."
        )

    return message


def _first_order(t: Texts) -> str:
    code = t.policy.first_order_discount_code
    thanks = f" As a thank-you for trying us, use code {code} on your next order." if code else ""
    return (
        _full_refund(
            "Since order {oid} was your first order with us, it qualifies for a full refund."
        )(t)
        + thanks
    )


def _not_delivered(t: Texts) -> str:
    if t.order is not None and t.order.status is OrderStatus.PROCESSING:
        return (
            f"Order {t.oid} hasn't shipped yet, so there is nothing to {t.kind} yet. If you no "
            "longer want it, you can ask us to cancel it for a full refund."
        )
    return (
        f"Order {t.oid} is on its way and hasn't been delivered yet. Once it arrives, you're "
        f"welcome to ask for a {t.kind} if it isn't right."
    )


def _already_shipped(t: Texts) -> str:
    if t.kind == RequestType.ADDRESS_CHANGE:
        return (
            f"Order {t.oid} has already shipped, so we can't change its address. If the parcel "
            "comes back to us, we'll reship it to the right address."
        )
    if t.order is not None and t.order.status is OrderStatus.DELIVERED:
        return (
            f"Order {t.oid} has already been delivered, so it can't be cancelled. You're welcome "
            "to return it instead, and we'll walk you through the return process."
        )
    return (
        f"Order {t.oid} has already shipped, so it can't be cancelled. Once it arrives you're "
        "welcome to return it, and we'll walk you through the return process."
    )


def _not_yet_shipped(t: Texts) -> str:
    if t.kind == RequestType.ADDRESS_CHANGE:
        return (
            f"Order {t.oid} hasn't shipped yet, so our team will update the shipping address "
            "before it goes out and email you to confirm."
        )
    return (
        f"Order {t.oid} hasn't shipped yet, so it can be cancelled. Our team will cancel it and "
        f"you'll get a full refund within {t.refund_days} business days."
    )


_SHOPPER: dict[Code, Callable[[Texts], str]] = {
    Code.UNSUBSCRIBE: lambda t: (
        "We'll take your address off our marketing emails; it can take a few days for them to stop."
    ),
    Code.SUPPORT_HANDOFF: lambda t: (
        "We've passed your message to our support team, and a person will get back to you soon."
    ),
    Code.ORDER_NOT_FOUND: lambda t: _NOT_MATCHED.format(oid=t.oid),
    Code.EMAIL_MISMATCH: lambda t: _NOT_MATCHED.format(oid=t.oid),
    Code.SKU_NOT_IN_ORDER: lambda t: (
        f"We couldn't find item {t.sku} on order {t.oid}, so our team will check which item you "
        "mean and get back to you."
    ),
    Code.NOT_YET_SHIPPED: _not_yet_shipped,
    Code.ALREADY_SHIPPED: _already_shipped,
    Code.ALREADY_CANCELLED: lambda t: (
        f"Order {t.oid} was already cancelled, so there is nothing more to do; any payment goes "
        "back to your original payment method. We're happy to help you place a new order."
    ),
    Code.ALREADY_REFUNDED: lambda t: (
        f"Order {t.oid} has already been refunded to your original payment method; it can take "
        f"{t.refund_days} business days to show."
    ),
    Code.NOT_DELIVERED: _not_delivered,
    Code.DAMAGED_ITEM: lambda t: (
        f"We're sorry {t.what} arrived damaged. You don't need to send anything back first: our "
        "team will contact you shortly to offer a replacement or a full refund, whichever you "
        "prefer."
    ),
    Code.WITHIN_RETURN_WINDOW: _within_window,
    Code.GRACE_WINDOW: _grace,
    Code.LATE_RETURN_REVIEW: lambda t: (
        f"Your request for order {t.oid} came {_plural((t.days or 0) - (t.window or 0), 'day')} "
        f"after our {t.window or 0}-day window closed. Returns this late need a manager's "
        "approval, so we've passed it to them and will email you once they decide."
        + _passing_sentence(t)
    ),
    Code.RETENTION_OFFER: lambda t: (
        f"Thank you for staying with us! We'll refund {_offer(t)} of order {t.oid} to your "
        f"original payment method within {t.refund_days} business days, and your order carries "
        "on as planned."
    ),
    Code.VIP_NO_QUESTIONS: _full_refund(
        "Thank you for being one of our most loyal customers: order {oid} will be refunded in "
        "full, no questions asked."
    ),
    Code.INVESTIGATION: lambda t: (
        f"We're sorry order {t.oid} hasn't reached you. We've asked our team to open an "
        "investigation with the carrier; they'll email you, and if the parcel is lost we'll "
        "reship or refund it."
    ),
    Code.CARRIER_GRACE: lambda t: (
        f"Order {t.oid} was marked delivered on {t.delivered_on}. Carriers sometimes mark a parcel "
        f"delivered a little early, so please check around your door and with neighbours. If it "
        f"hasn't turned up by {_stamp(t)}, we'll open an investigation with the carrier; you "
        "don't need to ask again."
    ),
    Code.OUTSIDE_WINDOW: _outside,
    Code.FINAL_SALE: lambda t: (
        f"{_worst_names(t)} was sold as final sale, so it can't be taken back. If it arrived "
        "damaged or defective, tell us and we'll make it right." + _passing_sentence(t)
    ),
    Code.NON_RETURNABLE: lambda t: (
        f"{_worst_names(t)} can't be taken back: gift cards and personalized items are not "
        "returnable. If something arrived damaged, tell us and we'll help." + _passing_sentence(t)
    ),
    Code.WITHIN_14_DAYS: _full_refund("Order {oid} qualifies for a full refund."),
    Code.VIP_FULL_REFUND: _full_refund(
        "Thank you for being one of our most loyal customers: order {oid} qualifies for a full "
        "refund, and we're sorry for the trouble."
    ),
    Code.FIRST_ORDER_FULL_REFUND: _first_order,
    Code.WITHIN_60_DAYS: lambda t: (
        f"Order {t.oid} was delivered {_plural(t.days or 0, 'day')} before you asked, past our "
        f"{t.policy.full_refund_days}-day full-refund window, so we can offer a partial refund or "
        "store credit; our team will review it and email you."
    ),
}


def _unread_timestamp(timestamp: str) -> str:
    """The note for a Timestamp that is no time, or one the sheet's locale does not settle."""
    if isinstance(timestamp, UnreadTime):
        return (
            "The Timestamp is a time the worker will not guess, so the window cannot be "
            f"measured: {timestamp.describe('timestamp')}; correct the cell or decide by hand."
        )
    return (
        f"The Timestamp cell {timestamp!r} is not a time the worker can read, so the "
        "window cannot be measured; correct it or decide by hand."
    )
