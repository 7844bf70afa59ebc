"""The durable outbox: accept a request in milliseconds, land it in the queue later.

``POST /v1/requests`` writes the new row to a local SQLite file (WAL,
``synchronous=FULL``: a commit is on disk before the bot hears "saved") and
answers at once. A :class:`Flusher` thread then appends the waiting rows to the
store in batches, one ``add_requests`` call (one append) for many rows, and
backs off while the store fails: while the sheet is down or over quota,
requests keep being accepted and land later.

Crash safety: a row is marked landed only after the store answered. A crash
between the append and the mark means the row is sent again on restart, and
the store skips Request IDs it already holds, so no row lands twice and none
is lost. Several processes may share one outbox file: each accept is one
``BEGIN IMMEDIATE`` transaction, and two flushers sending the same row are
made harmless by the same rule.

Landed rows are kept for ``retention`` (a week) so a repeated
``Idempotency-Key`` still gets its first answer, then pruned.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import InputError, SheetqueueError, StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.sqlite_file import SqliteFile
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.metrics import Metrics

__all__ = ["Accepted", "Flusher", "Outbox", "OutboxEntry", "outbox_path"]

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


def outbox_path(settings: Settings) -> Path:
    """The outbox file: beside the worker's state file (``state.db`` -> ``state.outbox.db``)."""
    state = settings.state_path
    return state.with_name(f"{state.stem}.outbox{state.suffix or '.db'}")


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
    """Requests accepted but maybe not yet in the queue, in a local SQLite file."""

    def __init__(self, path: Path, *, retention: timedelta = timedelta(days=7)) -> None:
        self.path = Path(path)
        self.retention = retention
        self._listeners: list[Callable[[], None]] = []
        self._file = SqliteFile(self.path, _SCHEMA, setting="SHEETQUEUE_STATE_PATH (outbox)")
        self._transaction = self._file.write

    def on_accept(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each new request (the flusher's wake-up)."""
        self._listeners.append(listener)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self._file.select(sql, params)]

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
        key = request.duplicate_key()
        dup = "\x1f".join(key) if key else None
        with self._transaction() as db:
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
        for listener in self._listeners:
            listener()
        return Accepted(request, True)

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

    def flush_once(self, store: Store, now: datetime, batch_size: int = 500) -> int:
        """Append up to ``batch_size`` waiting rows in one ``add_requests``; return how many.

        Raises StoreError (the rows stay waiting, their attempt counted) when the
        store fails.
        """
        rows = self._query(
            "SELECT request_id, record FROM outbox WHERE landed_at = '' ORDER BY seq LIMIT ?",
            (batch_size,),
        )
        if not rows:
            return 0
        batch = [Request.model_validate_json(str(row[1])) for row in rows]
        try:
            result = store.add_requests(batch)
        except Exception as exc:
            self._note_failure([r.request_id for r in batch], exc)
            if isinstance(exc, SheetqueueError):
                raise
            raise StoreError(f"the queue refused the outbox batch: {exc}") from exc
        stamp = format_time(now)
        with self._transaction() as db:
            db.executemany(
                "UPDATE outbox SET landed_at = ?, landed_as = ?, attempts = attempts + 1 "
                "WHERE request_id = ? AND landed_at = ''",
                [
                    (stamp, saved.request_id, sent.request_id)
                    for sent, saved in zip(batch, result.requests, strict=True)
                ],
            )
        log.info("outbox.flushed", rows=len(batch), created=sum(result.created))
        return len(batch)

    def _note_failure(self, request_ids: list[str], exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"[:500]
        try:
            with self._transaction() as db:
                db.executemany(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                    "WHERE request_id = ?",
                    [(text, request_id) for request_id in request_ids],
                )
        except StoreError as error:  # counting an attempt must not hide the real failure
            log.warning("outbox.note_failed", error=str(error))

    def prune(self, now: datetime) -> int:
        """Forget landed rows older than the retention; return how many."""
        cutoff = format_time(now - self.retention)
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM outbox WHERE landed_at != '' AND landed_at < ?", (cutoff,)
            )
            return cursor.rowcount

    def close(self) -> None:
        self._file.close()


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    return OutboxEntry(Request.model_validate_json(str(row[1])), bool(row[2]), str(row[3]))


class Flusher:
    """A thread that moves waiting rows from the outbox to the store.

    At most one append every ``interval`` seconds (a sheet's write quota is per
    minute), up to ``batch_size`` rows each; woken at once when a request is
    accepted, and every ``poll`` seconds for rows other processes accepted.
    After a failure it waits ``interval * 2**n`` (capped at ``max_backoff``,
    with jitter) and tries again, forever: rows are never dropped. The store
    is opened by ``open_store`` on the flusher's own thread and closed there.
    """

    def __init__(
        self,
        outbox: Outbox,
        open_store: Callable[[], Store],
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        max_backoff: float = 60.0,
        poll: float = 5.0,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.outbox = outbox
        self.batch_size = batch_size
        self.interval = interval
        self.max_backoff = max_backoff
        self.poll = poll
        self.failures = 0
        self._open_store = open_store
        self._clock = clock
        self._metrics = metrics or Metrics()
        self._store: Store | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = datetime.min.replace(tzinfo=clock().tzinfo)
        outbox.on_accept(self._wake.set)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sheetqueue-outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Flush now rather than at the next poll."""
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the outbox is empty (for tests and scripts); True when it is."""
        end = threading.Event()
        for _ in range(max(1, int(timeout / 0.02))):
            if self.outbox.depth() == 0:
                return True
            self._wake.set()
            end.wait(0.02)
        return self.outbox.depth() == 0

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after one last best-effort flush (rows left wait in the file)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self._cycle()
                if delay > 0:
                    self._stop.wait(delay)
                if not self._stop.is_set():
                    self._wake.wait(self.poll)
                    self._wake.clear()
            self._final_flush()
        finally:
            if self._store is not None:
                self._store.close()

    def _cycle(self) -> float:
        """One append; the pause before the next (the interval, a backoff, or none)."""
        now = self._clock()
        try:
            if self._store is None:
                self._store = self._open_store()
            landed = self.outbox.flush_once(self._store, now, self.batch_size)
        except Exception as exc:  # a failing store must not kill the thread
            self.failures += 1
            self._metrics.inc("sheetqueue_outbox_flushes_total", result="failed")
            pause: float = min(self.max_backoff, self.interval * 2.0 ** min(self.failures, 30))
            pause *= random.uniform(0.5, 1.0)
            log.warning(
                "outbox.flush_failed",
                error=str(exc),
                error_type=type(exc).__name__,
                failures=self.failures,
                retry_in=round(pause, 2),
            )
            self._wake.set()
            return pause
        self.failures = 0
        if landed:
            self._metrics.inc("sheetqueue_outbox_flushes_total", result="ok")
            self._metrics.inc("sheetqueue_outbox_landed_total", landed)
        if landed >= self.batch_size:
            self._wake.set()
        if now - self._last_prune > timedelta(minutes=10):
            self._last_prune = now
            self.outbox.prune(now)
        return self.interval if landed else 0.0

    def _final_flush(self) -> None:
        for _ in range(1000):
            try:
                if self._store is None:
                    self._store = self._open_store()
                if not self.outbox.flush_once(self._store, self._clock(), self.batch_size):
                    return
            except Exception as exc:  # best effort: the rows stay in the file
                log.warning("outbox.final_flush_failed", error=str(exc), left=self.outbox.depth())
                return
