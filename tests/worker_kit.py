"""Build a real Worker over a SQLite queue for tests: orders in memory, real notifiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.clock import utc_now
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.order_sources import RecordsOrderSource
from sheetqueue.sheets.orders import orders_from_records
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import CellUpdate, Store
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.tick import PassReport, Worker
from tests.factories import TYPES

__all__ = ["WorkerKit", "record_types_in_turn"]


@dataclass
class WorkerKit:
    """A queue file, a state file, orders and notifiers, wired like production."""

    tmp_path: Path
    notify: Sequence[str]
    orders: list[dict[str, Any]]
    overrides: dict[str, Any]

    def __post_init__(self) -> None:
        self.store = SqliteStore(self.tmp_path / "queue.db")
        self.settings = Settings(
            local_path=self.tmp_path / "queue.db",
            state_path=self.tmp_path / "state.db",
            notify=list(self.notify),
            store_name="Tee Shop",
            mail_from="help@teeshop.example",
            **self.overrides,
        )
        self.ledger = Ledger(self.settings.state_path)
        self.worker = self._worker()

    def _worker(self) -> Worker:
        return Worker(
            store=self.store,
            order_source=lambda: RecordsOrderSource(orders_from_records(self.orders)),
            notifiers=notifiers_from_settings(self.settings, clock=utc_now),
            ledger=self.ledger,
            settings=self.settings,
        )

    def record(self, now: datetime, **fields: str) -> str:
        new = parse_new_request(fields)
        return record_request(self.store, new, now).request_id

    def run(self, now: datetime) -> PassReport:
        return self.worker.run_pass(now)

    def type_into(self, request_id: str, **values: str) -> None:
        """A person typing into the row's cells, with no rule of ours in the way."""
        [found] = [s for s in self.store.read_requests() if s.request.request_id == request_id]
        expect = {"request_id": request_id, "status": found.request.status}
        result = self.store.update_cells([CellUpdate(found.ref, expect, values)])
        assert result.applied

    def rows(self) -> dict[str, Any]:
        return {s.request.request_id: s.request for s in self.store.read_requests()}

    def close(self) -> None:
        self.ledger.close()
        self.store.close()


def record_types_in_turn(
    store: Store, count: int, now: datetime, *, conversation: str = "c"
) -> list[str]:
    """Record ``count`` requests as the bot does, the types in turn; their Request IDs.

    Request ``n`` is for order ``ORD-<n:04d>`` by ``s<n>@example.com``, in
    conversation ``<conversation><n>``.
    """
    recorded = []
    for n in range(count):
        new = parse_new_request(
            {
                "type": TYPES[n % len(TYPES)],
                "order_id": f"ORD-{n:04d}",
                "email": f"s{n}@example.com",
                "conversation_id": f"{conversation}{n}",
            }
        )
        recorded.append(record_request(store, new, now).request_id)
    return recorded
