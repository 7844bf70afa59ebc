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
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

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


class GroupCommit:
    """Writes from many threads committed together: one transaction and one fsync for a group.

    :meth:`submit` queues a work and gives back a future; one committer thread
    (started with the first work) takes every queued work (those that arrived
    while the previous group was committing), runs each in a savepoint of one
    ``BEGIN IMMEDIATE`` transaction, and commits once. A future is resolved
    only after the ``COMMIT`` that holds its work (``synchronous=FULL``: on
    disk), or with its own error: a work that raises is rolled back to its
    savepoint alone, and a failed commit fails every work of the group. Later
    works in a group see the writes of earlier ones, as if in turn. :meth:`run`
    waits for the future (a thread's call); an event loop awaits it instead,
    so a request waiting for the disk holds no thread.
    """

    def __init__(self, file: SqliteFile) -> None:
        self._file = file
        self._queue: list[tuple[Callable[[sqlite3.Connection], Any], Future[Any]]] = []
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, work: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Queue ``work(connection)``; the future gets its result once the commit is on disk."""
        future: Future[T] = Future()
        with self._wake:
            if self._closed:
                raise StoreError(f"cannot write {self._file.path}: it is closed")
            self._queue.append((work, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._commit_loop, name="sheetqueue-commit", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        return future

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` inside a committed transaction; its result once on disk."""
        return self.submit(work).result()

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop the committer thread."""
        with self._wake:
            self._closed = True
            thread = self._thread
            self._wake.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _commit_loop(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                group, self._queue = self._queue, []
                if not group:
                    return
            # taken: no longer cancellable (a caller that gave up still has its work committed)
            live = [future.set_running_or_notify_cancel() for _work, future in group]
            try:
                self._commit(group, live)
            except BaseException as exc:  # never leave a caller waiting on a dead thread
                for (_work, future), waited in zip(group, live, strict=True):
                    if waited and not future.done():
                        future.set_exception(StoreError(f"cannot write {self._file.path}: {exc}"))
                if not isinstance(exc, Exception):
                    raise

    def _commit(
        self, group: list[tuple[Callable[[sqlite3.Connection], Any], Future[Any]]], live: list[bool]
    ) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._file.write() as db:
                for work, _future in group:
                    db.execute("SAVEPOINT work")
                    try:
                        outcomes.append((True, work(db)))
                    except Exception as exc:  # this caller's error; the others go on
                        db.execute("ROLLBACK TO work")
                        outcomes.append((False, exc))
                    db.execute("RELEASE work")
        except BaseException as exc:  # the commit failed: every work of the group with it
            failure = (
                exc
                if isinstance(exc, StoreError)
                else StoreError(f"cannot write {self._file.path}: {exc}")
            )
            for (_work, future), waited in zip(group, live, strict=True):
                if waited:
                    future.set_exception(failure)
            return
        for (_work, future), waited, (ok, value) in zip(group, live, outcomes, strict=True):
            if not waited:
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
