"""Eligibility at every window edge: calendar days in the shop's zone, at the Timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sheetqueue.config.policy import Policy
from sheetqueue.sheets.model import Request, Status
from sheetqueue.sheets.times import UnreadTime, format_time
from sheetqueue.worker.eligibility import NextStep, decide
from tests import factories

DELIVERED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


make_order = partial(
    factories.make_order,
    order_id="ORD-2001",
    status="delivered",
    order_date="2026-02-20",
    shipped_at="2026-02-24T15:00:00Z",
    delivered_at=format_time(DELIVERED),
    items=[{"sku": "TEE-1", "name": "Classic Tee", "category": "apparel", "price": 30}],
)


def ask(kind: str, timestamp: str, **overrides: str) -> Request:
    values = {"type": kind, "timestamp": timestamp, "order_id": "ORD-2001"}
    values.setdefault("email", "ana@example.com")
    values.update(overrides)
    return Request(**values)


def at_day(days: float, start: datetime = DELIVERED) -> str:
    return format_time(start + timedelta(days=days))


ELECTRONICS = [{"sku": "PH-1", "name": "Phone", "category": "electronics", "price": 500}]


@pytest.mark.parametrize(
    ("kind", "items", "day", "expected"),
    [
        ("return", None, 0, "eligible:withinReturnWindow"),
        ("return", None, 30, "eligible:withinReturnWindow"),
        ("return", None, 30.49, "eligible:withinReturnWindow"),
        ("return", None, 30.51, "review:graceWindow"),  # past midnight: calendar day 31
        ("return", None, 31, "review:graceWindow"),
        ("return", None, 33, "review:graceWindow"),
        ("return", None, 34, "review:lateReturnReview"),
        ("return", None, 60, "review:lateReturnReview"),
        ("return", None, 61, "ineligible:outsideWindow"),
        ("return", ELECTRONICS, 15, "eligible:withinReturnWindow"),
        ("return", ELECTRONICS, 16, "review:graceWindow"),
        ("return", ELECTRONICS, 18, "review:graceWindow"),
        ("return", ELECTRONICS, 19, "review:lateReturnReview"),
        ("return", ELECTRONICS, 61, "ineligible:outsideWindow"),
        ("exchange", None, 30, "eligible:withinReturnWindow"),
        ("exchange", None, 31, "review:graceWindow"),
        ("exchange", ELECTRONICS, 16, "review:graceWindow"),
        ("refund", None, 14, "eligible:within14Days"),
        ("refund", None, 14.49, "eligible:within14Days"),
        ("refund", None, 14.51, "review:within60Days"),
        ("refund", None, 15, "review:within60Days"),
        ("refund", None, 60, "review:within60Days"),
        ("refund", None, 61, "review:graceWindow"),
        ("refund", None, 63, "review:graceWindow"),
        ("refund", None, 64, "ineligible:outsideWindow"),
    ],
)
def test_window_edges(kind: str, items: Any, day: float, expected: str) -> None:
    """Day N of an N-day window is in, N+1 is grace, then a manager up to day 60, then out."""
    order = make_order(**({"items": items} if items else {}))
    decision = decide(ask(kind, at_day(day)), order, Policy(), NOW)
    assert decision.cell == expected


@pytest.mark.parametrize(
    ("policy", "day", "expected"),
    [
        (Policy(grace_days=0), 30, "eligible:withinReturnWindow"),
        (Policy(grace_days=0, late_return_review=False), 31, "ineligible:outsideWindow"),
        (Policy(grace_days=0), 31, "review:lateReturnReview"),
        (Policy(late_return_review_days=45), 46, "ineligible:outsideWindow"),
        (Policy(grace_days=7), 37, "review:graceWindow"),
        (Policy(grace_days=7, late_return_review=False), 38, "ineligible:outsideWindow"),
        (Policy(return_window_days=45), 45, "eligible:withinReturnWindow"),
        (Policy(category_windows={"apparel": 10}), 10, "eligible:withinReturnWindow"),
        (Policy(category_windows={"apparel": 10}), 11, "review:graceWindow"),
    ],
)
def test_return_window_follows_the_policy(policy: Policy, day: int, expected: str) -> None:
    """Window lengths, category windows and grace days all come from the policy."""
    assert decide(ask("return", at_day(day)), make_order(), policy, NOW).cell == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (10, "eligible:withinReturnWindow"),
        (11, "review:graceWindow"),
        (14, "ineligible:outsideWindow"),
    ],
)
def test_exchange_window_when_set(day: int, expected: str) -> None:
    """policy.exchange_window_days replaces the return window for exchanges only."""
    policy = Policy(exchange_window_days=10, late_return_review=False)
    assert decide(ask("exchange", at_day(day)), make_order(), policy, NOW).cell == expected
    assert decide(ask("return", at_day(day)), make_order(), policy, NOW).cell.startswith("eligible")


@pytest.mark.parametrize(
    ("customer", "day", "expected"),
    [
        ({"total_spent": 1500.0, "order_count": 3}, 45, "eligible:withinReturnWindow"),
        ({"total_spent": 1500.0, "order_count": 3}, 46, "review:graceWindow"),
        ({"total_spent": 50.0, "order_count": 11}, 45, "eligible:withinReturnWindow"),
        ({"total_spent": 1000.0, "order_count": 10}, 31, "review:graceWindow"),
    ],
)
def test_vip_gets_extra_return_days(customer: dict[str, Any], day: int, expected: str) -> None:
    """VIPs (spent > 1000 or > 10 orders) get vip_extra_days more; the thresholds are strict."""
    order = make_order(customer=customer)
    assert decide(ask("return", at_day(day)), order, Policy(), NOW).cell == expected


@pytest.mark.parametrize(
    ("timestamp", "zone", "expected"),
    [
        # delivered 2026-03-01 12:00Z (07:00 in New York): day 14 ends at local midnight
        ("2026-03-15T23:30:00", UTC, "eligible:within14Days"),
        ("2026-03-16T00:30:00", UTC, "review:within60Days"),
        # naive times are taken in the store's zone
        ("2026-03-15T23:30:00", NEW_YORK, "eligible:within14Days"),
        # an explicit offset wins over the store's zone; the day is the shop's
        ("2026-03-16T02:00:00Z", NEW_YORK, "eligible:within14Days"),  # 22:00 on the 15th
        ("2026-03-16T02:00:00Z", UTC, "review:within60Days"),
        ("2026-03-16T17:00:00+05:30", NEW_YORK, "review:within60Days"),  # 07:30 on the 16th
        # what a person types in a sheet, month first
        ("3/15/2026 23:59:00", NEW_YORK, "eligible:within14Days"),
        ("3/16/2026 0:00:00", NEW_YORK, "review:within60Days"),
    ],
)
def test_time_zones_decide_the_day(timestamp: str, zone: tzinfo, expected: str) -> None:
    """The request's instant, with its offset or the store zone, sets the day count."""
    decision = decide(ask("refund", timestamp), make_order(), Policy(), NOW, zone)
    assert decision.cell == expected


@pytest.mark.parametrize(
    ("delivered", "kind", "asked", "expected"),
    [
        ("2028-02-28T12:00:00Z", "return", "2028-03-29T12:00:00Z", "eligible:withinReturnWindow"),
        ("2028-02-28T12:00:00Z", "return", "2028-03-30T12:00:00Z", "review:graceWindow"),
        ("2028-02-29T12:00:00Z", "refund", "2028-03-14T12:00:00Z", "eligible:within14Days"),
        ("2028-02-29T12:00:00Z", "refund", "2028-03-15T12:00:00Z", "review:within60Days"),
        ("2027-02-28T12:00:00Z", "return", "2027-03-30T12:00:00Z", "eligible:withinReturnWindow"),
    ],
)
def test_leap_day_counts_as_a_day(delivered: str, kind: str, asked: str, expected: str) -> None:
    """February 29 is a day like any other: 2028-02-28 to 2028-03-30 is 31 days."""
    order = make_order(delivered_at=delivered)
    decision = decide(ask(kind, asked), order, Policy(), datetime(2028, 6, 1, tzinfo=UTC))
    assert decision.cell == expected


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("2026-03-31T23:59:00", "eligible:withinReturnWindow"),  # calendar day 30
        ("2026-04-01T00:01:00", "review:graceWindow"),  # day 31, though 30 days 22.5 h elapsed
    ],
)
def test_a_dst_change_does_not_move_the_last_day(asked: str, expected: str) -> None:
    """Delivered 1 March 00:30 New York time (EST): after the DST change, calendar days still."""
    order = make_order(delivered_at="2026-03-01T05:30:00Z")
    decision = decide(ask("return", asked), order, Policy(), NOW, NEW_YORK)
    assert decision.cell == expected


def test_window_is_measured_at_the_timestamp_not_now() -> None:
    """A request asked on day 10 stays eligible even when the check runs on day 200."""
    decision = decide(ask("return", at_day(10)), make_order(), Policy(), DELIVERED + timedelta(200))
    assert decision.cell == "eligible:withinReturnWindow"
    assert decision.status is Status.ELIGIBLE


def test_timestamp_after_now_is_measured_at_now() -> None:
    """A Timestamp later than the check (a clock ahead) is measured at now, not later."""
    now = DELIVERED + timedelta(days=20)
    decision = decide(ask("refund", at_day(40)), make_order(), Policy(), now)
    assert decision.cell == "review:within60Days"
    assert "20 days" in decision.note


def test_order_state_is_read_at_now() -> None:
    """A cancellation asked while processing is ineligible once the order data says shipped."""
    asked = ask("cancellation", "2026-02-21T09:00:00Z")
    processing = make_order(status="processing", shipped_at=None, delivered_at=None)
    shipped = make_order(status="shipped", delivered_at=None)
    assert decide(asked, processing, Policy(), NOW).cell == "eligible:notYetShipped"
    later = decide(asked, shipped, Policy(), NOW)
    assert later.cell == "ineligible:alreadyShipped"
    assert later.next_step is NextStep.RETURN


@pytest.mark.parametrize("timestamp", ["", "yesterday", "31/31/2026", "2026-13-01"])
def test_unreadable_timestamp_goes_to_review(timestamp: str) -> None:
    """An unreadable Timestamp is never guessed: review, with the cell named in the note."""
    decision = decide(ask("return", timestamp), make_order(), Policy(), NOW)
    assert decision.cell == "review:unreadableTimestamp"
    assert repr(timestamp) in decision.note


def test_a_timestamp_the_sheet_did_not_settle_goes_to_review_naming_the_cell() -> None:
    """A marked Timestamp ('05/04/2026' on a ja_JP sheet) is not read month first: review."""
    marked = UnreadTime("05/04/2026", "'05/04/2026' is ambiguous", "Requests!B7")
    decision = decide(ask("return", marked), make_order(), Policy(), NOW)
    assert decision.cell == "review:unreadableTimestamp"
    assert "the cell Requests!B7 (timestamp): '05/04/2026' is ambiguous" in decision.note
