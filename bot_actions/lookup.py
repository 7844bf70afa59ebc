"""Order lookup for a verified shopper, and the bot's eligibility answer.

A shopper sees an order only after proving it is theirs: the order number and
the email on the order must both match (trimmed, case-insensitive). An
unknown order and a wrong email get the same words, so a guess learns
nothing. Failed tries are counted in a :class:`LookupGuard` per order number,
per client address and per conversation (see its module for the limits); the
try that reaches a limit and every try after it raise :class:`LockedError`,
whose words send the shopper to their confirmation email or to support. A
successful lookup does not reset the counts. Each miss is logged
(``lookup.failed``) with the client address and the order number, never the
email that was tried.

What the shopper may see is an :class:`OrderView`: status with a sentence for
it, items, carrier, tracking number, the tracking link only when known, the
estimated delivery, the city and postal code only (never the street), the
total, and the card's last four digits only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo

import structlog
from pydantic import BaseModel, ConfigDict

from sheetqueue.bot_actions.lookup_guard import LookupGuard
from sheetqueue.bot_actions.order_view import OrderView, order_view
from sheetqueue.config.errors import InputError, LockedError, NotFoundError
from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, RequestType
from sheetqueue.sheets.orders import Order, OrderSource
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.eligibility import decide

__all__ = [
    "EligibilityAnswer",
    "LookupGuard",
    "OrderView",
    "answer_eligibility",
    "lookup_order",
    "verified_order",
]

log = structlog.get_logger("sheetqueue.lookup")

NOT_FOUND_MESSAGE = (
    "We couldn't find an order with that order number and email. Please check both and try again."
)
LOCKED_MESSAGE = (
    "For your security, we can't look up that order right now. Please check your order "
    "confirmation email, or contact our support team and we'll help."
)


class EligibilityAnswer(BaseModel):
    """What the bot is told: may it go ahead, the Decision cell, and words for the shopper."""

    model_config = ConfigDict(frozen=True)

    eligible: bool
    decision: str
    message: str
    link: str | None = None  # the store's self-service page for this type, when configured
    stale: bool | None = None  # True: decided on the last good copy of the orders, as of as_of
    as_of: str | None = None


def verified_order(
    source: OrderSource,
    order_id: str,
    email: str,
    *,
    conversation_id: str = "",
    guard: LookupGuard | None = None,
    client: str = "",
    now: datetime,
    signed_in: bool = False,
) -> Order:
    """The order when the email matches it; NotFoundError (or LockedError) otherwise.

    ``client`` is the caller's address (the CLI passes ``cli``). ``signed_in``:
    the email is the platform's signed-in customer, not typed by the shopper;
    it is checked against the order the same way and logged as
    ``identity=signed_in``.
    """
    order_id, email = order_id.strip(), email.strip()
    if not order_id or not email:
        raise InputError("order_id and email: both are required")
    where = {"client": client or "unknown", "order_id": order_id[:64]}
    if guard is not None and guard.blocks(order_id, conversation_id, client, now):
        log.info("lookup.locked", conversation_id=conversation_id, **where)
        raise LockedError(LOCKED_MESSAGE)
    order = source.get(order_id, email)
    if order is not None and order.matches_email(email):
        identity = "signed_in" if signed_in else "order_and_email"
        log.info("lookup.verified", order_id=order_id, identity=identity)
        return order
    reached = guard is not None and guard.record_miss(order_id, conversation_id, client, now)
    log.warning("lookup.failed", conversation_id=conversation_id, locked=reached, **where)
    if reached:
        raise LockedError(LOCKED_MESSAGE)
    raise NotFoundError(NOT_FOUND_MESSAGE)


def lookup_order(
    source: OrderSource,
    order_id: str,
    email: str,
    conversation_id: str,
    guard: LookupGuard,
    now: datetime,
    *,
    zone: tzinfo = UTC,
    signed_in: bool = False,
    client: str = "",
) -> OrderView:
    """What a verified shopper may see of their order.

    Raises NotFoundError with one generic message for an unknown order and a
    wrong email alike, and LockedError once the order, the client or the
    conversation used its tries.
    """
    order = verified_order(
        source,
        order_id,
        email,
        conversation_id=conversation_id,
        guard=guard,
        client=client,
        now=now,
        signed_in=signed_in,
    )
    log.info("lookup.found", conversation_id=conversation_id, client=client or "unknown")
    return order_view(order, zone)


def answer_eligibility(
    source: OrderSource,
    order_id: str,
    email: str,
    request_type: str,
    policy: Policy,
    now: datetime,
    *,
    sku: str = "",
    damaged: bool = False,
    reason: str = "",
    conversation_id: str = "",
    guard: LookupGuard | None = None,
    zone: tzinfo = UTC,
    signed_in: bool = False,
    client: str = "",
) -> EligibilityAnswer:
    """The decision the bot would get if it recorded this request now.

    The email is verified first (same generic NotFoundError as a lookup; pass a
    ``guard`` to count failures too); then :func:`sheetqueue.worker.eligibility.decide`
    runs on a request stamped ``now``, exactly as the worker would check it.
    """
    kind = _request_type(request_type)
    order = verified_order(
        source,
        order_id,
        email,
        conversation_id=conversation_id,
        guard=guard,
        client=client,
        now=now,
        signed_in=signed_in,
    )
    details: dict[str, object] = {}
    if sku.strip():
        details["sku"] = sku.strip()
    if damaged:
        details["damaged"] = True
    request = Request(
        timestamp=format_time(now),
        type=kind.value,
        order_id=order.order_id,
        email=email.strip(),
        reason=reason,
        details=json.dumps(details) if details else "",
        conversation_id=conversation_id,
    )
    decision = decide(request, order, policy, now, zone)
    return EligibilityAnswer(
        eligible=decision.eligible, decision=decision.cell, message=decision.shopper_message
    )


def _request_type(text: str) -> RequestType:
    kind = RequestType.parse(text)
    if kind is None:
        raise InputError(f"type: unknown type {text!r}; use one of {RequestType.names()}")
    return kind
