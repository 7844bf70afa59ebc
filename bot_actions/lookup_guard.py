"""Failed order lookups, counted in the state file so the API server and the CLI agree.

One row per key (``conversation:<id>``, or ``order:<number>`` when the bot
sends no conversation id) in the ``lookup_failures`` table of
``settings.state_path``. The file is opened in WAL mode with a busy timeout,
and each count is a single ``BEGIN IMMEDIATE`` transaction, so processes
sharing the file never lose a failure. A count expires ``window`` after its
first failure (a day by default).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.times import format_time, parse_time

__all__ = ["LookupGuard"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lookup_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL
)
"""


class LookupGuard:
    """Counts failed lookups per conversation and says when one is locked."""

    def __init__(
        self,
        path: Path,
        max_failures: int = 2,
        *,
        window: timedelta = timedelta(days=1),
        timeout: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.window = window
        self._timeout = timeout
        with self._connect() as db:
            db.execute(_SCHEMA)

    @staticmethod
    def key_for(conversation_id: str, order_id: str) -> str:
        """The conversation when known, else the order number (case-insensitive)."""
        if conversation_id.strip():
            return f"conversation:{conversation_id.strip()}"
        return f"order:{order_id.strip().lower()}"

    def failures(self, key: str, now: datetime) -> int:
        """Failed tries under ``key`` that have not expired at ``now``."""
        with self._connect() as db:
            row = db.execute(
                "SELECT failures, first_failed_at FROM lookup_failures WHERE key = ?", (key,)
            ).fetchone()
        return self._live_count(row, now)

    def is_locked(self, key: str, now: datetime) -> bool:
        return self.failures(key, now) >= self.max_failures

    def record_failure(self, key: str, now: datetime) -> int:
        """Count one more failed try; returns the count including it."""
        stamp = format_time(now)
        with self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT failures, first_failed_at FROM lookup_failures WHERE key = ?", (key,)
                ).fetchone()
                count = self._live_count(row, now) + 1
                first = stamp if count == 1 else str(row[1])
                db.execute(
                    "INSERT INTO lookup_failures (key, failures, first_failed_at, last_failed_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                    " failures = excluded.failures, first_failed_at = excluded.first_failed_at,"
                    " last_failed_at = excluded.last_failed_at",
                    (key, count, first, stamp),
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return count

    def reset(self, key: str) -> None:
        """Forget the failures under ``key`` (a team member unlocking a shopper)."""
        with self._connect() as db:
            db.execute("DELETE FROM lookup_failures WHERE key = ?", (key,))

    def _live_count(self, row: tuple[object, ...] | None, now: datetime) -> int:
        if row is None:
            return 0
        first = parse_time(row[1])
        if first is None or now - first >= self.window:
            return 0
        return int(str(row[0]))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(
                sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
            ) as db:
                db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                db.execute("PRAGMA journal_mode=WAL")
                yield db
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"lookup state {self.path}: {exc}") from exc
