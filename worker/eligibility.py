"""Eligibility: is a request allowed by the store's policy, at the moment it was asked?

:func:`decide` is a pure function of (request, order, policy, now): no I/O, no
clock. The worker calls it on every open row; the bot's eligibility answer
calls it with a request stamped "now". It returns a :class:`Decision`: an
outcome (``eligible``, ``review``, ``ineligible``), a code for the ``Decision``
cell, one sentence for the team's ``Worker Note``, words for the shopper and
the next step to offer them.

Two moments matter. Windows (return, exchange, refund) are measured at the
request's ``Timestamp``, so a slow team never costs a shopper their return.
The order's state (shipped, cancelled, refunded) is what the order data says
at ``now``, when the check runs: a cancellation asked while the order was
``processing`` becomes ineligible once the order has shipped.

Codes, by outcome (``<outcome>:<code>`` in the Decision cell):

- eligible: ``notYetShipped`` (cancel / address change), ``withinReturnWindow``,
  ``retentionOffer`` (a partial refund taken instead of a cancellation),
  ``within14Days``, ``vipFullRefund``, ``vipNoQuestions``, ``firstOrderFullRefund``,
  ``unsubscribe``
- review: ``within60Days``, ``graceWindow``, ``lateReturnReview``, ``investigation``,
  ``damagedItem``, ``orderNotFound``,
  ``emailMismatch``, ``skuNotInOrder``, ``missingDeliveryDate``,
  ``unreadableTimestamp``, ``unknownType``, ``supportHandoff``
- wait (stays ``Pending``, checked again each pass): ``carrierGrace``
- ineligible: ``alreadyShipped``, ``alreadyCancelled``, ``alreadyRefunded``,
  ``notDelivered``, ``outsideWindow``, ``finalSale``, ``nonReturnable``

A damaged or defective item (``{"damaged": true}`` in Details, or the Reason
saying so) goes to review whatever the window or final-sale flag, once the
order has shipped. Without a SKU every item of the order must pass; the worst
item decides and the words name the items on each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, RequestType, Status
from sheetqueue.sheets.orders import Item, Order, OrderStatus
from sheetqueue.sheets.times import parse_time
from sheetqueue.worker import policy_rules as rules
from sheetqueue.worker import shopper_messages, team_notes
from sheetqueue.worker.decision_codes import Code, Outcome
from sheetqueue.worker.eligibility_text import Texts
from sheetqueue.worker.retention import PartialRefund, offer_amount, read_partial_refund

__all__ = ["Code", "Decision", "NextStep", "Outcome", "decide"]


class NextStep(StrEnum):
    """What the shopper is offered next."""

    PROCEED = "proceed"  # the team carries out what was asked
    RETURN = "return"  # too late to cancel: return it once it arrives
    REPLACEMENT_OR_REFUND = "replacement_or_refund"  # damaged or defective item
    ESCALATE = "escalate"  # ask the team for an exception
    CANCEL = "cancel"  # not shipped yet: cancelling is the way to get the money back
    WAIT_FOR_DELIVERY = "wait_for_delivery"  # on its way; ask again once it arrives
    RESHIP_ON_RETURN = "reship_on_return"  # shipped to the old address; reshipped if it comes back
    CHECK_DETAILS = "check_details"  # the order number or email needs checking
    TEAM_REVIEW = "team_review"  # a person will get back to them
    NONE = "none"  # nothing more to offer


_STATUS_BY_OUTCOME = {
    Outcome.ELIGIBLE: Status.ELIGIBLE,
    Outcome.REVIEW: Status.NEEDS_REVIEW,
    Outcome.INELIGIBLE: Status.INELIGIBLE,
    Outcome.WAIT: Status.PENDING,
}
_SEVERITY = {Outcome.ELIGIBLE: 0, Outcome.WAIT: 1, Outcome.REVIEW: 1, Outcome.INELIGIBLE: 2}


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one request."""

    outcome: Outcome
    code: Code
    note: str
    shopper_message: str
    next_step: NextStep = NextStep.NONE

    @property
    def cell(self) -> str:
        """What the ``Decision`` column holds: ``eligible:within14Days``."""
        return f"{self.outcome.value}:{self.code.value}"

    @property
    def status(self) -> Status:
        """The status the worker moves a Pending request to."""
        return _STATUS_BY_OUTCOME[self.outcome]

    @property
    def eligible(self) -> bool:
        return self.outcome is Outcome.ELIGIBLE


def decide(
    request: Request, order: Order | None, policy: Policy, now: datetime, zone: tzinfo = UTC
) -> Decision:
    """The decision on ``request`` given its ``order`` (None when not found) at ``now``."""
    kind = request.parsed_type
    text = Texts(request=request, order=order, policy=policy, zone=zone)
    if kind is None:
        return _review(Code.UNKNOWN_TYPE, text, NextStep.TEAM_REVIEW)
    if kind is RequestType.UNSUBSCRIBE:
        return _make(Outcome.ELIGIBLE, Code.UNSUBSCRIBE, text, NextStep.PROCEED)
    not_received = kind is RequestType.SUPPORT and rules.reports_not_received(
        request.details, request.reason
    )
    if kind is RequestType.SUPPORT and not not_received:
        return _review(Code.SUPPORT_HANDOFF, text, NextStep.TEAM_REVIEW)
    if order is None:
        return _review(Code.ORDER_NOT_FOUND, text, NextStep.CHECK_DETAILS)
    if not order.matches_email(request.email):
        return _review(Code.EMAIL_MISMATCH, text, NextStep.CHECK_DETAILS)
    if order.unread_dates:
        return _review(Code.UNREADABLE_ORDER_DATE, text, NextStep.TEAM_REVIEW)
    if not_received:
        return _not_received(order, policy, now, text)
    offer = read_partial_refund(request.details) if kind is RequestType.REFUND else None
    if offer is not None:
        return _retention_refund(order, offer, text)
    details = rules.read_details(request.details, request.reason)
    items: Sequence[Item] = order.items
    if details.sku:
        found = rules.find_item(order, details.sku)
        if found is None:
            return _review(
                Code.SKU_NOT_IN_ORDER, text.with_sku(details.sku), NextStep.CHECK_DETAILS
            )
        items = (found,)
        text = text.with_items(items)
    if kind in (RequestType.CANCELLATION, RequestType.ADDRESS_CHANGE):
        return _before_shipping(kind, order, text)
    return _after_delivery(kind, order, items, details.damaged, policy, now, text)


def _retention_refund(order: Order, offer: PartialRefund, text: Texts) -> Decision:
    """A partial refund agreed instead of a cancellation: fine unless the order is gone."""
    if order.status is OrderStatus.REFUNDED or order.refunded_at is not None:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_REFUNDED, text, NextStep.NONE)
    if order.status is OrderStatus.CANCELLED:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_CANCELLED, text, NextStep.NONE)
    amount = offer_amount(order, offer.percent)
    text = text.with_offer(offer.percent, amount, offer.ladder)
    return _make(Outcome.ELIGIBLE, Code.RETENTION_OFFER, text, NextStep.PROCEED)


def _not_received(order: Order, policy: Policy, now: datetime, text: Texts) -> Decision:
    """Delivered but not received: wait out the carrier's early scans, then investigate.

    Measured at ``now``, not at the request's time: the wait is for the parcel.
    """
    if order.status is not OrderStatus.DELIVERED or order.delivered_at is None:
        return _review(Code.SUPPORT_HANDOFF, text, NextStep.TEAM_REVIEW)
    ready_at = order.delivered_at + timedelta(hours=policy.not_received_wait_hours)
    if now < ready_at:
        return _make(Outcome.WAIT, Code.CARRIER_GRACE, text.with_until(ready_at), NextStep.NONE)
    return _review(Code.INVESTIGATION, text, NextStep.TEAM_REVIEW)


def _before_shipping(kind: RequestType, order: Order, text: Texts) -> Decision:
    """Cancellation and address change: only while the order is ``processing``."""
    if order.status is OrderStatus.PROCESSING:
        return _make(Outcome.ELIGIBLE, Code.NOT_YET_SHIPPED, text, NextStep.PROCEED)
    if order.status is OrderStatus.CANCELLED:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_CANCELLED, text, NextStep.NONE)
    if order.status is OrderStatus.REFUNDED:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_REFUNDED, text, NextStep.NONE)
    step = NextStep.RETURN if kind is RequestType.CANCELLATION else NextStep.RESHIP_ON_RETURN
    return _make(Outcome.INELIGIBLE, Code.ALREADY_SHIPPED, text, step)


def _after_delivery(
    kind: RequestType,
    order: Order,
    items: Sequence[Item],
    damaged: bool,
    policy: Policy,
    now: datetime,
    text: Texts,
) -> Decision:
    """Refund, return and exchange: the order state first, then the windows."""
    if order.status is OrderStatus.REFUNDED or order.refunded_at is not None:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_REFUNDED, text, NextStep.NONE)
    if order.status is OrderStatus.CANCELLED:
        return _make(Outcome.INELIGIBLE, Code.ALREADY_CANCELLED, text, NextStep.NONE)
    if damaged and order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return _review(Code.DAMAGED_ITEM, text, NextStep.REPLACEMENT_OR_REFUND)
    if order.status is not OrderStatus.DELIVERED:
        step = (
            NextStep.CANCEL
            if order.status is OrderStatus.PROCESSING
            else NextStep.WAIT_FOR_DELIVERY
        )
        return _make(Outcome.INELIGIBLE, Code.NOT_DELIVERED, text, step)
    if order.delivered_at is None:
        return _review(Code.MISSING_DELIVERY_DATE, text, NextStep.TEAM_REVIEW)
    asked_at = parse_time(text.request.timestamp, text.zone)
    if asked_at is None:
        return _review(Code.UNREADABLE_TIMESTAMP, text, NextStep.TEAM_REVIEW)
    asked_at = min(asked_at, now)  # a clock ahead of ours cannot stretch a window
    days = rules.days_between(order.delivered_at, asked_at, text.zone)
    text = text.with_days(days)
    vip = rules.is_vip(order.customer, policy)
    scope = tuple(items) or (Item(),)
    if kind is RequestType.REFUND:
        return _refund(scope, days, vip, rules.is_first_order(order.customer), policy, text)
    exchange = kind is RequestType.EXCHANGE
    checks = [
        rules.check_item_window(item, days, policy, exchange=exchange, vip=vip) for item in scope
    ]
    return _from_checks(checks, text)


def _refund(
    items: Sequence[Item], days: int, vip: bool, first: bool, policy: Policy, text: Texts
) -> Decision:
    """Full within 14 days, partial or store credit (review) within 60, refused after."""
    checks = [
        rules.check_item_kind(item, policy)
        or rules.ItemCheck(item, Outcome.ELIGIBLE, Code.REFUNDABLE)
        for item in items
    ]
    if any(check.outcome is not Outcome.ELIGIBLE for check in checks):
        return _from_checks(checks, text)
    if days <= policy.full_refund_days:
        return _make(Outcome.ELIGIBLE, Code.WITHIN_14_DAYS, text, NextStep.PROCEED)
    if vip and policy.vip_refund_no_questions:
        return _make(Outcome.ELIGIBLE, Code.VIP_NO_QUESTIONS, text, NextStep.PROCEED)
    if days <= policy.partial_refund_days:
        if vip and policy.vip_full_refund:
            return _make(Outcome.ELIGIBLE, Code.VIP_FULL_REFUND, text, NextStep.PROCEED)
        if first and policy.first_order_full_refund:
            return _make(Outcome.ELIGIBLE, Code.FIRST_ORDER_FULL_REFUND, text, NextStep.PROCEED)
        return _review(Code.WITHIN_60_DAYS, text, NextStep.TEAM_REVIEW)
    if days <= policy.partial_refund_days + policy.grace_days:
        return _review(
            Code.GRACE_WINDOW, text.with_window(policy.partial_refund_days), NextStep.ESCALATE
        )
    return _make(
        Outcome.INELIGIBLE,
        Code.OUTSIDE_WINDOW,
        text.with_window(policy.partial_refund_days),
        NextStep.ESCALATE,
    )


def _from_checks(checks: Sequence[rules.ItemCheck], text: Texts) -> Decision:
    """Every item must pass; the worst item decides, and the words say which."""
    worst = max(checks, key=lambda check: _SEVERITY[check.outcome])
    outcome = worst.outcome
    text = text.with_checks(checks, worst)
    if outcome is Outcome.ELIGIBLE:
        return _make(outcome, worst.code, text, NextStep.PROCEED)
    if worst.code in (Code.GRACE_WINDOW, Code.LATE_RETURN_REVIEW):
        return _review(worst.code, text, NextStep.ESCALATE)
    has_passing = any(check.outcome is Outcome.ELIGIBLE for check in checks)
    if worst.code == Code.OUTSIDE_WINDOW:
        step = NextStep.ESCALATE
    else:
        step = NextStep.RETURN if has_passing else NextStep.NONE
    return _make(outcome, worst.code, text, step)


def _review(code: Code, text: Texts, step: NextStep) -> Decision:
    return _make(Outcome.REVIEW, code, text, step)


def _make(outcome: Outcome, code: Code, text: Texts, step: NextStep) -> Decision:
    return Decision(
        outcome=outcome,
        code=code,
        note=team_notes.note(text, code),
        shopper_message=shopper_messages.message(text, code),
        next_step=step,
    )
