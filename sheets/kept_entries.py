"""What a Google store keeps in the local state file for the next process.

A cron ``tick`` is a new process each time. Without a memory it would read
the tabs' metadata on every pass (2 calls instead of 1) and find and read the
pass lease's cell before renewing it (3 calls instead of 1).
:class:`KeptEntries` keeps such entries in a small key/value table of the
state file (``SHEETQUEUE_STATE_PATH``), keyed by kind, spreadsheet id and
tab, so a changed ``SHEETQUEUE_SPREADSHEET_ID`` never reuses another sheet's:

- ``metadata``: the last metadata answer the reader read afresh, with row 1
  as read then and the spreadsheet's locale and time zone;
- ``lease``: the lease tab's id and the lease text this installation last
  wrote (:class:`~sheetqueue.sheets.gsheets_lease.GsheetsLease`).

Entries are a cache, never the truth: kept metadata is used on the same terms
as metadata kept in memory (row 1 must read exactly as it did; any write has
the metadata read again first), and a kept lease text is only what the next
compare-and-set expects to find. An entry that cannot be read, of another
format, or a state file that cannot be opened is simply not used: the sheet
is read afresh, never an error.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.sqlite_file import SqliteFile

__all__ = ["KEPT_FORMAT", "KeptEntries"]

log = structlog.get_logger("sheetqueue.gsheets")

KEPT_FORMAT = 1
"""The entry's format; an entry of another format is not used."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kept (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class KeptEntries:
    """One spreadsheet's kept entries of one ``kind`` in the SQLite file at ``path``.

    The file is opened on first use.
    """

    def __init__(self, path: Path, spreadsheet_id: str, kind: str = "metadata") -> None:
        self.path = path
        self.spreadsheet_id = spreadsheet_id
        self.kind = kind
        self._file: SqliteFile | None = None
        self._broken = False  # the file could not be opened: nothing is kept in this process
        self._lock = threading.Lock()

    def _key(self, tab: str) -> str:
        return f"{self.kind} {self.spreadsheet_id} {tab}"

    def _open(self) -> SqliteFile | None:
        with self._lock:
            if self._file is None and not self._broken:
                try:
                    self._file = SqliteFile(self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH")
                except StoreError as exc:
                    self._broken = True
                    log.warning("sheet.kept_not_saved", kind=self.kind, error=str(exc))
            return self._file

    def load(self, tab: str) -> dict[str, Any] | None:
        """The entry kept for ``tab`` of this spreadsheet; None: none, unreadable, other format."""
        file = self._open()
        if file is None:
            return None
        try:
            rows = file.select("SELECT value FROM kept WHERE key = ?", (self._key(tab),))
            entry = json.loads(rows[0][0]) if rows else None
        except (StoreError, ValueError, TypeError) as exc:
            log.warning("sheet.kept_ignored", kind=self.kind, tab=tab, error=str(exc))
            return None
        if not isinstance(entry, dict) or entry.get("format") != KEPT_FORMAT:
            if entry is not None:
                log.warning("sheet.kept_ignored", kind=self.kind, tab=tab, error="not an entry")
            return None
        return entry

    def save(self, tab: str, entry: dict[str, Any]) -> None:
        """Keep ``entry`` for ``tab`` (replacing the last one); a failure only logs."""
        file = self._open()
        if file is None:
            return
        try:
            text = json.dumps({**entry, "format": KEPT_FORMAT}, separators=(",", ":"))
            with file.write() as db:
                db.execute(
                    "INSERT INTO kept (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (self._key(tab), text),
                )
        except (StoreError, ValueError, TypeError) as exc:
            log.warning("sheet.kept_not_saved", kind=self.kind, tab=tab, error=str(exc))

    def drop(self, tab: str) -> None:
        """Forget the entry for ``tab`` (the sheet changed, or we changed its structure)."""
        file = self._open()
        if file is None:
            return
        try:
            with file.write() as db:
                db.execute("DELETE FROM kept WHERE key = ?", (self._key(tab),))
        except StoreError as exc:
            log.warning("sheet.kept_not_dropped", kind=self.kind, tab=tab, error=str(exc))

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
