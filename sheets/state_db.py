"""The state port: where the outbox, the ledger, the lookup guard and the rate buckets keep rows.

Two implementations: :class:`~sheetqueue.sheets.sqlite_file.SqliteFile` (one
file on this host, the default) and
:class:`~sheetqueue.sheets.pg_state.PgFile` (tables in PostgreSQL, shared by
every host that names the same ``SHEETQUEUE_STATE_URL``). Both run the same
SQL, written for SQLite (``?`` placeholders, ``INSERT OR IGNORE``); the
PostgreSQL side translates it. A ``write()`` is one transaction; an
``exclusive`` one (the default) is serialised with every other exclusive
write of the same piece, on every host, as SQLite's ``BEGIN IMMEDIATE`` is.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

__all__ = ["StateConnection", "StateDb"]


class StateConnection(Protocol):
    """What a write transaction offers: ``execute`` and ``executemany``."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


class StateDb(Protocol):
    """One piece's tables: transactions, reads, and its SQL dialect."""

    dialect: Literal["sqlite", "postgresql"]

    def write(self, exclusive: bool = True) -> AbstractContextManager[Any]:
        """A transaction (a :class:`StateConnection`); rolled back if the block raises."""
        ...

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of a query; each indexable by position."""
        ...

    def close(self) -> None: ...
