"""The arithmetic and reading behind eligibility: days, customer tiers, item windows.

Kept apart from :mod:`sheetqueue.worker.eligibility` so each rule can be read on its own.
Everything here is pure: no clock, no I/O.

Days are counted one way everywhere: **calendar days in the shop's time
zone** between the delivery and the moment the shopper asked (delivered on
1 March, asked on 31 March: 30 days, whatever the hours or a DST change).
"Within N days" means ``days <= N``: with a 30-day window, day 30 is in and
day 31 is out; with 3 grace days, days 31 to 33 go to review.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.orders import Customer, Item, Order
from sheetqueue.sheets.times import calendar_days
from sheetqueue.worker.decision_codes import Code, Outcome

__all__ = [
    "ItemCheck",
    "RequestDetails",
    "check_item_kind",
    "check_item_window",
    "days_between",
    "find_item",
    "is_first_order",
    "is_vip",
    "item_label",
    "read_details",
    "reports_not_received",
]

_DAMAGE_WORDS = re.compile(
    r"\b(damaged|defective|broken|cracked|shattered|faulty|torn|smashed|dented|"
    r"doesn'?t work|does not work|not working|stopped working|arrived broken)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(not|never|no|isn'?t|wasn'?t|aren'?t|un)\s*$", re.IGNORECASE)
_TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
_NOT_RECEIVED_ISSUES = frozenset({"not_received", "delivered_not_received"})
_NOT_RECEIVED_WORDS = re.compile(
    r"\b(never (arrived|came|got it|received)|(did ?n[o']t|have ?n[o']t|not) (get|got|receive)"
    r"(d)? (it|the (parcel|package))|not received)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RequestDetails:
    """What the ``Details`` and ``Reason`` cells tell about the items."""

    sku: str = ""
    damaged: bool = False


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """One item's verdict against a window: ``outcome`` and ``code`` as in a Decision."""

    item: Item
    outcome: Outcome
    code: Code
    window: int | None = None


def reports_not_received(details: str, reason: str) -> bool:
    """The shopper says the parcel shows delivered but never reached them."""
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        data = {}
    issue = str(data.get("issue") or "") if isinstance(data, dict) else ""
    if issue.strip().lower().replace("-", "_") in _NOT_RECEIVED_ISSUES:
        return True
    return bool(_NOT_RECEIVED_WORDS.search(reason))


def read_details(details: str, reason: str) -> RequestDetails:
    """The SKU and damaged flag from the Details JSON, and damage words in the Reason.

    Details that are not a JSON object (a team member may type anything) count
    as no details; they are never an error.
    """
    sku = ""
    damaged = False
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        data = {}
    if isinstance(data, dict):
        raw_sku = data.get("sku")
        sku = str(raw_sku).strip() if raw_sku not in (None, "") else ""
        damaged = _truthy(data.get("damaged")) or _truthy(data.get("defective"))
    return RequestDetails(sku=sku, damaged=damaged or mentions_damage(reason))


def mentions_damage(reason: str) -> bool:
    """True when the shopper's words clearly say the item is damaged or defective."""
    for match in _DAMAGE_WORDS.finditer(reason):
        before = reason[: match.start()]
        if not _NEGATED.search(before):
            return True
    return False


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return False


def days_between(start: datetime, end: datetime, zone: tzinfo = UTC) -> int:
    """Calendar days from ``start`` to ``end`` in ``zone``; 0 when ``end`` is earlier."""
    return max(calendar_days(start, end, zone), 0)


def is_vip(customer: Customer, policy: Policy) -> bool:
    """More spent, or more orders, than the policy's VIP thresholds."""
    return (
        customer.total_spent > policy.vip_min_total_spent
        or customer.order_count > policy.vip_min_order_count
    )


def is_first_order(customer: Customer) -> bool:
    """The customer's first order: an order count of 1.

    A count of 0 means the order data holds no customer history (an absent
    ``customer`` reads as 0), so it is not taken as a first order: granting a
    full refund on missing data would be a guess.
    """
    return customer.order_count == 1


def item_window(item: Item, policy: Policy, *, exchange: bool, vip: bool) -> int:
    """Days from delivery this item may be returned (or exchanged) in."""
    if exchange and policy.exchange_window_days is not None:
        base = policy.exchange_window_days
    else:
        base = policy.window_for_category(item.category)
    return base + (policy.vip_extra_days if vip else 0)


def check_item_kind(item: Item, policy: Policy) -> ItemCheck | None:
    """Final sale or a category never taken back; None when the item may go back."""
    if item.final_sale:
        return ItemCheck(item, Outcome.INELIGIBLE, Code.FINAL_SALE)
    if not policy.is_returnable_category(item.category):
        return ItemCheck(item, Outcome.INELIGIBLE, Code.NON_RETURNABLE)
    return None


def check_item_window(
    item: Item, days: int, policy: Policy, *, exchange: bool, vip: bool
) -> ItemCheck:
    """Final sale, non-returnable category, then the window and its grace days."""
    blocked = check_item_kind(item, policy)
    if blocked is not None:
        return blocked
    window = item_window(item, policy, exchange=exchange, vip=vip)
    if days <= window:
        return ItemCheck(item, Outcome.ELIGIBLE, Code.WITHIN_RETURN_WINDOW, window)
    if days <= window + policy.grace_days:
        return ItemCheck(item, Outcome.REVIEW, Code.GRACE_WINDOW, window)
    if policy.late_return_review and days <= policy.late_return_review_days:
        return ItemCheck(item, Outcome.REVIEW, Code.LATE_RETURN_REVIEW, window)
    return ItemCheck(item, Outcome.INELIGIBLE, Code.OUTSIDE_WINDOW, window)


def find_item(order: Order, sku: str) -> Item | None:
    """The order's item with this SKU (trimmed, case-insensitive), or None."""
    wanted = sku.strip().lower()
    for item in order.items:
        if item.sku.strip().lower() == wanted:
            return item
    return None


def item_label(item: Item) -> str:
    """How notes and messages name an item: its name, else its SKU."""
    return item.name or item.sku or "an item"
