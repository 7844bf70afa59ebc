"""The embedded default store: the queue, the audit log and the orders in one SQLite file.

It keeps the sheet's rules: requests in insertion order, found by Request ID,
cells as text, compare-and-set writes. Several processes (the API server, the
worker, a cron tick) may use the file at once: WAL mode, a generous busy
timeout, and every write in a ``BEGIN IMMEDIATE`` transaction, so the
duplicate check and the insert are one step and nothing is lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.model import HEADER_BY_FIELD, OPTIONAL_HEADER, LogEntry, Request
from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.store import AddResult, CellUpdate, RowRef, StoredRequest, UpdateResult

__all__ = ["SqliteStore"]

_FIELDS = (*HEADER_BY_FIELD, *OPTIONAL_HEADER)
_COLUMNS = {name: index for index, name in enumerate(_FIELDS, start=1)}  # after position
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS requests (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in _FIELDS)}
);
CREATE UNIQUE INDEX IF NOT EXISTS requests_by_id ON requests (request_id) WHERE request_id != '';
CREATE INDEX IF NOT EXISTS requests_by_conversation ON requests (conversation_id);
CREATE TABLE IF NOT EXISTS log (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL, request_id TEXT NOT NULL, from_status TEXT NOT NULL,
    to_status TEXT NOT NULL, by TEXT NOT NULL, note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL
);
"""


class SqliteStore:
    """The queue in a local SQLite file (``SHEETQUEUE_LOCAL_PATH``)."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = path
        self._file = SqliteFile(path, _SCHEMA, setting="SHEETQUEUE_LOCAL_PATH", timeout=timeout)
        self._write = self._file.write
        self._select = self._file.select
        with self._write() as db:  # a file made before the optional columns: add them
            have = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
            for name in OPTIONAL_HEADER:
                if name not in have:
                    db.execute(f"ALTER TABLE requests ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")

    def read_requests(self) -> list[StoredRequest]:
        rows = self._select(
            f"SELECT position, {', '.join(_FIELDS)} FROM requests ORDER BY position"
        )
        return [StoredRequest(None, RowRef(row[0]), cells=row, columns=_COLUMNS) for row in rows]

    def add_requests(self, requests: Sequence[Request]) -> AddResult:
        stored: list[Request] = []
        created: list[bool] = []
        with self._write() as db:
            for request in requests:
                existing = self._existing(db, request)
                if existing is not None:
                    stored.append(existing)
                    created.append(False)
                    continue
                values = request.model_dump()
                db.execute(
                    f"INSERT INTO requests ({', '.join(_FIELDS)}) "
                    f"VALUES ({', '.join('?' for _ in _FIELDS)})",
                    [values[name] for name in _FIELDS],
                )
                stored.append(request)
                created.append(True)
        return AddResult(stored, created)

    def _existing(self, db: sqlite3.Connection, request: Request) -> Request | None:
        columns = ", ".join(_FIELDS)
        candidates: list[Request] = []
        if request.request_id:
            cursor = db.execute(
                f"SELECT {columns} FROM requests WHERE request_id = ?", (request.request_id,)
            )
            candidates += [Request(**dict(zip(_FIELDS, row, strict=True))) for row in cursor]
            if candidates:
                return candidates[0]
        key = request.duplicate_key()
        if key is None:
            return None
        cursor = db.execute(
            f"SELECT {columns} FROM requests WHERE conversation_id = ? ORDER BY position",
            (request.conversation_id,),
        )
        for row in cursor:
            other = Request(**dict(zip(_FIELDS, row, strict=True)))
            if other.duplicate_key() == key and other.is_open():
                return other
        return None

    def update_cells(
        self, updates: Sequence[CellUpdate], log: Sequence[LogEntry] = ()
    ) -> UpdateResult:
        applied: list[RowRef] = []
        skipped: list[RowRef] = []
        entries = list(log)
        with self._write() as db:
            for update in updates:
                _check_fields(update.values)
                _check_fields(update.expect)
                assignments = ", ".join(f"{name} = ?" for name in update.values)
                conditions = "".join(f" AND {name} = ?" for name in update.expect)
                cursor = db.execute(
                    f"UPDATE requests SET {assignments} WHERE position = ?{conditions}",
                    [*update.values.values(), update.ref.position, *update.expect.values()],
                )
                if cursor.rowcount == 1:
                    applied.append(update.ref)
                    entries.extend(update.log)
                else:
                    skipped.append(update.ref)
            _insert_log(db, entries)
        return UpdateResult(applied, skipped)

    def ensure_header(self) -> list[str]:
        return []

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        with self._write() as db:
            _insert_log(db, entries)

    def read_log(self) -> list[LogEntry]:
        rows = self._select(
            "SELECT time, request_id, from_status, to_status, by, note FROM log ORDER BY position"
        )
        return [LogEntry(**dict(row)) for row in rows]

    def read_orders(self) -> list[dict[str, Any]]:
        rows = self._select("SELECT record FROM orders ORDER BY position")
        return [json.loads(row["record"]) for row in rows]

    def replace_orders(self, records: Sequence[Mapping[str, Any]]) -> int:
        with self._write() as db:
            db.execute("DELETE FROM orders")
            db.executemany(
                "INSERT INTO orders (record) VALUES (?)",
                [(json.dumps(dict(record), default=str),) for record in records],
            )
        return len(records)

    def close(self) -> None:
        self._file.close()


def _insert_log(db: sqlite3.Connection, entries: Sequence[LogEntry]) -> None:
    db.executemany(
        "INSERT INTO log (time, request_id, from_status, to_status, by, note) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [entry.cells() for entry in entries],
    )


def _check_fields(cells: Mapping[str, str]) -> None:
    unknown = set(cells) - set(_FIELDS)
    if unknown:
        raise StoreError(f"unknown request fields: {', '.join(sorted(unknown))}")
