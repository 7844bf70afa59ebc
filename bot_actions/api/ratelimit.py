"""A token bucket per client: how often one caller may try order lookups.

Each key (client address and conversation) gets ``per_minute`` tokens that
refill continuously; a lookup takes one; an empty bucket means 429 with a
``Retry-After``. At most ``max_keys`` buckets are kept (least recently used
go first), so a flood of new keys cannot grow memory without bound.

:class:`SharedRateLimiter` keeps the same buckets in the shared state
(``SHEETQUEUE_STATE_URL``), so a caller spread over several API replicas
gets ``per_minute`` lookups in all, not per replica; each take is one short
transaction on the bucket's row (wall-clock time, the hosts' clocks in step).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from sheetqueue.sheets.state_db import StateDb

__all__ = ["Limiter", "RateLimiter", "SharedRateLimiter"]


class Limiter(Protocol):
    """How often one caller may try lookups."""

    def take(self, key: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is free."""
        ...


class RateLimiter:
    """Token buckets keyed by caller."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take a token: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait


class SharedRateLimiter:
    """Token buckets as rows of the shared state, one per caller; idle ones pruned."""

    def __init__(
        self,
        per_minute: int,
        db: StateDb,
        *,
        idle_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.idle_seconds = idle_seconds
        self._db = db
        self._clock = clock
        self._takes = 0

    def take(self, key: str) -> float:
        now = self._clock()
        with self._db.write(exclusive=False) as db:
            db.execute(
                "INSERT OR IGNORE INTO rate_buckets (key, tokens, updated) VALUES (?, ?, ?)",
                (key, self.capacity, now),
            )
            tokens, last = db.execute(
                "SELECT tokens, updated FROM rate_buckets WHERE key = ? FOR UPDATE", (key,)
            ).fetchone()
            tokens = min(self.capacity, tokens + max(0.0, now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            db.execute(
                "UPDATE rate_buckets SET tokens = ?, updated = ? WHERE key = ?", (tokens, now, key)
            )
        self._takes += 1
        if self._takes % 1000 == 1:
            with self._db.write(exclusive=False) as db:
                db.execute("DELETE FROM rate_buckets WHERE updated < ?", (now - self.idle_seconds,))
        return float(wait)
