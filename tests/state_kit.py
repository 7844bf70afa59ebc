"""Both state implementations behind one fixture: the SQLite files, or PostgreSQL tables.

:class:`StateKit` opens the outbox, the ledger, the lookup guard and the sheet events on one
state; every call opens a new instance (for PostgreSQL, on its own pool, as
another host would), all closed at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from sheetqueue.bot_actions.lookup_guard import LookupGuard
from sheetqueue.sheets.outbox import Outbox
from sheetqueue.sheets.pg_state import PgState
from sheetqueue.sheets.state_db import StateDb
from sheetqueue.sheets.team_events import TeamEvents
from sheetqueue.worker.ledger import Ledger

__all__ = ["StateKit"]


class StateKit:
    """Instances of each piece of state, on SQLite under ``folder`` or on PostgreSQL at ``url``."""

    def __init__(self, kind: Literal["sqlite", "postgresql"], folder: Path, url: str = "") -> None:
        self.kind = kind
        self.folder = folder
        self.url = url
        self._closers: list[Callable[[], None]] = []

    def db(self, piece: str) -> StateDb | None:
        """A new pool's view of ``piece`` (None on SQLite: the piece opens its file)."""
        if self.kind == "sqlite":
            return None
        state = PgState(self.url, max_size=4)
        self._closers.append(state.close)
        return state.db(piece)

    def outbox(self, settle: float = 0.0) -> Outbox:
        box = Outbox(self.folder / "state.outbox.db", settle=settle, db=self.db("outbox"))
        self._closers.append(box.close)
        return box

    def ledger(self) -> Ledger:
        ledger = Ledger(self.folder / "state.db", db=self.db("ledger"))
        self._closers.append(ledger.close)
        return ledger

    def guard(self, max_failures: int = 2) -> LookupGuard:
        guard = LookupGuard(self.folder / "state.db", max_failures, db=self.db("lookup"))
        self._closers.append(guard.close)
        return guard

    def events(self) -> TeamEvents:
        events = TeamEvents(self.folder / "state.db", db=self.db("events"))
        self._closers.append(events.close)
        return events

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
