"""What the shopper is told about a decision: its own message for every decision code.

Messages never reveal what the order data holds beyond what the shopper already
knows: an unknown order and an email that does not match read the same.
"""

from __future__ import annotations

from collections.abc import Callable

from sheetqueue.sheets.model import RequestType
from sheetqueue.sheets.orders import Item, OrderStatus
from sheetqueue.worker.decision_codes import Code, Outcome
from sheetqueue.worker.eligibility_text import Texts, item_names

__all__ = ["message"]

_VERB: dict[str, str] = {RequestType.REFUND: "refunded", RequestType.EXCHANGE: "exchanged"}
_NOT_MATCHED = (
    "We couldn't match order {oid} with the email address you gave, so our team will "
    "check the details and get back to you."
)


def message(t: Texts, code: Code) -> str:
    """What the shopper is told about this outcome."""
    return _SHOPPER.get(code, _shopper_generic)(t)


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
    return (
        f" {item_names(passing)} can still be {verb}; tell us if you'd like to go ahead with those."
    )


def _worst_names(t: Texts) -> str:
    if t.worst is None:
        return t.what
    same = [check.item for check in t.checks if check.code == t.worst.code]
    return item_names(same) if same and same[0] != Item() else f"Order {t.oid}"


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
        f"Your request for order {t.oid} came {t.late_by} after our "
        f"{window}-day window closed, so we've asked our team to consider an exception; we'll "
        "email you once they decide." + _passing_sentence(t)
    )


def _outside(t: Texts) -> str:
    window = t.window or 0
    kind = "refund" if t.kind == RequestType.REFUND else "standard return"
    return (
        f"Order {t.oid} was delivered {t.after_delivery} before you asked, which is "
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
        f"Your request for order {t.oid} came {t.late_by} "
        f"after our {t.window or 0}-day window closed. Returns this late need a manager's "
        "approval, so we've passed it to them and will email you once they decide."
        + _passing_sentence(t)
    ),
    Code.RETENTION_OFFER: lambda t: (
        f"Thank you for staying with us! We'll refund {t.offered} of order {t.oid} to your "
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
        f"hasn't turned up by {t.until_stamp}, we'll open an investigation with the carrier; you "
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
        f"Order {t.oid} was delivered {t.after_delivery} before you asked, past our "
        f"{t.policy.full_refund_days}-day full-refund window, so we can offer a partial refund or "
        "store credit; our team will review it and email you."
    ),
}
