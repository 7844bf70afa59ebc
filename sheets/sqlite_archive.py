"""The archive of the embedded store: an ``archive`` table in the queue's SQLite file.

Each archived row is there once (a unique Request ID), with the name of the
archive tab it belongs to (``Archive 2026``) and when it was archived. The
delete from ``requests`` matches every cell, so a row changed since its copy
stays live until the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sheetqueue.sheets.archive_shelf import ArchivedRow as _Row
from sheetqueue.sheets.model import HEADER_BY_FIELD, Request
from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.sqlite_store import SqliteStore

__all__ = ["SqliteShelf"]

_FIELDS = tuple(HEADER_BY_FIELD)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS archive (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    tab TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    {", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in _FIELDS)}
);
CREATE UNIQUE INDEX IF NOT EXISTS archive_by_id ON archive (request_id);
"""


class SqliteShelf:
    """Archiving on a local queue file (``SHEETQUEUE_LOCAL_PATH``)."""

    target = ""  # the archive is always in the same file

    def __init__(self, path: Path) -> None:
        SqliteStore(path).close()  # the requests table is the store's: make sure it exists
        self._file = SqliteFile(path, _SCHEMA, setting="SHEETQUEUE_LOCAL_PATH")

    def live_rows(self) -> list[_Row]:
        rows = self._file.select(f"SELECT {', '.join(_FIELDS)} FROM requests ORDER BY position")
        return [_Row(Request(**{name: row[name] for name in _FIELDS})) for row in rows]

    def archived(self, tab: str) -> dict[str, _Row]:
        rows = self._file.select(
            f"SELECT {', '.join(_FIELDS)} FROM archive WHERE tab = ? ORDER BY position", (tab,)
        )
        found = [_Row(Request(**{name: row[name] for name in _FIELDS})) for row in rows]
        return {row.request_id: row for row in found}

    def copy(self, tab: str, rows: Sequence[_Row], archived_at: str) -> None:
        with self._file.write() as db:
            db.executemany(
                f"INSERT OR IGNORE INTO archive (tab, archived_at, {', '.join(_FIELDS)}) "
                f"VALUES (?, ?, {', '.join('?' for _ in _FIELDS)})",
                [(tab, archived_at, *_cells(row)) for row in rows],
            )

    def rewrite(self, tab: str, rows: Sequence[_Row]) -> None:
        assignments = ", ".join(f"{name} = ?" for name in _FIELDS)
        with self._file.write() as db:
            db.executemany(
                f"UPDATE archive SET {assignments} WHERE tab = ? AND request_id = ?",
                [(*_cells(row), tab, row.request_id) for row in rows],
            )

    def delete(self, rows: Sequence[_Row]) -> list[str]:
        conditions = " AND ".join(f"{name} = ?" for name in _FIELDS)
        deleted: list[str] = []
        with self._file.write() as db:
            for row in rows:
                cursor = db.execute(f"DELETE FROM requests WHERE {conditions}", _cells(row))
                if cursor.rowcount:
                    deleted.append(row.request_id)
        return deleted

    def close(self) -> None:
        self._file.close()


def _cells(row: _Row) -> list[str]:
    values = row.request.model_dump()
    return [values[name] for name in _FIELDS]
