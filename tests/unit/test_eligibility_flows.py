"""Pure decisions of the shop's flows: not received, VIP no questions, late returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.orders import Order
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.eligibility import decide
from tests.factories import make_order

DELIVERED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _delivered(**overrides: object) -> Order:
    return make_order(status="delivered", delivered_at=format_time(DELIVERED), **overrides)


def _support(reason: str = "", details: str = "") -> Request:
    return Request(
        type="support",
        timestamp=format_time(DELIVERED),
        order_id="ORD-1001",
        email="ana@example.com",
        reason=reason,
        details=details,
    )


@pytest.mark.parametrize(
    ("hours", "cell", "status"),
    [
        (1, "wait:carrierGrace", Status.PENDING),
        (47.9, "wait:carrierGrace", Status.PENDING),
        (48, "review:investigation", Status.NEEDS_REVIEW),
    ],
)
def test_not_received_waits_out_the_carrier_then_is_investigated(
    hours: float, cell: str, status: Status
) -> None:
    """Measured at the check: under 48 h the request waits, from 48 h it is an investigation."""
    now = DELIVERED + timedelta(hours=hours)
    decision = decide(_support(details='{"issue": "not_received"}'), _delivered(), Policy(), now)
    assert (decision.cell, decision.status) == (cell, status)


@pytest.mark.parametrize(
    ("reason", "cell"),
    [
        ("It says delivered but it never arrived", "review:investigation"),
        ("I did not receive the parcel", "review:investigation"),
        ("Please call me about sizes", "review:supportHandoff"),
    ],
)
def test_not_received_is_read_from_the_shoppers_words(reason: str, cell: str) -> None:
    """A support request saying the parcel never came follows the not-received flow."""
    now = DELIVERED + timedelta(days=3)
    assert decide(_support(reason=reason), _delivered(), Policy(), now).cell == cell


def test_not_received_on_an_order_not_yet_delivered_goes_to_a_person() -> None:
    """An order still in transit has nothing to investigate yet: a person answers."""
    order = make_order(status="shipped")
    decision = decide(_support(details='{"issue": "not_received"}'), order, Policy(), DELIVERED)
    assert decision.cell == "review:supportHandoff"


def test_vip_no_questions_refunds_any_time_after_delivery() -> None:
    """With the switch on, a VIP refund 200 days after delivery is eligible; off, refused."""
    order = _delivered(customer={"total_spent": 5000.0, "order_count": 30})
    asked = Request(
        type="refund",
        timestamp=format_time(DELIVERED + timedelta(days=200)),
        order_id="ORD-1001",
        email="ana@example.com",
    )
    now = DELIVERED + timedelta(days=201)
    on = decide(asked, order, Policy(vip_refund_no_questions=True), now)
    off = decide(asked, order, Policy(), now)
    assert (on.cell, off.cell) == ("eligible:vipNoQuestions", "ineligible:outsideWindow")


def test_late_return_review_can_be_switched_off() -> None:
    """late_return_review = false gives the flat no past the grace days."""
    asked = Request(
        type="return",
        timestamp=format_time(DELIVERED + timedelta(days=40)),
        order_id="ORD-1001",
        email="ana@example.com",
    )
    now = DELIVERED + timedelta(days=41)
    assert decide(asked, _delivered(), Policy(), now).cell == "review:lateReturnReview"
    off = decide(asked, _delivered(), Policy(late_return_review=False), now)
    assert off.cell == "ineligible:outsideWindow"
