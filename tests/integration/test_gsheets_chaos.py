"""Chaos on the Google Sheets backend, short: a flaky API and a busy team, nothing lost.

Sixty requests arrive in batches while the worker makes six passes through
real gspread against the emulator failing 30% of calls (429/500/503, the
store's backoff recorded instead of slept). Between passes, and during them
(right after the worker read the queue, before its pre-write check), the team
sorts, inserts and deletes blank rows, decides requests and writes notes.
``make chaos`` has the long versions (tests/chaos/).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import StoreError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Status
from sheetqueue.sheets.order_sources import RecordsOrderSource
from sheetqueue.sheets.orders import Order, orders_from_records
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.notify.factory import notifiers_from_settings
from sheetqueue.worker.tick import Worker
from tests.chaos.audit import audit_queue
from tests.chaos.sheet_team import Team, WatchedEmulator, misplaced_decisions, received_by_smtp
from tests.factories import orders_in_every_state, request_for_order
from tests.smtp_server import SmtpServer
from tests.store_backends import add_until_landed, no_sleep_backoff, store_on

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
ASKED = NOW - timedelta(hours=2)
REQUESTS = 60
PASSES = 6


@pytest.fixture
def emulator() -> Iterator[WatchedEmulator]:
    """A watched emulator of its own (the hooks must not leak into other tests)."""
    with WatchedEmulator() as emu:
        yield emu


def _orders() -> list[Order]:
    return orders_from_records(orders_in_every_state(REQUESTS, NOW))


def test_fault_storm_and_team_edits_lose_nothing(emulator: WatchedEmulator, tmp_path: Path) -> None:
    """30% failed calls and hand edits between and during passes: no loss, no wrong write."""
    rng = random.Random(5)
    book = emulator.create_spreadsheet(
        "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
    )
    slept: list[float] = []
    store = store_on(emulator, book, backoff=no_sleep_backoff(slept))
    orders = _orders()
    team = Team(emulator, book, rng)
    failed_passes = 0
    with SmtpServer() as smtp:
        settings = Settings(
            local_path=tmp_path / "queue.db",
            state_path=tmp_path / "state.db",
            notify=[smtp.url()],
            mail_from="help@teeshop.example",
        )
        worker = Worker(
            store=store,
            order_source=lambda: RecordsOrderSource(orders),
            notifiers=notifiers_from_settings(settings, clock=utc_now),
            ledger=Ledger(settings.state_path),
            settings=settings,
        )
        emulator.set_faults(rate=0.3, seed=7)
        recorded: list[str] = []
        for number in range(PASSES):
            batch = [
                request_for_order(n, ASKED, prefix="REQ-CHAOS")
                for n in range(number * 10, number * 10 + 10)
            ]
            add_until_landed(store, batch)
            recorded += [r.request_id for r in batch]
            for _ in range(rng.randint(1, 3)):
                team.act()
            emulator.after_tab_read = lambda: None if rng.random() < 0.3 else team.act()
            try:
                worker.run_pass(NOW + timedelta(minutes=number))
            except StoreError:
                failed_passes += 1
            emulator.after_tab_read = None
        emulator.set_faults()
        for extra in range(10):
            report = worker.run_pass(NOW + timedelta(minutes=PASSES + extra))
            pending = [s for s in store.read_requests() if s.request.status == Status.PENDING.value]
            if worker.ledger.pending_count() == 0 and not pending and report.changed == 0:
                break
        rows = [s.request for s in store.read_requests()]
        received = received_by_smtp([smtp])
    worker.ledger.close()
    store.close()
    audit = audit_queue(rows, recorded, team.cells, received, kills=0)
    by_id = {order.order_id: order for order in orders}
    wrong = misplaced_decisions(rows, by_id, settings, NOW)
    print(
        f"\ngsheets chaos: {PASSES} passes ({failed_passes} gave up), {len(slept)} retries, "
        f"team edits {team.edits}, {len(received)} messages: {audit.line()}, "
        f"team-column writes {len(emulator.team_column_writes)}, misplaced decisions {len(wrong)}"
    )
    assert len(slept) > 0 and sum(team.edits.values()) >= PASSES
    assert audit.must_be_zero() == dict.fromkeys(audit.must_be_zero(), 0), audit.details
    assert audit.resends_after_kill == 0
    assert emulator.team_column_writes == []
    assert wrong == []
    assert all(row.status != Status.PENDING.value for row in rows)
