"""Verified order lookup: identity check, one generic not-found, the lock, eligibility."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from sheetqueue.bot_actions.lookup import (
    LOCKED_MESSAGE,
    NOT_FOUND_MESSAGE,
    LookupGuard,
    answer_eligibility,
    lookup_order,
)
from sheetqueue.config.errors import InputError, LockedError, NotFoundError, StoreError
from sheetqueue.config.policy import Policy
from sheetqueue.sheets.order_sources import RecordsOrderSource
from sheetqueue.sheets.orders import Order
from sheetqueue.worker.ledger import Ledger
from tests import factories

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


make_order = partial(
    factories.make_order,
    status="delivered",
    shipped_at="2026-11-03T10:00:00Z",
    delivered_at="2026-11-10T16:00:00Z",
    items=[{"sku": "TEE-1", "name": "Classic Tee", "qty": 2, "price": 29.99}],
    carrier="UPS",
    tracking_number="1Z999AA10123456784",
    payment_method="Visa 4111 1111 1111 4242",
)


@pytest.fixture
def guard(tmp_path: Path) -> Iterator[LookupGuard]:
    opened = LookupGuard(tmp_path / "state.db", max_failures=2)
    yield opened
    opened.close()


def source(*orders: Order) -> RecordsOrderSource:
    return RecordsOrderSource(orders or (make_order(),))


def test_lookup_with_matching_email(guard: LookupGuard) -> None:
    """Order number and email (trimmed, any case) both match: the shopper's view comes back."""
    view = lookup_order(source(), " ord-1001 ", " ANA@Example.com ", "conv-1", guard, NOW)
    assert view.order_id == "ORD-1001"
    assert view.status == "delivered"
    assert view.payment == "Visa ending in 4242"
    assert (view.city, view.postal_code) == ("Austin", "78701")


def test_unknown_order_and_wrong_email_read_the_same(guard: LookupGuard) -> None:
    """A wrong email and an unknown order give one identical generic message."""
    with pytest.raises(NotFoundError) as wrong_email:
        lookup_order(source(), "ORD-1001", "eve@example.com", "conv-a", guard, NOW)
    with pytest.raises(NotFoundError) as unknown:
        lookup_order(source(), "ORD-9999", "ana@example.com", "conv-b", guard, NOW)
    assert str(wrong_email.value) == str(unknown.value) == NOT_FOUND_MESSAGE


def test_second_failure_locks_the_conversation(guard: LookupGuard) -> None:
    """The 2nd failed try locks the conversation, even for the right email; others are free."""
    with pytest.raises(NotFoundError):
        lookup_order(source(), "ORD-1001", "eve@example.com", "conv-1", guard, NOW)
    with pytest.raises(LockedError) as locked:
        lookup_order(source(), "ORD-1001", "eve2@example.com", "conv-1", guard, NOW)
    assert "confirmation email" in str(locked.value) and "support" in str(locked.value)
    with pytest.raises(LockedError):
        lookup_order(source(), "ORD-1001", "ana@example.com", "conv-1", guard, NOW)
    assert lookup_order(source(), "ORD-1001", "ana@example.com", "conv-2", guard, NOW)


def test_success_does_not_reset_the_count(guard: LookupGuard) -> None:
    """Fail, succeed, fail: two failures in one conversation still lock it."""
    with pytest.raises(NotFoundError):
        lookup_order(source(), "ORD-1001", "eve@example.com", "conv-1", guard, NOW)
    lookup_order(source(), "ORD-1001", "ana@example.com", "conv-1", guard, NOW)
    with pytest.raises(LockedError):
        lookup_order(source(), "ORD-7", "ana@example.com", "conv-1", guard, NOW)


def test_without_conversation_the_short_order_limit_applies_not_a_day(tmp_path: Path) -> None:
    """No conversation id: the order number's misses lock it for the short window only."""
    guard = LookupGuard(tmp_path / "state.db", 2, per_order=3, order_window=timedelta(minutes=15))
    for attempt, error in enumerate((NotFoundError, NotFoundError, LockedError)):
        with pytest.raises(error):
            lookup_order(source(), "ORD-1001", f"guess{attempt}@x.com", "", guard, NOW)
    with pytest.raises(LockedError):
        lookup_order(source(), "ord-1001", "ana@example.com", " ", guard, NOW)
    later = NOW + timedelta(minutes=15)
    assert lookup_order(source(), "ORD-1001", "ana@example.com", "", guard, later)
    guard.close()


def test_fresh_conversations_do_not_reset_the_order_limit(tmp_path: Path) -> None:
    """Misses on one order in new conversations each lock the order, the right email included."""
    guard = LookupGuard(tmp_path / "state.db", 2, per_order=4, per_client=100)
    outcomes = []
    for attempt in range(6):
        try:
            lookup_order(source(), "ORD-1001", f"g{attempt}@x.com", f"c{attempt}", guard, NOW)
        except (NotFoundError, LockedError) as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes == ["NotFoundError"] * 3 + ["LockedError"] * 3
    with pytest.raises(LockedError, match="For your security"):
        lookup_order(source(), "ORD-1001", "ana@example.com", "fresh", guard, NOW, client="other")
    assert lookup_order(
        source(), "ORD-1001", "ana@example.com", "x", guard, NOW + timedelta(hours=1)
    )
    guard.close()


def test_one_client_walking_order_numbers_is_limited(tmp_path: Path) -> None:
    """Misses on many order numbers from one address lock that address, not others."""
    guard = LookupGuard(tmp_path / "state.db", 2, per_order=5, per_client=3)
    for number in range(2):
        with pytest.raises(NotFoundError):
            lookup_order(source(), f"ORD-{number}", "a@x.com", "", guard, NOW, client="10.0.0.9")
    with pytest.raises(LockedError):
        lookup_order(source(), "ORD-77", "a@x.com", "", guard, NOW, client="10.0.0.9")
    with pytest.raises(LockedError):
        lookup_order(source(), "ORD-1001", "ana@example.com", "", guard, NOW, client="10.0.0.9")
    assert lookup_order(source(), "ORD-1001", "ana@example.com", "", guard, NOW, client="10.0.0.8")
    guard.close()


def test_each_miss_is_logged_with_client_and_order_but_no_email(guard: LookupGuard) -> None:
    """The log of a miss names the client address and the order number, never the email."""
    with structlog.testing.capture_logs() as logs, pytest.raises(NotFoundError):
        lookup_order(source(), "ORD-1001", "eve@example.com", "c", guard, NOW, client="10.1.2.3")
    failed = [entry for entry in logs if entry["event"] == "lookup.failed"]
    assert failed and failed[0]["client"] == "10.1.2.3" and failed[0]["order_id"] == "ORD-1001"
    assert "eve@example.com" not in repr(logs)


def test_lock_expires_after_the_window(tmp_path: Path) -> None:
    """Counts expire a window after the first failure."""
    guard = LookupGuard(tmp_path / "state.db", 2, window=timedelta(hours=1))
    assert guard.record_failure("conversation:c", NOW) == 1
    assert guard.record_failure("conversation:c", NOW + timedelta(minutes=5)) == 2
    assert guard.is_locked("conversation:c", NOW + timedelta(minutes=59))
    assert not guard.is_locked("conversation:c", NOW + timedelta(hours=1))
    assert guard.record_failure("conversation:c", NOW + timedelta(hours=2)) == 1


def test_guard_is_shared_through_the_file(tmp_path: Path) -> None:
    """Two guards on one state file (API server and CLI) share counts; no update is lost."""
    path = tmp_path / "state.db"
    first, second = LookupGuard(path, 50), LookupGuard(path, 50)

    def fail_ten(guard: LookupGuard) -> None:
        for _ in range(10):
            guard.record_failure("conversation:shared", NOW)

    threads = [threading.Thread(target=fail_ten, args=(g,)) for g in (first, second, first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert second.failures("conversation:shared", NOW) == 30
    first.reset("conversation:shared")
    assert second.failures("conversation:shared", NOW) == 0


def test_guard_shares_the_state_file_on_the_ledgers_rules(tmp_path: Path) -> None:
    """Beside the worker's ledger in one WAL file, a counted failure survives a reopen."""
    path = tmp_path / "state.db"
    ledger, guard = Ledger(path), LookupGuard(path)
    assert guard.record_failure("conversation:c", NOW) == 1
    guard.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    reopened = LookupGuard(path)
    assert reopened.failures("conversation:c", NOW) == 1
    assert ledger.pending_count() == 0
    reopened.close()
    ledger.close()


def test_an_unusable_state_file_names_the_setting(tmp_path: Path) -> None:
    """A state path that cannot be opened is one StoreError naming SHEETQUEUE_STATE_PATH."""
    with pytest.raises(StoreError, match=r"^SHEETQUEUE_STATE_PATH: cannot open"):
        LookupGuard(tmp_path)


def test_missing_input_is_bad_input(guard: LookupGuard) -> None:
    """An empty order number or email is bad input, not a failed try."""
    with pytest.raises(InputError):
        lookup_order(source(), "", "ana@example.com", "conv-1", guard, NOW)
    assert guard.failures("conversation:conv-1", NOW) == 0


@pytest.mark.parametrize(
    ("kind", "overrides", "extra", "expected"),
    [
        ("return", {}, {}, "eligible:withinReturnWindow"),
        ("refund", {}, {}, "eligible:within14Days"),
        ("cancellation", {}, {}, "ineligible:alreadyShipped"),
        (
            "cancellation",
            {"status": "processing", "delivered_at": None},
            {},
            "eligible:notYetShipped",
        ),
        ("return", {}, {"damaged": True}, "review:damagedItem"),
        ("return", {}, {"sku": "NOPE"}, "review:skuNotInOrder"),
        ("Address Change", {}, {}, "ineligible:alreadyShipped"),
    ],
)
def test_answer_eligibility(
    kind: str, overrides: dict[str, Any], extra: dict[str, Any], expected: str
) -> None:
    """The bot's answer is decide() on a request stamped now, as eligible/decision/message."""
    answer = answer_eligibility(
        source(make_order(**overrides)), "ORD-1001", "ana@example.com", kind, Policy(), NOW, **extra
    )
    assert answer.decision == expected
    assert answer.eligible is expected.startswith("eligible:")
    assert answer.message


def test_answer_eligibility_verifies_first() -> None:
    """A wrong email gets the generic not-found before any decision is made."""
    with pytest.raises(NotFoundError, match="check both"):
        answer_eligibility(source(), "ORD-1001", "eve@example.com", "refund", Policy(), NOW)
    with pytest.raises(InputError, match="unknown type"):
        answer_eligibility(source(), "ORD-1001", "ana@example.com", "teleport", Policy(), NOW)


def test_locked_message_is_the_documented_one(guard: LookupGuard) -> None:
    """The lock's words send the shopper to their confirmation email or support."""
    guard.record_failure("conversation:c9", NOW)
    guard.record_failure("conversation:c9", NOW)
    with pytest.raises(LockedError) as locked:
        lookup_order(source(), "ORD-1001", "ana@example.com", "c9", guard, NOW)
    assert str(locked.value) == LOCKED_MESSAGE
