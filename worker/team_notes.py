"""The team's note on a decision: one plain sentence for the ``Worker Note`` column.

Every decision code has its own note (never one generic text). Notes say what
was checked, with days and dates, so a team member can agree or overrule at a
glance.
"""

from __future__ import annotations

from collections.abc import Callable

from sheetqueue.sheets.model import RequestType
from sheetqueue.sheets.orders import Item
from sheetqueue.sheets.times import UnreadTime
from sheetqueue.worker.decision_codes import Code
from sheetqueue.worker.eligibility_text import Texts, plural
from sheetqueue.worker.policy_rules import ItemCheck, item_label

__all__ = ["note"]


def note(t: Texts, code: Code) -> str:
    """One plain sentence for the ``Worker Note`` column."""
    return _NOTES.get(code, _note_checks)(t)


def _note_checks(t: Texts) -> str:
    """Window and item checks: which items pass and which do not, and why."""
    verb = t.kind_words.capitalize()
    clauses = "; ".join(_clause(t, check) for check in t.checks[:6])
    more = f"; and {len(t.checks) - 6} more items" if len(t.checks) > 6 else ""
    return f"{verb} asked {t.after_delivery} after delivery on {t.delivered_on}: {clauses}{more}."


def _clause(t: Texts, check: ItemCheck) -> str:
    label = item_label(check.item) if check.item != Item() else f"order {t.oid}"
    window, grace = check.window or 0, t.policy.grace_days
    late = plural((t.days or 0) - window, "day")
    clauses = {
        Code.WITHIN_RETURN_WINDOW: f"{label} is within its {window}-day window",
        Code.GRACE_WINDOW: (
            f"{label} is {late} past its {window}-day window, "
            f"inside the {grace}-day grace period, so a person should decide"
        ),
        Code.OUTSIDE_WINDOW: (f"{label} is {late} past its {window}-day window"),
        Code.LATE_RETURN_REVIEW: (
            f"{label} is {late} past its {window}-day window, within "
            f"the {t.policy.late_return_review_days}-day exception limit, so a manager should "
            "approve or decline"
        ),
        Code.FINAL_SALE: f"{label} is a final-sale item",
        Code.NON_RETURNABLE: f"{label} is a {check.item.category or '?'} item, never taken back",
        Code.REFUNDABLE: f"{label} can be refunded",
    }
    return clauses.get(check.code, f"{label}: {check.code}")


def _refund_note(summary: str) -> Callable[[Texts], str]:
    def refund_note(t: Texts) -> str:
        detail = summary.format(
            full=t.policy.full_refund_days, partial=t.policy.partial_refund_days
        )
        return f"Refund asked {t.after_delivery} after delivery on {t.delivered_on}: {detail}."

    return refund_note


def _since(t: Texts, field: str, verb: str) -> str:
    """`` (shipped on 2026-03-02)`` when the order data holds that date."""
    if t.order is None or getattr(t.order, field, None) is None:
        return ""
    return f" ({verb} on {t.moment(field)})" if verb else f" on {t.moment(field)}"


def _ladder(t: Texts) -> str:
    ladder = t.offer[2] if t.offer is not None else ""
    return f"retention ladder {ladder}" if ladder else "retention offer"


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
        f"{_status_note(t)} and has not shipped, so the {t.kind_words} can go ahead."
    ),
    Code.ALREADY_SHIPPED: lambda t: (
        f"{_status_note(t)}{_since(t, 'shipped_at', 'shipped')}, too late for a {t.kind_words}."
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
        f"The shopper accepted a {t.offered} partial refund on order {t.oid} instead of "
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
        f"carriers sometimes scan early, so this waits until {t.until_stamp} before it becomes an "
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
    extra = (
        f", inside the {t.policy.grace_days}-day grace period, so a person should decide"
        if (t.days or 0) <= window + t.policy.grace_days
        else ""
    )
    return (
        f"Refund asked {t.after_delivery} after delivery on {t.delivered_on}: "
        f"{t.late_by} past the {window}-day refund window{extra}."
    )


_NOTES[Code.GRACE_WINDOW] = _grace_or_outside_note
_NOTES[Code.OUTSIDE_WINDOW] = _grace_or_outside_note


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
