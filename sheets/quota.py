"""Google's per-minute quota, kept by the caller: a token bucket per service account.

Google counts Sheets requests per minute per user (60 reads and 60 writes by
default); a deployment that passes many shops with one service account must
keep all of them together under it, or every shop starts getting 429s. Each
account gets one :class:`TokenBucket` for reads and one for writes, shared by
every shop (and thread) using that credentials file. A call waits for its
token before it is sent. Time is handed in (``clock`` and ``sleep``) so tests
run it without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["READ_CALLS", "AccountQuota", "QuotaBook", "TokenBucket"]

READ_CALLS = frozenset({"get", "batch_get", "metadata"})
"""Kinds of :class:`~sheetqueue.sheets.gsheets_api.SheetsApi` calls Google counts as reads."""


class TokenBucket:
    """``per_minute`` tokens a minute, at most ``per_minute`` saved up (a minute's burst)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(per_minute)
        self._at = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds callers spent waiting, for logs and tests

    def take(self) -> float:
        """Wait until a token is free and take it; returns the seconds waited."""
        with self._lock:  # callers queue in order; each waits its turn
            waited = 0.0
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    self.waited += waited
                    return waited
                pause = (1 - self._tokens) * 60.0 / self.per_minute
                self._sleep(pause)
                waited += pause

    def _refill(self) -> None:
        now = self._clock()
        rate = self.per_minute / 60.0
        self._tokens = min(float(self.per_minute), self._tokens + (now - self._at) * rate)
        self._at = now


class AccountQuota:
    """The read and write buckets of one account; ``on_call`` is SheetsApi's hook."""

    def __init__(self, reads: TokenBucket, writes: TokenBucket) -> None:
        self.reads = reads
        self.writes = writes

    def on_call(self, kind: str, _retried: bool) -> None:
        (self.reads if kind in READ_CALLS else self.writes).take()


class QuotaBook:
    """One :class:`AccountQuota` per account key (a credentials file), made on first use."""

    def __init__(
        self,
        reads_per_minute: int,
        writes_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reads_per_minute = reads_per_minute
        self.writes_per_minute = writes_per_minute
        self._clock = clock
        self._sleep = sleep
        self._accounts: dict[str, AccountQuota] = {}
        self._lock = threading.Lock()

    def account(self, key: str) -> AccountQuota:
        with self._lock:
            if key not in self._accounts:
                self._accounts[key] = AccountQuota(
                    TokenBucket(self.reads_per_minute, clock=self._clock, sleep=self._sleep),
                    TokenBucket(self.writes_per_minute, clock=self._clock, sleep=self._sleep),
                )
            return self._accounts[key]
