"""The per-account Sheets quota: a token bucket per credentials file, on a handed-in clock."""

from __future__ import annotations

import pytest

from sheetqueue.sheets.quota import QuotaBook, TokenBucket


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_minute_of_burst_then_one_call_per_second() -> None:
    """60 calls go at once; the 61st waits a second: never more than 60 in any minute."""
    time = FakeTime()
    bucket = TokenBucket(60, clock=time.clock, sleep=time.sleep)
    started = time.now
    for _ in range(60):
        assert bucket.take() == 0
    assert bucket.take() == pytest.approx(1.0)
    for _ in range(59):
        bucket.take()
    assert time.now - started == pytest.approx(60.0)  # 120 calls took a minute of waiting


def test_calls_spread_over_time_never_wait() -> None:
    """A caller under the rate (one call every 1.5 s at 60/min) is never held up."""
    time = FakeTime()
    bucket = TokenBucket(60, clock=time.clock, sleep=time.sleep)
    for _ in range(200):
        time.now += 1.5
        assert bucket.take() == 0
    assert time.slept == []


def test_saved_tokens_never_exceed_one_minute() -> None:
    """An hour idle buys one minute's burst, not an hour's."""
    time = FakeTime()
    bucket = TokenBucket(10, clock=time.clock, sleep=time.sleep)
    time.now += 3600
    for _ in range(10):
        assert bucket.take() == 0
    assert bucket.take() == pytest.approx(6.0)  # 10/min: one token every 6 s


def test_shops_of_one_account_share_its_bucket_and_other_accounts_do_not() -> None:
    """Two shops with one credentials file draw from one bucket; another file has its own."""
    time = FakeTime()
    book = QuotaBook(30, 30, clock=time.clock, sleep=time.sleep)
    north, south, other = book.account("sa.json"), book.account("sa.json"), book.account("b.json")
    assert north is south and north is not other
    for n in range(30):
        (north if n % 2 else south).on_call("get", False)
    assert time.slept == []
    other.on_call("get", False)  # another account: a full bucket of its own
    assert time.slept == []
    north.on_call("batch_get", False)  # the shared one is empty now
    assert time.slept == [pytest.approx(2.0)]


def test_reads_and_writes_are_counted_apart() -> None:
    """Writes (appends, batch updates) never use up the read quota, as with Google."""
    time = FakeTime()
    account = QuotaBook(2, 2, clock=time.clock, sleep=time.sleep).account("sa.json")
    for kind in ("get", "metadata", "append", "batch_write"):
        account.on_call(kind, False)
    assert time.slept == []
    account.on_call("structure", False)
    assert time.slept == [pytest.approx(30.0)]
