"""Draining the outbox: its waiting rows appended to the store in batches, exactly once.

:class:`OutboxDrain` works on the outbox table
(:class:`~sheetqueue.sheets.outbox.Outbox` owns it and accepts into it): one
``add_requests`` call (one append) for many rows. Exactly once, by design:

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

On shared state (PostgreSQL, :mod:`sheetqueue.sheets.pg_state`) there is no
drain lock, and replicas drain at once, each claiming its batch with ``FOR
UPDATE SKIP LOCKED`` and stamping it in the same transaction, then keeping
those rows locked while their append runs, so a row is handed to one append
at a time; a drainer killed mid-append leaves its rows stamped, looked up
after ``settle`` (at least :data:`CLAIM_SECONDS`) as on one host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from filelock import FileLock, Timeout

from sheetqueue.config.errors import SheetqueueError, StoreError
from sheetqueue.sheets.model import Request
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.store import LandingUnknown, Store
from sheetqueue.sheets.times import format_time

__all__ = ["CLAIM_SECONDS", "Drained", "OutboxDrain"]

log = structlog.get_logger("sheetqueue.outbox")

# sent_at: seconds since the epoch of the last attempt whose outcome is unknown; 0: none.
_PICK = (
    "SELECT request_id, record FROM outbox WHERE landed_at = '' AND sent_at <= ? "
    "ORDER BY seq LIMIT ?"
)
_PICK_SHARED = _PICK + " FOR UPDATE SKIP LOCKED"
_LOCK_ROWS = "SELECT seq FROM outbox WHERE request_id = ANY(?) FOR UPDATE"
CLAIM_SECONDS = 5.0
"""On shared state, how long a batch claimed by one replica is left to it."""


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


class OutboxDrain:
    """Lands the waiting rows of the outbox table in ``db`` in the store.

    ``lock_path``: the drain lock (unused on ``shared`` state). ``settle``:
    seconds after an append whose answer was lost before its rows are looked
    up and, if absent, sent again. ``prune``: run after each drain (the
    outbox forgets landed rows past its retention).
    """

    def __init__(
        self,
        db: StateDb,
        *,
        lock_path: Path,
        settle: float,
        shared: bool,
        prune: Callable[[datetime], int],
    ) -> None:
        self._file = db
        self._transaction = db.write
        self.lock_path = lock_path
        self.settle = max(settle, CLAIM_SECONDS) if shared else settle
        self._shared = shared
        self._prune = prune

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self._file.select(sql, params)]

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
            self._prune(now)
        finally:
            lock.release()
        if landed or held:
            log.info("outbox.drained", landed=landed, appends=appends, held=held)
        return Drained(landed=landed, appends=appends, held=held, due_in=due_in)

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


class _NoLock:
    """Shared state needs no drain lock: claims are row locks."""

    def acquire(self, timeout: float) -> None:
        """Nothing to wait for."""

    def release(self) -> None:
        """Nothing held."""
