"""Shared state in PostgreSQL (``SHEETQUEUE_STATE_URL=postgresql://...``): pool, schema, locks.

With a state URL every host of one deployment keeps the outbox, the
notice ledger, the statuses seen, the lookup guard and the rate buckets in
one database, so two API replicas or two workers see the same rows:

- :class:`PgState` opens one connection pool per process (psycopg 3 with
  ``psycopg_pool``) and refuses to start, with one clear line, when the
  server cannot be reached, the URL is wrong, the schema is missing or
  older (run ``sheetqueue migrate``) or newer than this version;
- :func:`migrate` applies the versioned schema (the ``sheetqueue_schema``
  table holds one row per version applied), under a lock, so two hosts
  migrating at once apply each step once;
- :class:`PgFile` is the state port (:class:`~sheetqueue.sheets.state_db.StateDb`)
  on that pool: the SQLite statements are translated, and an exclusive write
  first takes a transaction advisory lock on the piece's name, the way
  ``BEGIN IMMEDIATE`` serialises writers of one SQLite file;
- :class:`PgPassLease` is the pass lease across hosts: a session advisory
  lock (``pg_try_advisory_lock``) on a key made from the spreadsheet, held
  by one connection while its worker runs; a worker killed anywhere loses
  its session, and with it the lock, at once.

Advisory lock keys include ``current_schema()``, so several deployments may
share one server, each in its own schema (``?options=-csearch_path%3Dshop1``).
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import psycopg
import structlog
from psycopg import conninfo
from psycopg_pool import ConnectionPool

from sheetqueue.config.errors import ConfigError, StoreError
from sheetqueue.sheets.lease import Holder, LeaseHeld, LeaseState, note_taken

__all__ = [
    "SCHEMA_VERSION",
    "PgFile",
    "PgPassLease",
    "PgState",
    "describe_url",
    "migrate",
    "schema_version",
]

log = structlog.get_logger("sheetqueue.state")

CONNECT_TIMEOUT = 5
"""Seconds to reach the server before a command gives up with one line."""

_MIGRATIONS: tuple[str, ...] = (
    # 1: every piece of state that used to live in the SQLite state files.
    """
    CREATE TABLE outbox (
        seq BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        idempotency_key TEXT,
        fingerprint TEXT NOT NULL DEFAULT '',
        dup_key TEXT,
        record TEXT NOT NULL,
        accepted_at TEXT NOT NULL,
        landed_at TEXT NOT NULL DEFAULT '',
        landed_as TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        sent_at DOUBLE PRECISION NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX outbox_by_key ON outbox (idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX outbox_waiting ON outbox (landed_at, seq);
    CREATE INDEX outbox_by_dup ON outbox (dup_key) WHERE dup_key IS NOT NULL;
    CREATE TABLE notices (
        request_id TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        delivered TEXT NOT NULL DEFAULT '[]',
        last_error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        finished_at TEXT NOT NULL DEFAULT '',
        maybe TEXT NOT NULL DEFAULT '[]',
        failed TEXT NOT NULL DEFAULT '[]',
        claimed_until TEXT NOT NULL DEFAULT '',
        claimed_by TEXT NOT NULL DEFAULT '',
        in_flight TEXT NOT NULL DEFAULT '[]',
        sheet_mark TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (request_id, status)
    );
    CREATE TABLE seen (request_id TEXT PRIMARY KEY, status TEXT NOT NULL);
    CREATE TABLE lookup_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        first_failed_at TEXT NOT NULL,
        last_failed_at TEXT NOT NULL
    );
    CREATE TABLE rate_buckets (
        key TEXT PRIMARY KEY,
        tokens DOUBLE PRECISION NOT NULL,
        updated DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE pass_holders (key TEXT PRIMARY KEY, state TEXT NOT NULL);
    """,
    # 2: the sheet's edit events (each once, with its editor) and the "pass wanted" mark.
    """
    CREATE TABLE sheet_events (
        event_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        column_name TEXT NOT NULL,
        new_value TEXT NOT NULL,
        editor TEXT NOT NULL DEFAULT '',
        edited_at TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL
    );
    CREATE INDEX sheet_events_by_row ON sheet_events (request_id, column_name);
    CREATE INDEX sheet_events_by_age ON sheet_events (received_at);
    CREATE TABLE pass_wanted (key TEXT PRIMARY KEY, wanted_at TEXT NOT NULL);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)
"""The schema version this sheetqueue reads and writes."""

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS sheetqueue_schema (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
_KEY = "hashtextextended(current_schema() || ':' || %s, 0)"


def describe_url(url: str) -> str:
    """``host:port/dbname`` of a URL, never its password."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the URL given"
    host = str(parts.get("host") or "localhost")
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def _connect(url: str) -> psycopg.Connection[Any]:
    """A connection, or ConfigError: one line naming the server and the cause."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        reason = reason.removeprefix("FATAL:").strip()
        raise ConfigError(
            f"SHEETQUEUE_STATE_URL: cannot use PostgreSQL at {describe_url(url)}: {reason}"
        ) from None


def schema_version(connection: psycopg.Connection[Any]) -> int:
    """The highest schema version applied in this database (0: none)."""
    exists = connection.execute("SELECT to_regclass('sheetqueue_schema')").fetchone()
    if exists is None or exists[0] is None:
        return 0
    row = connection.execute("SELECT COALESCE(MAX(version), 0) FROM sheetqueue_schema").fetchone()
    return int(row[0]) if row else 0


def _refuse_newer(version: int, url: str) -> None:
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"SHEETQUEUE_STATE_URL: the schema at {describe_url(url)} is version {version}, "
            f"newer than this sheetqueue's ({SCHEMA_VERSION}); upgrade it "
            "(pip install --upgrade sheetqueue) on this host before starting"
        )


def migrate(url: str) -> tuple[int, int]:
    """Apply the schema steps not yet applied; (version before, version after)."""
    with _connect(url) as connection:
        try:
            with connection.transaction():
                connection.execute(f"SELECT pg_advisory_xact_lock({_KEY})", ("migrate",))
                connection.execute(_VERSION_TABLE)
                before = schema_version(connection)
                _refuse_newer(before, url)
                for version in range(before + 1, SCHEMA_VERSION + 1):
                    connection.execute(_MIGRATIONS[version - 1])
                    connection.execute(
                        "INSERT INTO sheetqueue_schema (version) VALUES (%s)", (version,)
                    )
        except psycopg.Error as exc:
            raise StoreError(f"SHEETQUEUE_STATE_URL: the migration failed: {exc}") from exc
    if before != SCHEMA_VERSION:
        log.info("state.migrated", before=before, after=SCHEMA_VERSION)
    return before, SCHEMA_VERSION


def check_schema(url: str) -> int:
    """The schema version, or ConfigError saying which command to run."""
    with _connect(url) as connection:
        version = schema_version(connection)
    _refuse_newer(version, url)
    if version < SCHEMA_VERSION:
        raise ConfigError(
            f"SHEETQUEUE_STATE_URL: the schema at {describe_url(url)} is version {version}, "
            f"this sheetqueue needs {SCHEMA_VERSION}: run `sheetqueue migrate`"
        )
    return version


class PgState:
    """One process's pool on the state database, opened once per URL."""

    _shared: dict[str, PgState] = {}  # noqa: RUF012 - one pool per process and URL
    _shared_lock = threading.Lock()

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        check_schema(url)
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            check=ConnectionPool.check_connection,
            open=True,
            name="sheetqueue-state",
        )

    @classmethod
    def shared(cls, url: str) -> PgState:
        """The process's pool for ``url`` (made, and checked, on first use)."""
        with cls._shared_lock:
            state = cls._shared.get(url)
            if state is None or state.pool.closed:
                state = cls._shared[url] = cls(url)
                atexit.register(state.close)
            return state

    def db(self, piece: str) -> PgFile:
        """The state port for one piece (``outbox``, ``ledger``, ``lookup``, ``rate``, ...)."""
        return PgFile(self.pool, piece)

    def close(self) -> None:
        self.pool.close()


@lru_cache(maxsize=256)
def _translate(sql: str) -> str:
    """SQLite's spelling to PostgreSQL's: ``?`` placeholders, ``INSERT OR IGNORE``."""
    text = sql.replace("%", "%%").replace("?", "%s")
    if re.match(r"\s*INSERT OR IGNORE INTO", text):
        text = text.replace("INSERT OR IGNORE INTO", "INSERT INTO", 1) + " ON CONFLICT DO NOTHING"
    return text


class _Transaction:
    """A PostgreSQL connection inside a transaction, spoken to in SQLite's SQL."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Any = (), /) -> psycopg.Cursor[Any]:
        return self._connection.execute(_translate(sql), parameters or None)

    def executemany(self, sql: str, parameters: Any, /) -> psycopg.Cursor[Any]:
        cursor = self._connection.cursor()
        cursor.executemany(_translate(sql), list(parameters))
        return cursor


class PgFile:
    """The state port on the shared pool, for one piece of state."""

    dialect: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], piece: str) -> None:
        self._pool = pool
        self.piece = piece

    @contextmanager
    def write(self, exclusive: bool = True) -> Iterator[_Transaction]:
        try:
            with self._pool.connection() as connection, connection.transaction():
                if exclusive:
                    connection.execute(f"SELECT pg_advisory_xact_lock({_KEY})", (self.piece,))
                yield _Transaction(connection)
        except psycopg.Error as exc:
            raise StoreError(f"cannot write the shared state ({self.piece}): {exc}") from exc

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            with self._pool.connection() as connection:
                return connection.execute(_translate(sql), tuple(params) or None).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the shared state ({self.piece}): {exc}") from exc

    def close(self) -> None:
        """Nothing to do: the pool belongs to the process's :class:`PgState`."""


class PgPassLease:
    """The pass lease as a session advisory lock: held while this worker's connection lives.

    ``key`` names the queue (the spreadsheet ID, or the local file). The
    holder's identity and the time it last renewed are kept in
    ``pass_holders`` for the message another worker prints when refused.
    """

    def __init__(self, url: str, key: str, holder: Holder, ttl: timedelta) -> None:
        self.url = url
        self.key = f"pass:{key}"
        self.holder = holder
        self.ttl = ttl
        self._connection: psycopg.Connection[Any] | None = None
        self._serial = 0

    def acquire(self, now: datetime) -> LeaseState:
        connection = self._session()
        previous = self._read(connection)
        if self._connection is None:
            row = connection.execute(f"SELECT pg_try_advisory_lock({_KEY})", (self.key,))
            got = row.fetchone()
            if not got or not got[0]:
                connection.close()
                held = previous.holder or Holder("", "unknown", 0)
                raise LeaseHeld(held, previous.expires or now + self.ttl)
            self._connection = connection
            note_taken(previous, LeaseState(self.holder, now + self.ttl, previous.serial + 1))
        taken = LeaseState(self.holder, now + self.ttl, previous.serial + 1)
        self._write(connection, taken)
        log.info("lease.pass_started", holder=self.holder.describe(), serial=taken.serial)
        return taken

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            current = self._read(connection)
            self._write(connection, LeaseState.free(current.serial + 1))
            connection.execute(f"SELECT pg_advisory_unlock({_KEY})", (self.key,))
        except psycopg.Error as exc:  # a lost session has released the lock already
            log.warning("lease.release_failed", error=str(exc))
        finally:
            connection.close()

    def peek(self) -> LeaseState:
        with _connect(self.url) as connection:
            state = self._read(connection)
            row = connection.execute(f"SELECT pg_try_advisory_lock({_KEY})", (self.key,))
            got = row.fetchone()
            if got and got[0]:  # no one holds it: whatever the table says is stale
                connection.execute(f"SELECT pg_advisory_unlock({_KEY})", (self.key,))
                return LeaseState.free(state.serial)
            return state

    def _session(self) -> psycopg.Connection[Any]:
        """The lock's own connection if it is alive; else a new one (a lost lock is retaken)."""
        if self._connection is not None:
            try:
                self._connection.execute("SELECT 1")
                return self._connection
            except psycopg.Error:
                log.warning("lease.session_lost", holder=self.holder.describe())
                self._connection.close()
                self._connection = None
        return _connect(self.url)

    def _read(self, connection: psycopg.Connection[Any]) -> LeaseState:
        try:
            row = connection.execute(
                "SELECT state FROM pass_holders WHERE key = %s", (self.key,)
            ).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the pass lease: {exc}") from exc
        return LeaseState.parse(str(row[0])) if row else LeaseState.free()

    def _write(self, connection: psycopg.Connection[Any], state: LeaseState) -> None:
        try:
            connection.execute(
                "INSERT INTO pass_holders (key, state) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET state = excluded.state",
                (self.key, state.text()),
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot write the pass lease: {exc}") from exc
