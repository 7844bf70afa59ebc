"""Failed order lookups, counted in the state file so the API server and the CLI agree.

A guess is counted under every key the caller cannot dodge by changing what
it sends, each with its own limit:

- ``order:<number>``: misses on one order number, across all conversations
  and callers (``per_order``, in the short ``order_window``). Once reached,
  every lookup of that order gets the lock's words until the window ends,
  the right email included, so guessing emails for a known order stops.
- ``client:<address>``: misses from one client address (``per_client``, in
  the same short window), so walking through order numbers stops too.
- ``conversation:<id>``: misses in one conversation (``max_failures``, 2,
  for ``window``, a day), when the bot sends a conversation id.

A lookup without a conversation id is limited by the first two only, so it
cannot lock the real shopper out for a day. Counts are kept per key in the
``lookup_failures`` table of ``settings.state_path``, through
:class:`~sheetqueue.sheets.sqlite_file.SqliteFile` (WAL, a busy timeout,
each count one ``BEGIN IMMEDIATE`` transaction, so processes sharing the file
never lose a miss). With ``SHEETQUEUE_STATE_URL`` the table is in the shared
PostgreSQL state, so every API replica counts the same misses. A count
expires its window after its first miss; expired rows are removed as new
misses are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.times import format_time, parse_time

if TYPE_CHECKING:
    from sheetqueue.config.settings import Settings

__all__ = ["LookupGuard"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lookup_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lookup_failures_first ON lookup_failures (first_failed_at);
"""
_COUNT = "SELECT failures, first_failed_at FROM lookup_failures WHERE key = ?"


class LookupGuard:
    """Counts failed lookups per order number, client address and conversation."""

    def __init__(
        self,
        path: Path,
        max_failures: int = 2,
        *,
        window: timedelta = timedelta(days=1),
        per_order: int = 5,
        per_client: int = 10,
        order_window: timedelta = timedelta(minutes=15),
        timeout: float = 5.0,
        db: StateDb | None = None,
    ) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.window = window
        self.per_order = per_order
        self.per_client = per_client
        self.order_window = order_window
        if db is not None:
            self._file: StateDb = db
            return
        self._file = SqliteFile(
            self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH", timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: Settings, db: StateDb | None = None) -> LookupGuard:
        """The guard with the limits the settings give, on the state file or ``db``."""
        return cls(
            settings.state_path,
            settings.policy.lookup_max_failures,
            per_order=settings.lookup_order_max_failures,
            per_client=settings.lookup_client_max_failures,
            order_window=timedelta(seconds=settings.lookup_window_seconds),
            db=db,
        )

    @staticmethod
    def key_for(conversation_id: str, order_id: str) -> str:
        """The conversation when known, else the order number (case-insensitive)."""
        if conversation_id.strip():
            return f"conversation:{conversation_id.strip()}"
        return f"order:{order_id.strip().lower()}"

    def keys(self, order_id: str, conversation_id: str, client: str) -> list[tuple[str, int]]:
        """Every key a lookup is counted under, with its limit."""
        keys = [(f"order:{order_id.strip().lower()}", self.per_order)]
        keys.append((f"client:{client.strip() or 'unknown'}", self.per_client))
        if conversation_id.strip():
            keys.append((f"conversation:{conversation_id.strip()}", self.max_failures))
        return keys

    def blocks(self, order_id: str, conversation_id: str, client: str, now: datetime) -> bool:
        """True when any of the lookup's keys has used its tries."""
        return any(
            self.failures(key, now) >= limit
            for key, limit in self.keys(order_id, conversation_id, client)
        )

    def record_miss(self, order_id: str, conversation_id: str, client: str, now: datetime) -> bool:
        """Count one miss under every key; True when this miss used up any key's tries."""
        reached = False
        for key, limit in self.keys(order_id, conversation_id, client):
            reached = self.record_failure(key, now) >= limit or reached
        return reached

    def window_for(self, key: str) -> timedelta:
        """A day for a conversation, the short window for an order number or an address."""
        return self.window if key.startswith("conversation:") else self.order_window

    def failures(self, key: str, now: datetime) -> int:
        """Failed tries under ``key`` that have not expired at ``now``."""
        rows = self._file.select(_COUNT, (key,))
        return self._live_count(key, rows[0] if rows else None, now)

    def is_locked(self, key: str, now: datetime) -> bool:
        limit = self.max_failures
        if key.startswith("order:"):
            limit = self.per_order
        elif key.startswith("client:"):
            limit = self.per_client
        return self.failures(key, now) >= limit

    def record_failure(self, key: str, now: datetime) -> int:
        """Count one more failed try; returns the count including it."""
        stamp = format_time(now)
        oldest = format_time(now - max(self.window, self.order_window))
        with self._file.write() as db:
            row = db.execute(_COUNT, (key,)).fetchone()
            count = self._live_count(key, row, now) + 1
            first = stamp if count == 1 else str(row[1])
            db.execute(
                "INSERT INTO lookup_failures (key, failures, first_failed_at, last_failed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " failures = excluded.failures, first_failed_at = excluded.first_failed_at,"
                " last_failed_at = excluded.last_failed_at",
                (key, count, first, stamp),
            )
            db.execute("DELETE FROM lookup_failures WHERE first_failed_at < ?", (oldest,))
        return count

    def reset(self, key: str) -> None:
        """Forget the failures under ``key`` (a team member unlocking a shopper)."""
        with self._file.write() as db:
            db.execute("DELETE FROM lookup_failures WHERE key = ?", (key,))

    def close(self) -> None:
        self._file.close()

    def _live_count(self, key: str, row: Sequence[Any] | None, now: datetime) -> int:
        if row is None:
            return 0
        first = parse_time(str(row[1]))
        if first is None or now - first >= self.window_for(key):
            return 0
        return int(row[0])
