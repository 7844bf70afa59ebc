"""The durable outbox: requests accepted in milliseconds, landed in the queue exactly once.

``POST /v1/requests`` writes the new row to a local SQLite file (WAL,
``synchronous=FULL``: a commit is on disk before the bot hears "saved") and
answers at once. Requests that arrive together share one transaction and one
sync to disk (:class:`~sheetqueue.sheets.sqlite_file.GroupCommit`): each is
answered only after the commit that holds it, and one refused (a reused
``Idempotency-Key``) is rolled back alone. :meth:`Outbox.drain` then appends the waiting rows to the
store in batches, one ``add_requests`` call (one append) for many rows. Every
process drains the same way: ``tick`` and ``worker`` before each pass, and
``serve`` from its flusher thread.

Exactly once, by design:

- one drainer at a time per outbox file: a drain holds ``<outbox>.drain.lock``
  (a file lock the system drops when its process dies); a second drainer
  waits up to ``wait`` seconds, then skips, since the first one lands the rows;
- every row carries its Request ID, and ``add_requests`` skips IDs the queue
  already holds: a row landed by an earlier attempt is marked landed, never
  appended twice;
- before a batch is handed to the store, its rows are stamped "sent at" in
  the file. When the append's answer is lost (a timeout, a dropped
  connection, a 5xx, or the process killed), the rows stay stamped and no
  drainer touches them until ``settle`` seconds after that stamp (how long
  an append can still be processed after its sender gave up: 180 s on
  Google's side); only then is the queue read again and their IDs looked up.
  An attempt that surely did not land (the store refused it, or failed
  before sending) clears the stamp and the rows are tried again at once.

With ``SHEETQUEUE_STATE_URL`` the rows are a table in PostgreSQL shared by
every replica (:mod:`sheetqueue.sheets.pg_state`): there is no drain lock, and
replicas drain at once, each claiming its batch with ``FOR UPDATE SKIP
LOCKED`` and stamping it in the same transaction, then keeping those rows
locked while their append runs, so a row is handed to one append at a time;
a drainer killed mid-append leaves its rows stamped, looked up after
``settle`` (at least ``CLAIM_SECONDS``) as on one host.

Landed rows are kept for ``retention`` (a week) so a repeated
``Idempotency-Key`` still gets its first answer, then pruned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from filelock import FileLock, Timeout

from sheetqueue.config.errors import InputError, SheetqueueError, StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sqlite_file import GroupCommit, SqliteFile
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.store import LandingUnknown, Store
from sheetqueue.sheets.times import format_time

__all__ = [
    "CLAIM_SECONDS",
    "Accepted",
    "Drained",
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
# Seconds since the epoch of the last attempt whose outcome is unknown; 0: none.
_PICK = (
    "SELECT request_id, record FROM outbox WHERE landed_at = '' AND sent_at <= ? "
    "ORDER BY seq LIMIT ?"
)
_PICK_SHARED = _PICK + " FOR UPDATE SKIP LOCKED"
_LOCK_ROWS = "SELECT seq FROM outbox WHERE request_id = ANY(?) FOR UPDATE"
CLAIM_SECONDS = 5.0
"""On shared state, how long a batch claimed by one replica is left to it."""
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


@dataclass(frozen=True)
class Drained:
    """What one drain did.

    ``landed``: rows now known to be in the queue; ``appends``: store calls
    made; ``held``: rows whose earlier append may still land, left alone
    until ``due_in`` seconds from now; ``busy``: another drainer held the lock.
    """

    landed: int = 0
    appends: int = 0
    held: int = 0
    due_in: float | None = None
    busy: bool = False


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
        self.settle = settle
        self.lock_path = self.path.with_name(self.path.name + ".drain.lock")
        self._listeners: list[Callable[[], None]] = []
        self._shared = db is not None
        self._group: GroupCommit | None = None
        if db is not None:
            self.settle = max(settle, CLAIM_SECONDS)
            self._file: StateDb = db
            self._transaction = self._file.write
            return
        self._file = SqliteFile(self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH (outbox)")
        self._transaction = self._file.write
        self._group = GroupCommit(self._file)
        with self._transaction() as sqlite:
            columns = {row[1] for row in sqlite.execute("PRAGMA table_info(outbox)")}
            if "sent_at" not in columns:
                sqlite.execute(_SENT_AT)

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

        Holds the drain lock throughout (``busy`` when another drainer kept it
        for ``wait`` seconds). Raises StoreError when the store fails: rows
        that surely did not land wait to be tried again, rows whose append
        may still land are held for ``settle`` seconds.
        """
        lock = _NoLock() if self._shared else FileLock(self.lock_path)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            log.info("outbox.drain_skipped", reason="another drainer holds the lock")
            return Drained(busy=True)
        landed = appends = 0
        try:
            for _ in range(batches):
                count, sent = self._drain_batch(store, now, batch_size)
                landed, appends = landed + count, appends + sent
                if count < batch_size:
                    break
            held, due_in = self._held(now)
            self.prune(now)
        finally:
            lock.release()
        if landed or held:
            log.info("outbox.drained", landed=landed, appends=appends, held=held)
        return Drained(landed=landed, appends=appends, held=held, due_in=due_in)

    def drain_logged(self, store: Store, now: datetime) -> Drained | None:
        """:meth:`drain`, a failure logged instead of raised (the rows wait for the next drain)."""
        try:
            return self.drain(store, now)
        except SheetqueueError as exc:
            log.warning("outbox.drain_failed", error=exc.message, left=self.depth())
            return None

    def _drain_batch(self, store: Store, now: datetime, batch_size: int) -> tuple[int, int]:
        """One ``add_requests`` of rows due; (rows now known landed, store calls made)."""
        stamp = now.timestamp()
        pick = _PICK_SHARED if self._shared else _PICK
        # pick and stamp in one transaction: a claim (rows another replica is claiming skipped)
        with self._transaction(exclusive=not self._shared) as db:
            rows = db.execute(
                pick,
                (stamp - self.settle, batch_size),
            ).fetchall()
            db.executemany(
                "UPDATE outbox SET sent_at = ? WHERE request_id = ?",
                [(stamp, row[0]) for row in rows],
            )
        if not rows:
            return 0, 0
        batch = [Request.model_validate_json(str(row[1])) for row in rows]
        ids = [request.request_id for request in batch]
        try:
            with self._holding(ids):
                result = store.add_requests(batch)
        except LandingUnknown as exc:
            self._note_failure(ids, exc, keep_sent=True)
            raise
        except Exception as exc:
            self._note_failure(ids, exc, keep_sent=False)
            if isinstance(exc, SheetqueueError):
                raise
            raise StoreError(f"the queue refused the outbox batch: {exc}") from exc
        landed_at = format_time(now)
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET landed_at = ?, landed_as = ?, sent_at = 0, "
                "attempts = attempts + 1 WHERE request_id = ? AND landed_at = ''",
                [
                    (landed_at, saved.request_id, sent.request_id)
                    for sent, saved in zip(batch, result.requests, strict=True)
                ],
            )
        already = sum(1 for created in result.created if not created)
        log.info("outbox.flushed", rows=len(batch), created=len(batch) - already)
        return len(batch), 1

    @contextmanager
    def _holding(self, request_ids: list[str]) -> Iterator[None]:
        """On shared state, keep the claimed rows locked while their append runs.

        Another replica's claim skips locked rows, so a row whose settle time ran
        out while its append still runs is not picked again; if this process
        dies, its transaction ends, the lock goes, and the stamp stays: the
        rows are looked up once ``settle`` has passed.
        """
        if not self._shared:
            yield
            return
        with self._transaction(exclusive=False) as db:
            db.execute(_LOCK_ROWS, (request_ids,))
            yield

    def _held(self, now: datetime) -> tuple[int, float | None]:
        """Rows whose earlier append may still land, and seconds until the first is due."""
        if not self.settle:
            return 0, None
        cutoff = now.timestamp() - self.settle
        count, first = self._query(
            "SELECT COUNT(*), MIN(sent_at) FROM outbox WHERE landed_at = '' AND sent_at > ?",
            (cutoff,),
        )[0]
        if not count:
            return 0, None
        return int(str(count)), max(0.0, float(str(first)) - cutoff)

    def _mark(self, request_ids: Sequence[str], sql: str, *values: object) -> None:
        with self._transaction() as db:
            db.executemany(sql, [(*values, request_id) for request_id in request_ids])

    def _note_failure(self, request_ids: list[str], exc: BaseException, *, keep_sent: bool) -> None:
        text = f"{type(exc).__name__}: {exc}"[:500]
        sql = (
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE request_id = ?"
            if keep_sent
            else "UPDATE outbox SET attempts = attempts + 1, last_error = ?, sent_at = 0 "
            "WHERE request_id = ?"
        )
        try:
            self._mark(request_ids, sql, text)
        except StoreError as error:  # counting an attempt must not hide the real failure
            log.warning("outbox.note_failed", error=str(error))

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


class _NoLock:
    """Shared state needs no drain lock: claims are row locks."""

    def acquire(self, timeout: float) -> None:
        """Nothing to wait for."""

    def release(self) -> None:
        """Nothing held."""


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    return OutboxEntry(Request.model_validate_json(str(row[1])), bool(row[2]), str(row[3]))
