"""The retention ladder: partial-refund offers made before a cancellation is recorded.

Pure functions over (order, policy, which ladder, how many offers were
declined). A ladder is a list of percentages (``[policy.retention_ladders]``,
default ``A = [15, 30]``); with several ladders, each conversation gets one by a
stable hash of its id, so two ladders can be compared (A/B) by the ``ladder``
recorded on every request that went through one.

No offer is made for an order that is no longer ``processing`` (shipped: a
cancellation is not possible anyway) or whose total is under
``retention_min_total``.

What the bot records afterwards, in the request's ``Details``:

- offer accepted: a ``refund`` request with ``{"partial_refund": {"percent":
  15, "amount": 9.0}, "retention": {"ladder": "A", "offers": [{"percent": 15,
  "answer": "accepted"}]}}``; the worker decides it ``eligible:retentionOffer``
  for the team to refund that much and keep the order going;
- every offer declined: the ``cancellation`` as always, with the same
  ``retention`` record of the offers and answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.orders import Order, OrderStatus

__all__ = [
    "LadderStep",
    "PartialRefund",
    "choose_ladder",
    "next_offer",
    "offer_amount",
    "read_partial_refund",
    "retention_problem",
]


@dataclass(frozen=True, slots=True)
class LadderStep:
    """The answer to "what may the bot offer next?"."""

    ladder: str
    step: int  # 1 for the first offer; 0 when there is none
    percent: int | None  # None: no (more) offers
    amount: float | None
    currency: str
    reason: str  # ``offer``, ``alreadyShipped``, ``belowFloor``, ``ladderDone``, ``noLadder``

    def as_json(self) -> dict[str, Any]:
        return {
            "ladder": self.ladder,
            "step": self.step,
            "percent": self.percent,
            "amount": self.amount,
            "currency": self.currency,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PartialRefund:
    """An accepted offer as the request carries it."""

    percent: int
    amount: float | None
    ladder: str


def choose_ladder(policy: Policy, key: str) -> str:
    """The ladder for a conversation (or order): stable, and spread evenly across ladders."""
    names = sorted(policy.retention_ladders)
    if not names:
        return ""
    digest = hashlib.sha256(key.strip().lower().encode()).digest()
    return names[int.from_bytes(digest[:4], "big") % len(names)]


def offer_amount(order: Order, percent: int) -> float:
    """``percent`` of the order's total, rounded to cents."""
    return round((order.total or 0.0) * percent / 100, 2)


def next_offer(order: Order, policy: Policy, ladder: str, declined: int) -> LadderStep:
    """The offer after ``declined`` refusals on ``ladder``, or why there is none."""
    currency = order.currency or ""
    steps = policy.retention_ladders.get(ladder)
    if not steps:
        return LadderStep(ladder, 0, None, None, currency, "noLadder")
    if order.status is not OrderStatus.PROCESSING:
        return LadderStep(ladder, 0, None, None, currency, "alreadyShipped")
    if (order.total or 0.0) < policy.retention_min_total:
        return LadderStep(ladder, 0, None, None, currency, "belowFloor")
    if declined >= len(steps):
        return LadderStep(ladder, 0, None, None, currency, "ladderDone")
    percent = steps[declined]
    return LadderStep(
        ladder, declined + 1, percent, offer_amount(order, percent), currency, "offer"
    )


def read_partial_refund(details: str) -> PartialRefund | None:
    """The accepted offer a request's Details carry, or None."""
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("partial_refund"), dict):
        return None
    offer = data["partial_refund"]
    percent = offer.get("percent")
    if isinstance(percent, bool) or not isinstance(percent, int):
        return None
    amount = offer.get("amount")
    retention = data.get("retention")
    if not isinstance(retention, dict):
        retention = {}
    return PartialRefund(
        percent=percent,
        amount=float(amount) if isinstance(amount, int | float) else None,
        ladder=str(retention.get("ladder") or ""),
    )


def retention_problem(details: str, policy: Policy) -> str | None:
    """Why an accepted offer cannot be recorded (not an offer of its ladder); None when fine."""
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or "partial_refund" not in data:
        return None
    offer = read_partial_refund(details)
    if offer is None:
        return 'details.partial_refund: give the accepted offer as {"percent": 15, "amount": 9.0}'
    steps = policy.retention_ladders.get(offer.ladder)
    if not steps:
        known = ", ".join(sorted(policy.retention_ladders)) or "none configured"
        return f"details.retention.ladder: {offer.ladder!r} is not a ladder ({known})"
    if offer.percent not in steps:
        listed = ", ".join(f"{step} %" for step in steps)
        return (
            f"details.partial_refund.percent: {offer.percent} % is not an offer of ladder "
            f"{offer.ladder} ({listed})"
        )
    return None
