"""Eligibility rules: types, order states, items, damage, tiers, and the words of each outcome."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.orders import Order
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.eligibility import Decision, NextStep, Outcome, decide
from tests import factories

DELIVERED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TEE = {"sku": "TEE-1", "name": "Classic Tee", "category": "apparel", "price": 30}
SALE = {"sku": "SALE-1", "name": "Clearance Hoodie", "category": "apparel", "final_sale": True}
CARD = {"sku": "GC-50", "name": "Gift Card", "category": "gift_card"}


make_order = partial(
    factories.make_order,
    order_id="ORD-3001",
    email="Ana@Example.com",
    status="delivered",
    order_date="2026-02-20",
    shipped_at="2026-02-24T15:00:00Z",
    delivered_at=format_time(DELIVERED),
    items=[TEE],
)


def ask(kind: str, day: float = 5, **overrides: Any) -> Request:
    values: dict[str, Any] = {
        "type": kind,
        "timestamp": format_time(DELIVERED + timedelta(days=day)),
        "order_id": "ORD-3001",
        "email": " ana@example.COM ",
    }
    if "details" in overrides and isinstance(overrides["details"], dict):
        overrides["details"] = json.dumps(overrides["details"])
    values.update(overrides)
    return Request(**values)


def check(request: Request, order: Order | None = None, policy: Policy | None = None) -> Decision:
    return decide(request, order, policy or Policy(), NOW)


@pytest.mark.parametrize(
    ("kind", "status", "expected", "step"),
    [
        ("cancellation", "processing", "eligible:notYetShipped", NextStep.PROCEED),
        ("cancellation", "shipped", "ineligible:alreadyShipped", NextStep.RETURN),
        ("cancellation", "delivered", "ineligible:alreadyShipped", NextStep.RETURN),
        ("cancellation", "cancelled", "ineligible:alreadyCancelled", NextStep.NONE),
        ("cancellation", "refunded", "ineligible:alreadyRefunded", NextStep.NONE),
        ("address_change", "processing", "eligible:notYetShipped", NextStep.PROCEED),
        ("address_change", "shipped", "ineligible:alreadyShipped", NextStep.RESHIP_ON_RETURN),
        ("address_change", "cancelled", "ineligible:alreadyCancelled", NextStep.NONE),
        ("refund", "processing", "ineligible:notDelivered", NextStep.CANCEL),
        ("refund", "shipped", "ineligible:notDelivered", NextStep.WAIT_FOR_DELIVERY),
        ("refund", "refunded", "ineligible:alreadyRefunded", NextStep.NONE),
        ("refund", "cancelled", "ineligible:alreadyCancelled", NextStep.NONE),
        ("return", "processing", "ineligible:notDelivered", NextStep.CANCEL),
        ("return", "shipped", "ineligible:notDelivered", NextStep.WAIT_FOR_DELIVERY),
        ("exchange", "shipped", "ineligible:notDelivered", NextStep.WAIT_FOR_DELIVERY),
    ],
)
def test_order_state_rules(kind: str, status: str, expected: str, step: NextStep) -> None:
    """Cancel and address change only while processing; refunds and returns once delivered."""
    decision = check(ask(kind), make_order(status=status))
    assert (decision.cell, decision.next_step) == (expected, step)


def test_refunded_at_counts_even_when_status_says_delivered() -> None:
    """A refund date in the order data means refunded, whatever the status word."""
    order = make_order(refunded_at="2026-03-05T10:00:00Z")
    decision = check(ask("refund"), order)
    assert decision.cell == "ineligible:alreadyRefunded"
    assert "2026-03-05" in decision.note


def test_types_that_need_no_order() -> None:
    """Unsubscribe is always eligible and support always goes to review, order or not."""
    assert check(ask("unsubscribe", order_id="")).cell == "eligible:unsubscribe"
    assert check(ask("support")).cell == "review:supportHandoff"
    assert check(ask("Address Change"), make_order(status="processing")).cell.startswith("eligible")
    assert check(ask("refund me")).cell == "review:unknownType"


def test_unknown_order_and_wrong_email_read_the_same_to_the_shopper() -> None:
    """Not found and email mismatch both go to review, and the shopper cannot tell them apart."""
    missing = check(ask("return"), None)
    mismatch = check(ask("return", email="eve@example.com"), make_order())
    assert missing.cell == "review:orderNotFound"
    assert mismatch.cell == "review:emailMismatch"
    assert missing.shopper_message == mismatch.shopper_message
    assert "ana@" not in mismatch.shopper_message.lower()
    assert "ana@" not in mismatch.note.lower()


@pytest.mark.parametrize(
    ("items", "details", "expected"),
    [
        ([SALE], {}, "ineligible:finalSale"),
        ([CARD], {}, "ineligible:nonReturnable"),
        ([{**TEE, "category": "Personalized"}], {}, "ineligible:nonReturnable"),
        ([TEE, SALE], {"sku": "tee-1"}, "eligible:withinReturnWindow"),
        ([TEE, SALE], {"sku": "SALE-1"}, "ineligible:finalSale"),
        ([TEE, SALE], {"sku": "NOPE-9"}, "review:skuNotInOrder"),
        ([SALE], {"damaged": True}, "review:damagedItem"),
        ([CARD], {"damaged": "yes"}, "review:damagedItem"),
        ([], {}, "eligible:withinReturnWindow"),
    ],
)
def test_item_rules(items: list[dict[str, Any]], details: dict[str, Any], expected: str) -> None:
    """Final sale and non-returnable items are refused unless damaged; a SKU picks one item."""
    assert check(ask("return", details=details), make_order(items=items)).cell == expected


def test_damaged_any_time_offers_replacement_or_refund() -> None:
    """A damaged item goes to review at day 400, with a replacement or refund offered."""
    decision = check(ask("return", day=400, details={"damaged": True}), make_order())
    assert decision.cell == "review:damagedItem"
    assert decision.next_step is NextStep.REPLACEMENT_OR_REFUND
    assert "replacement or a full refund" in decision.shopper_message


@pytest.mark.parametrize(
    ("reason", "damaged"),
    [
        ("The mug arrived broken", True),
        ("screen is cracked", True),
        ("it is DEFECTIVE", True),
        ("doesn't work at all", True),
        ("it is not damaged, just too small", False),
        ("wrong size", False),
        ("", False),
    ],
)
def test_damage_read_from_the_reason(reason: str, damaged: bool) -> None:
    """The reason's words mark an item damaged; a negated word does not."""
    decision = check(ask("refund", day=100, reason=reason), make_order())
    assert (decision.code == "damagedItem") is damaged


def test_details_that_are_not_json_are_ignored() -> None:
    """Free text in Details is no error: it is read as no SKU and not damaged."""
    decision = check(ask("return", details="size M please"), make_order())
    assert decision.cell == "eligible:withinReturnWindow"


def test_mixed_items_say_which_pass() -> None:
    """All items must pass; the note and the message name the failing and the passing items."""
    decision = check(ask("return"), make_order(items=[TEE, SALE]))
    assert decision.cell == "ineligible:finalSale"
    assert decision.next_step is NextStep.RETURN
    assert "Clearance Hoodie is a final-sale item" in decision.note
    assert "Classic Tee is within its 30-day window" in decision.note
    assert decision.shopper_message.startswith("Clearance Hoodie was sold as final sale")
    assert "Classic Tee can still be returned" in decision.shopper_message


def test_whole_order_with_electronics_uses_the_shorter_window() -> None:
    """Without a SKU, a phone at day 17 holds the whole order to review while the tee passes."""
    phone = {"sku": "PH-1", "name": "Phone", "category": "electronics"}
    decision = check(ask("return", day=17), make_order(items=[TEE, phone]))
    assert decision.cell == "review:graceWindow"
    assert "Phone is 2 days past its 15-day window" in decision.note


@pytest.mark.parametrize(
    ("customer", "policy", "expected"),
    [
        ({"total_spent": 1500.0, "order_count": 3}, Policy(), "eligible:vipFullRefund"),
        ({"total_spent": 10.0, "order_count": 11}, Policy(), "eligible:vipFullRefund"),
        (
            {"total_spent": 1500.0, "order_count": 3},
            Policy(vip_full_refund=False),
            "review:within60Days",
        ),
        ({"total_spent": 40.0, "order_count": 1}, Policy(), "eligible:firstOrderFullRefund"),
        (
            {"total_spent": 40.0, "order_count": 1},
            Policy(first_order_full_refund=False),
            "review:within60Days",
        ),
        ({"total_spent": 0.0, "order_count": 0}, Policy(), "review:within60Days"),
        ({"total_spent": 200.0, "order_count": 3}, Policy(), "review:within60Days"),
    ],
)
def test_customer_tiers_on_refunds(customer: dict[str, Any], policy: Policy, expected: str) -> None:
    """VIP and first-order customers get a full refund within 60 days; others go to review."""
    assert check(ask("refund", day=30), make_order(customer=customer), policy).cell == expected


def test_first_order_message_offers_the_discount_code() -> None:
    """When the policy names a code, the first-order refund message offers it."""
    order = make_order(customer={"total_spent": 40.0, "order_count": 1})
    with_code = check(ask("refund", day=30), order, Policy(first_order_discount_code="WELCOME10"))
    without = check(ask("refund", day=30), order)
    assert "WELCOME10" in with_code.shopper_message
    assert "code" not in without.shopper_message


def test_delivered_without_a_date_goes_to_review() -> None:
    """A delivered order with no delivery date cannot be measured, so a person decides."""
    decision = check(ask("return"), make_order(delivered_at=None))
    assert decision.cell == "review:missingDeliveryDate"


def test_decision_maps_to_status_and_cell() -> None:
    """Each outcome moves the row to its status; the cell is outcome:code."""
    assert check(ask("refund"), make_order()).status is Status.ELIGIBLE
    assert check(ask("support")).status is Status.NEEDS_REVIEW
    refused = check(ask("cancellation"), make_order())
    assert refused.status is Status.INELIGIBLE
    assert refused.outcome is Outcome.INELIGIBLE
    assert refused.cell == "ineligible:alreadyShipped"
    assert not refused.eligible


def test_every_outcome_has_its_own_words() -> None:
    """Different codes never share one generic shopper message; notes are one sentence."""
    processing = make_order(status="processing")
    decisions = [
        check(ask("cancellation"), processing),
        check(ask("cancellation"), make_order()),
        check(ask("address_change"), processing),
        check(ask("address_change"), make_order(status="shipped")),
        check(ask("refund", day=3), make_order()),
        check(ask("refund", day=30), make_order()),
        check(ask("refund", day=90), make_order()),
        check(ask("refund"), processing),
        check(ask("refund"), make_order(status="refunded")),
        check(ask("return", day=3), make_order()),
        check(ask("exchange", day=3), make_order()),
        check(ask("return", day=32), make_order()),
        check(ask("return", day=50), make_order()),
        check(ask("return"), make_order(items=[SALE])),
        check(ask("return", details={"damaged": True}), make_order()),
        check(ask("unsubscribe")),
        check(ask("support")),
        check(ask("return"), None),
    ]
    messages = [decision.shopper_message for decision in decisions]
    assert len(set(messages)) == len(messages)
    for decision in decisions:
        assert decision.note.endswith(".")
        assert ". " not in decision.note, decision.note
