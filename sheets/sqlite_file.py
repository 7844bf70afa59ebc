"""One SQLite file shared by threads and processes: WAL, busy timeout, immediate writes.

Every local table of the project (the embedded queue, the worker's ledger)
goes through this class, so they all get the same rules: the connection may be
used from any thread (one lock serialises it), readers never block the writer,
and each write is a ``BEGIN IMMEDIATE`` transaction, so two processes never
interleave a check and the write that depends on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sheetqueue.config.errors import StoreError

__all__ = ["SqliteFile"]


class SqliteFile:
    """A connection to ``path`` with ``schema`` applied, safe across threads."""

    dialect: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(self, path: Path, schema: str, *, setting: str, timeout: float = 30.0) -> None:
        """Open (creating) ``path``; ``setting`` names the option to fix if it cannot be opened.

        Commits are ``synchronous=FULL``: what was reported saved survives a power cut.
        """
        self.path = path
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(schema)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{setting}: cannot open {path}: {exc}") from exc

    @contextmanager
    def write(self, exclusive: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; rolled back if the block raises (always exclusive here)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write {self.path}: {exc}") from exc

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of a query, as ``sqlite3.Row``."""
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()
