"""Across hosts on PostgreSQL: the pass lock as a session advisory lock, shared rate buckets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from sheetqueue.bot_actions.api.ratelimit import SharedRateLimiter
from sheetqueue.sheets.lease import Holder, LeaseHeld
from sheetqueue.sheets.pg_state import PgPassLease, PgState

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
TTL = timedelta(minutes=3)
WEB1 = Holder("token-web1", "web-1", 4123)
WEB2 = Holder("token-web2", "web-2", 977)


@pytest.fixture
def lease_for(pg_url: str) -> Iterator[Callable[[Holder, str], PgPassLease]]:
    """A function giving a holder's lease on one queue key; every lease released at the end."""
    made: list[PgPassLease] = []

    def make(holder: Holder, key: str = "gsheets:book-1") -> PgPassLease:
        lease = PgPassLease(pg_url, key, holder, TTL)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        lease.release()


def test_the_second_host_is_refused_naming_the_first_however_late(
    lease_for: Callable[[Holder, str], PgPassLease],
) -> None:
    """web-1 holds the lock: web-2 is refused, web-1 named, even long past the ttl."""
    web1, web2 = lease_for(WEB1, "gsheets:book-1"), lease_for(WEB2, "gsheets:book-1")
    assert web1.acquire(NOW).holder == WEB1
    for later in (timedelta(minutes=1), TTL * 10):
        with pytest.raises(LeaseHeld) as refused:
            web2.acquire(NOW + later)
        assert refused.value.holder == WEB1
        web1.acquire(NOW + later)  # renewing while holding
    assert web2.peek().holder == WEB1


def test_another_sheet_has_its_own_lock(
    lease_for: Callable[[Holder, str], PgPassLease],
) -> None:
    """The key is the spreadsheet: two sheets are passed at once by two hosts."""
    assert lease_for(WEB1, "gsheets:book-1").acquire(NOW).holder == WEB1
    assert lease_for(WEB2, "gsheets:book-2").acquire(NOW).holder == WEB2


def test_release_hands_over_at_once(lease_for: Callable[[Holder, str], PgPassLease]) -> None:
    """A clean stop frees the lock and the table says free."""
    web1, web2 = lease_for(WEB1, "gsheets:book-1"), lease_for(WEB2, "gsheets:book-1")
    web1.acquire(NOW)
    web1.release()
    assert web1.peek().holder is None
    assert web2.acquire(NOW).holder == WEB2


def test_a_holder_whose_session_died_loses_the_lock_to_the_next_at_once(
    pg_url: str, lease_for: Callable[[Holder, str], PgPassLease]
) -> None:
    """web-1's session ends (as when its host dies): web-2 takes it; web-1 is then refused."""
    web1, web2 = lease_for(WEB1, "gsheets:book-1"), lease_for(WEB2, "gsheets:book-1")
    web1.acquire(NOW)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
        )
    assert web2.acquire(NOW + timedelta(seconds=1)).holder == WEB2
    with pytest.raises(LeaseHeld) as refused:
        web1.acquire(NOW + timedelta(seconds=2))
    assert refused.value.holder == WEB2


def test_rate_buckets_are_shared_by_replicas(pg_url: str) -> None:
    """Two replicas' limiters draw on one bucket per caller: 3 a minute in all, not each."""
    states = [PgState(pg_url, max_size=2), PgState(pg_url, max_size=2)]
    clock = iter(float(n) * 0.01 for n in range(100))
    limiters = [
        SharedRateLimiter(3, state.db("rate"), clock=lambda: next(clock)) for state in states
    ]
    try:
        answers = [limiters[n % 2].take("10.0.0.1:conv-1") for n in range(4)]
        other = limiters[1].take("10.0.0.2:conv-2")
    finally:
        for state in states:
            state.close()
    assert answers[:3] == [0.0, 0.0, 0.0]
    assert answers[3] > 19  # a token every 20 s
    assert other == 0.0
