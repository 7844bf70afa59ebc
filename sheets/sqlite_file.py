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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from sheetqueue.config.errors import StoreError

__all__ = ["GroupCommit", "SqliteFile"]

T = TypeVar("T")


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


class _Job(Generic[T]):
    """One caller's work in a group transaction, and its outcome once committed."""

    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[sqlite3.Connection], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Writes from many threads committed together: one transaction and one fsync for a group.

    A caller of :meth:`run` queues its work, then waits for the commit lock.
    The thread that gets it takes every queued work (its own and any that
    arrived while the previous group was committing), runs each in a savepoint
    of one ``BEGIN IMMEDIATE`` transaction, and commits once. Each caller
    returns only after the ``COMMIT`` that holds its work (``synchronous=FULL``:
    on disk), or raises its own error: a work that raises is rolled back to
    its savepoint alone, and a failed commit fails every work of the group.
    Later works in a group see the writes of earlier ones, as if in turn.
    """

    def __init__(self, file: SqliteFile) -> None:
        self._file = file
        self._queue: list[_Job[Any]] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` inside a committed transaction; its result once on disk."""
        job: _Job[T] = _Job(work)
        with self._queue_lock:
            self._queue.append(job)
        with self._commit_lock:
            if not job.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _commit(self, group: list[_Job[Any]]) -> None:
        try:
            with self._file.write() as db:
                for job in group:
                    db.execute("SAVEPOINT work")
                    try:
                        job.result = job.work(db)
                    except Exception as exc:  # this caller's error; the others go on
                        db.execute("ROLLBACK TO work")
                        job.error = exc
                    db.execute("RELEASE work")
        except BaseException as exc:
            failure = (
                exc
                if isinstance(exc, StoreError)
                else StoreError(f"cannot write {self._file.path}: {exc}")
            )
            for job in group:
                job.result, job.error = None, failure
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in group:
                job.done = True
