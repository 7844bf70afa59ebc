"""The durable outbox: requests accepted in milliseconds, landed in the queue exactly once.

``POST /v1/requests`` writes the new row to a local SQLite file (WAL,
``synchronous=FULL``: a commit is on disk before the bot hears "saved") and
answers at once. Requests that arrive together share one transaction and one
sync to disk (:class:`~sheetqueue.sheets.sqlite_file.GroupCommit`): each is
answered only after the commit that holds it, and one refused (a reused
``Idempotency-Key``) is rolled back alone. :meth:`Outbox.drain` then appends the waiting rows to the
store in batches, one ``add_requests`` call (one append) for many rows, exactly
once (:mod:`sheetqueue.sheets.outbox_drain` says how). Every process drains
the same way: ``tick`` and ``worker`` before each pass, and ``serve`` from its
flusher thread.

With ``SHEETQUEUE_STATE_URL`` the rows are a table in PostgreSQL shared by
every replica (:mod:`sheetqueue.sheets.pg_state`), and replicas drain at once.

Landed rows are kept for ``retention`` (a week) so a repeated
``Idempotency-Key`` still gets its first answer, then pruned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from sheetqueue.config.errors import InputError, SheetqueueError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.outbox_drain import Drained, OutboxDrain
from sheetqueue.sheets.sqlite_file import GroupCommit, SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.times import format_time

__all__ = [
    "Accepted",
    "Outbox",
    "OutboxEntry",
    "open_outbox",
    "outbox_path",
]

log = structlog.get_logger("sheetqueue.outbox")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT,
    fingerprint TEXT NOT NULL DEFAULT '',
    dup_key TEXT,
    record TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    landed_at TEXT NOT NULL DEFAULT '',
    landed_as TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_key ON outbox (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (landed_at, seq);
CREATE INDEX IF NOT EXISTS outbox_by_dup ON outbox (dup_key) WHERE dup_key IS NOT NULL;
"""
_SENT_AT = "ALTER TABLE outbox ADD COLUMN sent_at REAL NOT NULL DEFAULT 0"


def outbox_path(settings: Settings) -> Path:
    """The outbox file: beside the worker's state file (``state.db`` -> ``state.outbox.db``)."""
    state = settings.state_path
    return state.with_name(f"{state.stem}.outbox{state.suffix or '.db'}")


def open_outbox(settings: Settings, db: StateDb | None = None) -> Outbox:
    """The outbox of these settings (in ``db`` when shared); late Sheet appends waited out."""
    settle = settings.sheets_landing_seconds if settings.backend == "gsheets" else 0.0
    return Outbox(outbox_path(settings), settle=settle, db=db)


@dataclass(frozen=True)
class Accepted:
    """The request the bot is told about; ``created`` is False for a repeat."""

    request: Request
    created: bool


@dataclass(frozen=True)
class OutboxEntry:
    """A request as the outbox knows it: ``landed_as`` is its ID in the queue once there."""

    request: Request
    landed: bool
    landed_as: str

    @property
    def current(self) -> Request:
        """The request under the ID the queue knows it by."""
        if self.landed_as and self.landed_as != self.request.request_id:
            return self.request.model_copy(update={"request_id": self.landed_as})
        return self.request


class Outbox:
    """Requests accepted but maybe not yet in the queue, in a local SQLite file.

    ``settle``: seconds after an append whose answer was lost before its rows
    are looked up and, if absent, sent again (0 for a store whose writes
    cannot land late). ``db``: the shared state's outbox table instead of the file.
    """

    def __init__(
        self,
        path: Path,
        *,
        retention: timedelta = timedelta(days=7),
        settle: float = 0.0,
        db: StateDb | None = None,
    ) -> None:
        self.path = Path(path)
        self.retention = retention
        self.lock_path = self.path.with_name(self.path.name + ".drain.lock")
        self._listeners: list[Callable[[], None]] = []
        self._group: GroupCommit | None = None
        self._file: StateDb = db if db is not None else self._open_file()
        self._transaction = self._file.write
        self._drain = OutboxDrain(
            self._file,
            lock_path=self.lock_path,
            settle=settle,
            shared=db is not None,
            prune=self.prune,
        )

    def _open_file(self) -> SqliteFile:
        """The local outbox file (its ``sent_at`` column added if it predates it)."""
        file = SqliteFile(self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH (outbox)")
        self._group = GroupCommit(file)
        with file.write() as sqlite:
            columns = {row[1] for row in sqlite.execute("PRAGMA table_info(outbox)")}
            if "sent_at" not in columns:
                sqlite.execute(_SENT_AT)
        return file

    @property
    def settle(self) -> float:
        """Seconds after an append whose answer was lost before its rows are looked up."""
        return self._drain.settle

    def on_accept(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each new request (the flusher's wake-up)."""
        self._listeners.append(listener)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self._file.select(sql, params)]

    @property
    def commits_in_groups(self) -> bool:
        """True when :meth:`accept_soon` hands the write to a committer thread (a local file)."""
        return self._group is not None

    def accept(
        self,
        request: Request,
        *,
        idempotency_key: str = "",
        fingerprint: str = "",
        known_duplicate: Request | None = None,
        closed: Callable[[str], bool] = lambda _request_id: False,
    ) -> Accepted:
        """Store ``request`` durably, or give back the request it repeats.

        A repeat is: the same ``idempotency_key`` (InputError when it came with a
        different ``fingerprint``), a request of the same conversation, type and
        order accepted here that is still waiting or that ``closed(request_id)``
        does not know as closed in the queue, or ``known_duplicate`` (the
        caller's open duplicate already in the queue).
        """
        return self.accept_soon(
            request,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            known_duplicate=known_duplicate,
            closed=closed,
        ).result()

    def accept_soon(
        self,
        request: Request,
        *,
        idempotency_key: str = "",
        fingerprint: str = "",
        known_duplicate: Request | None = None,
        closed: Callable[[str], bool] = lambda _request_id: False,
    ) -> Future[Accepted]:
        """:meth:`accept` as a future, resolved once the commit holding it is on disk.

        On a local file the write joins the next group commit and this returns
        at once; on shared state it is done before this returns.
        """
        key = request.duplicate_key()
        dup = "\x1f".join(key) if key else None

        def store(db: Any) -> Accepted:
            if idempotency_key:
                row = db.execute(
                    "SELECT request_id, record, landed_at, landed_as, fingerprint FROM outbox "
                    "WHERE idempotency_key = ?",
                    (idempotency_key,),
                ).fetchone()
                if row is not None:
                    if fingerprint and row[4] and row[4] != fingerprint:
                        raise InputError(
                            "Idempotency-Key: already used for a different request; "
                            "send a new key for a new request"
                        )
                    return Accepted(_entry(row).current, False)
            if dup is not None:
                rows = db.execute(
                    "SELECT request_id, record, landed_at, landed_as FROM outbox "
                    "WHERE dup_key = ? ORDER BY seq DESC",
                    (dup,),
                ).fetchall()
                for row in rows:
                    entry = _entry(row)
                    if not entry.landed or not closed(entry.current.request_id):
                        return Accepted(entry.current, False)
            if known_duplicate is not None:
                return Accepted(known_duplicate, False)
            db.execute(
                "INSERT INTO outbox (request_id, idempotency_key, fingerprint, dup_key, record, "
                "accepted_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request.request_id,
                    idempotency_key or None,
                    fingerprint,
                    dup,
                    request.model_dump_json(),
                    request.timestamp,
                ),
            )
            return Accepted(request, True)

        if self._group is not None:
            future = self._group.submit(store)
            future.add_done_callback(self._tell_listeners)
            return future
        done: Future[Accepted] = Future()
        try:
            with self._transaction() as db:
                done.set_result(store(db))
        except Exception as exc:
            done.set_exception(exc)
        self._tell_listeners(done)
        return done

    def _tell_listeners(self, future: Future[Accepted]) -> None:
        if future.cancelled() or future.exception() is not None or not future.result().created:
            return
        for listener in self._listeners:
            listener()

    def find(self, request_id: str) -> OutboxEntry | None:
        """The request with this ID as accepted here, or None."""
        rows = self._query(
            "SELECT request_id, record, landed_at, landed_as FROM outbox WHERE request_id = ?",
            (request_id,),
        )
        return _entry(rows[0]) if rows else None

    def waiting(self, limit: int = 1000) -> list[Request]:
        """Requests not yet in the queue, oldest first."""
        rows = self._query(
            "SELECT record FROM outbox WHERE landed_at = '' ORDER BY seq LIMIT ?", (limit,)
        )
        return [Request.model_validate_json(str(row[0])) for row in rows]

    def depth(self) -> int:
        """How many requests wait to reach the queue."""
        return int(str(self._query("SELECT COUNT(*) FROM outbox WHERE landed_at = ''")[0][0]))

    def oldest_waiting(self) -> str:
        """When the oldest request still waiting was accepted (ISO time), or ``""``."""
        rows = self._query("SELECT MIN(accepted_at) FROM outbox WHERE landed_at = ''")
        return str(rows[0][0] or "")

    # -- draining -------------------------------------------------------------

    def drain(
        self,
        store: Store,
        now: datetime,
        *,
        batch_size: int = 500,
        batches: int = 1000,
        wait: float = 0.0,
    ) -> Drained:
        """Land waiting rows in up to ``batches`` appends of ``batch_size``; say what was done.

        See :meth:`~sheetqueue.sheets.outbox_drain.OutboxDrain.drain` (it raises
        StoreError when the store fails; ``busy`` when another drainer held on).
        """
        return self._drain.drain(store, now, batch_size=batch_size, batches=batches, wait=wait)

    def drain_logged(self, store: Store, now: datetime) -> Drained | None:
        """:meth:`drain`, a failure logged instead of raised (the rows wait for the next drain)."""
        try:
            return self.drain(store, now)
        except SheetqueueError as exc:
            log.warning("outbox.drain_failed", error=exc.message, left=self.depth())
            return None

    def prune(self, now: datetime) -> int:
        """Forget landed rows older than the retention; return how many."""
        cutoff = format_time(now - self.retention)
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM outbox WHERE landed_at != '' AND landed_at < ?", (cutoff,)
            )
            return int(cursor.rowcount)

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
        self._file.close()


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    return OutboxEntry(Request.model_validate_json(str(row[1])), bool(row[2]), str(row[3]))
