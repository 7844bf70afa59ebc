"""Failed order lookups, counted in the state file so the API server and the CLI agree.

One row per key (``conversation:<id>``, or ``order:<number>`` when the bot
sends no conversation id) in the ``lookup_failures`` table of
``settings.state_path``. The file is kept by
:class:`~sheetqueue.sheets.sqlite_file.SqliteFile`, on the same rules as the
worker's ledger: WAL, a busy timeout, ``synchronous=FULL`` and each count one
``BEGIN IMMEDIATE`` transaction, so processes sharing the file never lose a
failure. With ``SHEETQUEUE_STATE_URL`` the table is in the shared PostgreSQL
state, so every API replica counts the same failures. A count expires
``window`` after its first failure (a day by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.times import format_time, parse_time

__all__ = ["LookupGuard"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lookup_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL
);
"""
_COUNT = "SELECT failures, first_failed_at FROM lookup_failures WHERE key = ?"


class LookupGuard:
    """Counts failed lookups per conversation and says when one is locked."""

    def __init__(
        self,
        path: Path,
        max_failures: int = 2,
        *,
        window: timedelta = timedelta(days=1),
        timeout: float = 5.0,
        db: StateDb | None = None,
    ) -> None:
        self.path = Path(path)
        self.max_failures = max_failures
        self.window = window
        if db is not None:
            self._file: StateDb = db
            return
        self._file = SqliteFile(
            self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH", timeout=timeout
        )

    @staticmethod
    def key_for(conversation_id: str, order_id: str) -> str:
        """The conversation when known, else the order number (case-insensitive)."""
        if conversation_id.strip():
            return f"conversation:{conversation_id.strip()}"
        return f"order:{order_id.strip().lower()}"

    def failures(self, key: str, now: datetime) -> int:
        """Failed tries under ``key`` that have not expired at ``now``."""
        rows = self._file.select(_COUNT, (key,))
        return self._live_count(rows[0] if rows else None, now)

    def is_locked(self, key: str, now: datetime) -> bool:
        return self.failures(key, now) >= self.max_failures

    def record_failure(self, key: str, now: datetime) -> int:
        """Count one more failed try; returns the count including it."""
        stamp = format_time(now)
        with self._file.write() as db:
            row = db.execute(_COUNT, (key,)).fetchone()
            count = self._live_count(row, now) + 1
            first = stamp if count == 1 else str(row[1])
            db.execute(
                "INSERT INTO lookup_failures (key, failures, first_failed_at, last_failed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " failures = excluded.failures, first_failed_at = excluded.first_failed_at,"
                " last_failed_at = excluded.last_failed_at",
                (key, count, first, stamp),
            )
        return count

    def reset(self, key: str) -> None:
        """Forget the failures under ``key`` (a team member unlocking a shopper)."""
        with self._file.write() as db:
            db.execute("DELETE FROM lookup_failures WHERE key = ?", (key,))

    def close(self) -> None:
        self._file.close()

    def _live_count(self, row: Sequence[Any] | None, now: datetime) -> int:
        if row is None:
            return 0
        first = parse_time(str(row[1]))
        if first is None or now - first >= self.window:
            return 0
        return int(row[0])
