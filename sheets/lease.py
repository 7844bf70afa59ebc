"""The pass lease: which one worker may run passes on a store, kept in the store itself.

A worker (cron ``tick`` runs of one installation, or a ``sheetqueue worker``)
is a :class:`Holder`: the host, the process id, and a random token kept beside
its state file, so every cron run of one installation is the same holder and
a second installation (another host, another state file) is not. Before each
pass the worker calls :meth:`PassLease.acquire` with the pass's ``now``:

- free, expired, or already its own: it is taken (or renewed) until
  ``now + ttl`` with a compare-and-set, so of two takers only one wins;
- held by another holder and not yet expired: :class:`LeaseHeld` names that
  holder and when its lease runs out; the pass does not run.

The worker renews the lease again during the pass (before it sends, and
after long steps; see :mod:`sheetqueue.worker.inflight`), so the lease
covers the whole pass. A holder that crashed simply stops renewing: its
lease expires ``ttl`` after its last renewal and another worker takes over.
The ttl is ``max(3 x interval, lease_seconds)`` (60 s by default), long
enough that ordinary slowness (Sheets retries, a slow send step) cannot
expire it mid-pass; that is also how long a crashed holder keeps the queue.
:meth:`PassLease.release` frees it at a clean stop. What the lease cell holds is one line of JSON
(:class:`LeaseState`), the same for every store; :func:`claim` is the pure
rule both stores apply.

Implementations: :class:`SqliteLease` (a ``pass_lease`` table in the local
queue file, one ``BEGIN IMMEDIATE`` transaction per change) and
:class:`~sheetqueue.sheets.gsheets_lease.GsheetsLease` (a hidden tab).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from sheetqueue.config.errors import StoreError
from sheetqueue.sheets.times import format_time, parse_time

__all__ = [
    "Holder",
    "LeaseHeld",
    "LeaseState",
    "PassLease",
    "SqliteLease",
    "claim",
    "holder_for_state",
    "lease_ttl",
    "note_taken",
]

LEASE_INTERVALS = 3
"""A lease lasts this many worker intervals past the pass that took or renewed it."""

log = structlog.get_logger("sheetqueue.worker")


@dataclass(frozen=True)
class Holder:
    """Who runs passes: ``token`` is the identity; host and pid say where, for people."""

    token: str
    host: str
    pid: int

    def describe(self) -> str:
        return f"host {self.host} pid {self.pid}"


@dataclass(frozen=True)
class LeaseState:
    """What a lease holds: a holder until ``expires`` (none when free), and a serial."""

    holder: Holder | None
    expires: datetime | None
    serial: int

    @classmethod
    def free(cls, serial: int = 0) -> LeaseState:
        return cls(None, None, serial)

    def text(self) -> str:
        """The one-line JSON a store keeps."""
        holder = self.holder
        return json.dumps(
            {
                "host": holder.host if holder else "",
                "pid": holder.pid if holder else 0,
                "token": holder.token if holder else "",
                "expires": format_time(self.expires) if self.expires else "",
                "serial": self.serial,
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str) -> LeaseState:
        """The state a store's text says; anything unreadable counts as free."""
        try:
            data = json.loads(text)
            serial = int(data.get("serial", 0))
            token = str(data.get("token", ""))
            expires = parse_time(str(data.get("expires", "")))
            holder = Holder(token, str(data.get("host", "")), int(data.get("pid", 0)))
        except (ValueError, TypeError, AttributeError):
            return cls.free()
        if not token or expires is None:
            return cls.free(serial)
        return cls(holder, expires, serial)

    def live_for_other(self, me: Holder, now: datetime) -> bool:
        """Held by someone else, and not expired at ``now``."""
        return (
            self.holder is not None
            and self.holder.token != me.token
            and self.expires is not None
            and self.expires > now
        )


class LeaseHeld(StoreError):
    """Another worker holds this store's pass lease; this one must not run a pass."""

    def __init__(self, holder: Holder, expires: datetime) -> None:
        super().__init__(
            f"another worker runs passes on this queue ({holder.describe()}, its lease "
            f"runs to {format_time(expires)}); stop one of them, or wait for that lease "
            "to expire"
        )
        self.holder = holder
        self.expires = expires


def claim(current: LeaseState, me: Holder, now: datetime, ttl: timedelta) -> LeaseState:
    """The state after ``me`` takes or renews the lease at ``now``; LeaseHeld if it may not."""
    if current.live_for_other(me, now):
        assert current.holder is not None and current.expires is not None
        raise LeaseHeld(current.holder, current.expires)
    return LeaseState(me, now + ttl, current.serial + 1)


def lease_ttl(interval_seconds: float, floor_seconds: float = 0) -> timedelta:
    """How long a lease lasts: a few intervals and at least ``floor_seconds``.

    Long enough that a pass slowed by retries keeps it; short enough that a
    dead holder's queue is taken over soon.
    """
    return timedelta(seconds=max(LEASE_INTERVALS * interval_seconds, floor_seconds))


def note_taken(previous: LeaseState, taken: LeaseState) -> None:
    """Log a lease this holder did not have before (from no one, or an expired holder)."""
    assert taken.holder is not None
    before = previous.holder
    log.info(
        "lease.taken",
        holder=taken.holder.describe(),
        previous=before.describe() if before and before.token != taken.holder.token else "",
    )


class PassLease(Protocol):
    """One store's pass lease, as seen by one holder."""

    holder: Holder
    ttl: timedelta

    def acquire(self, now: datetime) -> LeaseState:
        """Take or renew the lease until ``now + ttl``; LeaseHeld when another holds it."""
        ...

    def release(self) -> None:
        """Free the lease if this holder has it (a clean stop); never raises for a lost one."""
        ...

    def peek(self) -> LeaseState:
        """The lease as the store holds it now."""
        ...


def holder_for_state(state_path: Path) -> Holder:
    """This process as a holder: the token kept beside ``state_path`` (made on first use)."""
    path = state_path.with_name(f"{state_path.name}.holder")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise StoreError(f"SHEETQUEUE_STATE_PATH: cannot read {path}: {exc}") from exc
    if not token:
        token = _new_token(path)
    return Holder(token, socket.gethostname(), os.getpid())


def _new_token(path: Path) -> str:
    token = secrets.token_hex(8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
    except FileExistsError:  # another process of this installation made it first
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StoreError(f"SHEETQUEUE_STATE_PATH: cannot write {path}: {exc}") from exc
    return token


_SCHEMA = """
CREATE TABLE IF NOT EXISTS pass_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL
)
"""


class SqliteLease:
    """The lease as one row of the local queue file (``SHEETQUEUE_LOCAL_PATH``)."""

    def __init__(
        self, path: Path, holder: Holder, ttl: timedelta, *, timeout: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.holder = holder
        self.ttl = ttl
        self._timeout = timeout
        self._held = False

    def acquire(self, now: datetime) -> LeaseState:
        try:
            with self._transaction() as db:
                previous = self._read(db)
                taken = claim(previous, self.holder, now, self.ttl)
                db.execute(
                    "INSERT INTO pass_lease (id, state) VALUES (1, ?) "
                    "ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                    (taken.text(),),
                )
        except LeaseHeld:
            self._held = False
            raise
        if not self._held:
            note_taken(previous, taken)
            self._held = True
        return taken

    def release(self) -> None:
        with self._transaction() as db:
            current = self._read(db)
            if current.holder is not None and current.holder.token == self.holder.token:
                db.execute(
                    "UPDATE pass_lease SET state = ? WHERE id = 1",
                    (LeaseState.free(current.serial + 1).text(),),
                )
        self._held = False

    def peek(self) -> LeaseState:
        with self._transaction() as db:
            return self._read(db)

    @staticmethod
    def _read(db: sqlite3.Connection) -> LeaseState:
        row = db.execute("SELECT state FROM pass_lease WHERE id = 1").fetchone()
        return LeaseState.parse(row[0]) if row else LeaseState.free()

    def _transaction(self) -> _Transaction:
        return _Transaction(self.path, self._timeout)


class _Transaction:
    """A short-lived connection holding one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
            self._db.execute(_SCHEMA)
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._close()
            raise StoreError(f"SHEETQUEUE_LOCAL_PATH: cannot use {self._path}: {exc}") from exc
        return self._db

    def __exit__(self, kind: object, error: object, _tb: object) -> None:
        assert self._db is not None
        with closing(self._db) as db:
            try:
                db.execute("ROLLBACK" if error is not None else "COMMIT")
            except sqlite3.Error as exc:
                if error is None:
                    raise StoreError(f"cannot write {self._path}: {exc}") from exc

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
