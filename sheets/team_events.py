"""The sheet's edit events: who changed a row, each event once, and the "pass wanted" mark.

The sheet's Apps Script posts the team's edits to ``POST /v1/sheet-events``;
the API keeps them here (the state file, or the shared PostgreSQL state):

- each event once, by its ID (a replayed batch is counted, never kept twice);
- for an edit of Status, the editor's email per (Request ID, new status), so
  the worker's log entry for the change it then sees names the editor
  instead of "team" (one log line, not two);
- a "pass wanted" mark: the API sets it, the worker checks it about once a
  second and clears it when its pass starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.times import format_time

__all__ = ["SheetEvent", "TeamEvents"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sheet_events (
    event_id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    column_name TEXT NOT NULL,
    new_value TEXT NOT NULL,
    editor TEXT NOT NULL DEFAULT '',
    edited_at TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sheet_events_by_row ON sheet_events (request_id, column_name);
CREATE INDEX IF NOT EXISTS sheet_events_by_age ON sheet_events (received_at);
CREATE TABLE IF NOT EXISTS pass_wanted (
    key TEXT PRIMARY KEY,
    wanted_at TEXT NOT NULL
);
"""
_MARK = "queue"
KEEP_FOR = timedelta(days=2)
"""How long an event is kept: far past the 5-minute replay window and any poll interval."""


@dataclass(frozen=True)
class SheetEvent:
    """One edit of a watched cell, as the sheet reported it."""

    event_id: str
    request_id: str
    column: str
    new: str
    by: str = ""
    at: str = ""


class TeamEvents:
    """The events table and the pass mark, in ``path`` (SQLite) or ``db`` (shared state)."""

    def __init__(self, path: Path, *, db: StateDb | None = None, timeout: float = 30.0) -> None:
        self._file: StateDb = db or SqliteFile(
            path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH", timeout=timeout
        )

    def record(self, events: Sequence[SheetEvent], now: datetime) -> list[SheetEvent]:
        """Keep the events not kept before; returns those (the others are duplicates).

        Events older than :data:`KEEP_FOR` are dropped on the way: a replay that
        old is refused by the replay window before it gets here.
        """
        if not events:
            return []
        kept: list[SheetEvent] = []
        with self._file.write() as db:
            db.execute(
                "DELETE FROM sheet_events WHERE received_at < ?", (format_time(now - KEEP_FOR),)
            )
            for event in events:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO sheet_events (event_id, request_id, column_name, "
                    "new_value, editor, edited_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.event_id,
                        event.request_id,
                        event.column,
                        event.new,
                        event.by,
                        event.at,
                        format_time(now),
                    ),
                )
                if cursor.rowcount == 1:
                    kept.append(event)
        return kept

    def editors(self, changes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The last known editor of each (Request ID, new status) asked about, when known."""
        found: dict[tuple[str, str], str] = {}
        for request_id, status in set(changes):
            rows = self._file.select(
                "SELECT editor FROM sheet_events WHERE request_id = ? AND column_name = 'Status' "
                "AND new_value = ? AND editor != '' ORDER BY received_at DESC, edited_at DESC "
                "LIMIT 1",
                (request_id, status),
            )
            if rows:
                found[(request_id, status)] = str(rows[0][0])
        return found

    def want_pass(self, now: datetime) -> None:
        """Ask the worker (wherever it runs on this state) for a pass now."""
        with self._file.write(exclusive=False) as db:
            db.execute(
                "INSERT INTO pass_wanted (key, wanted_at) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET wanted_at = excluded.wanted_at",
                (_MARK, format_time(now)),
            )

    def pass_wanted(self) -> bool:
        """True while a pass was asked for and no pass has started since (one cheap read)."""
        return bool(self._file.select("SELECT 1 FROM pass_wanted WHERE key = ?", (_MARK,)))

    def clear_pass_wanted(self) -> None:
        """A pass starts: what was asked before now is covered by it (no write when unset)."""
        if not self.pass_wanted():
            return
        with self._file.write(exclusive=False) as db:
            db.execute("DELETE FROM pass_wanted WHERE key = ?", (_MARK,))

    def close(self) -> None:
        self._file.close()
