"""The bot's side of the retention ladder: the next offer, in words, for a verified order.

The ladder itself (which offers, when none) is :mod:`sheetqueue.worker.retention`.
"""

from __future__ import annotations

from typing import Any

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.orders import Order
from sheetqueue.worker.retention import LadderStep, choose_ladder, next_offer

__all__ = ["offer_answer"]


def offer_answer(order: Order, policy: Policy, *, key: str, declined: int) -> dict[str, Any]:
    """``{"offer": {...} | None, "ladder", "reason", "message"}`` for the bot."""
    ladder = choose_ladder(policy, key or order.order_id)
    step = next_offer(order, policy, ladder, declined)
    return {
        "offer": step.as_json() if step.percent is not None else None,
        "ladder": step.ladder,
        "reason": step.reason,
        "message": _words(step, order),
    }


def _words(step: LadderStep, order: Order) -> str:
    if step.percent is not None and step.amount is not None:
        money = f"{step.amount:.2f} {step.currency}".strip()
        if step.step == 1:
            return (
                f"I understand. What if we refunded {step.percent} % of order {order.order_id} "
                f"({money}) and you keep it?"
            )
        return f"I can go up to {step.percent} % off ({money}). Would that work?"
    if step.reason == "alreadyShipped":
        return (
            f"Order {order.order_id} has already shipped, so it can't be cancelled; once it "
            "arrives you're welcome to return it."
        )
    return f"Understood. I'll pass on your cancellation of order {order.order_id} to our team."
