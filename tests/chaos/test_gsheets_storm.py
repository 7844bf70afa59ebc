"""Chaos on the Google Sheets backend: ``sheetqueue worker`` against a failing API and a busy team.

Run with ``make chaos``. The worker is the real console script (a
subprocess) on the gsheets backend, talking to the emulator through gspread.
While it runs, requests keep arriving, a team thread edits the sheet by hand
(sort, insert and delete blank rows, Done/Rejected, notes) and the emulator
fails calls at random; for a few seconds at a time every call is slower than
the store's timeout (so writes land after the client gave up). ``storm``
fails 30% of calls; ``kills`` fails 10% and SIGKILLs the worker at random
points, restarting it. Each run prints one line of counts; every loss and
wrong-write count must be 0, resends only for a kill inside the send window.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_retry import Backoff
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Status
from sheetqueue.sheets.orders import orders_from_records
from sheetqueue.worker.ledger import Ledger
from tests.chaos.audit import audit_queue
from tests.chaos.sheet_team import Team, WatchedEmulator, misplaced_decisions, received_by_smtp
from tests.cli_runner import SheetqueueCli, cli_on_sheet
from tests.factories import orders_in_every_state, request_for_order
from tests.smtp_server import SmtpServer
from tests.store_backends import add_until_landed, store_on

pytestmark = pytest.mark.slow

REQUESTS = 120
RUN_SECONDS = 35.0


class _Storm:
    """The team's hands and the API's weather, on a background thread."""

    def __init__(self, emulator: WatchedEmulator, team: Team, rng: random.Random, rate: float):
        self.emulator, self.team, self.rng, self.rate = emulator, team, rng, rate
        self.stop = threading.Event()
        self.slow_spells = 0
        self.thread = threading.Thread(target=self._run, name="storm", daemon=True)

    def _run(self) -> None:
        next_spell = time.monotonic() + self.rng.uniform(4, 8)
        while not self.stop.wait(self.rng.uniform(0.1, 0.4)):
            self.team.act()
            if time.monotonic() > next_spell:
                self.slow_spells += 1
                self.emulator.set_faults(rate=self.rate, delay=1.3, seed=self.slow_spells)
                self.stop.wait(2.0)
                self.emulator.set_faults(rate=self.rate, seed=self.slow_spells)
                next_spell = time.monotonic() + self.rng.uniform(5, 9)


def _drain(cli: SheetqueueCli, state: Path, store: GsheetsStore) -> None:
    """Ticks until no message is owed, no row is Pending and a pass changes nothing."""
    for _ in range(30):
        done = cli("tick", "--json", "--wait", "60", timeout=120)
        assert done.code == 0, done.stderr[-2000:]
        ledger = Ledger(state)
        owed = ledger.pending_count()
        ledger.close()
        pending = [s for s in store.read_requests() if s.request.status == Status.PENDING.value]
        if owed == 0 and not pending and done.json()["changed"] == 0:
            return
        time.sleep(0.5)
    raise AssertionError("the queue did not settle")


@pytest.mark.parametrize(("mode", "rate"), [("storm", 0.3), ("kills", 0.1)])
def test_worker_on_a_failing_sheet_with_a_busy_team(tmp_path: Path, mode: str, rate: float) -> None:
    """Faults, slow spells, hand edits (and kills): nothing lost, nothing twice, no wrong cell."""
    rng = random.Random(f"{mode}-20261122")
    today = datetime.now(UTC)
    records = orders_in_every_state(REQUESTS, today)
    (tmp_path / "orders.json").write_text(json.dumps(records))
    kills = 0
    with WatchedEmulator(seed=3) as emulator, SmtpServer() as smtp:
        assert emulator.url is not None
        book = emulator.create_spreadsheet(
            "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
        )
        store = store_on(
            emulator, book, backoff=Backoff(max_backoff=2.0, max_total=20.0), timeout=1.0
        )
        cli = cli_on_sheet(
            tmp_path,
            emulator,
            book,
            SHEETQUEUE_SHEETS_TIMEOUT_SECONDS="1",
            SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}",
            SHEETQUEUE_NOTIFY=smtp.url(),
            SHEETQUEUE_MAIL_FROM="help@teeshop.example",
            SHEETQUEUE_INTERVAL_SECONDS="1",
            SHEETQUEUE_NOTIFY_MAX_ATTEMPTS="1000",
        )
        team = Team(emulator, book, rng)
        storm = _Storm(emulator, team, rng, rate)
        recorded: list[str] = []
        emulator.set_faults(rate=rate, seed=1)
        worker = cli.popen("worker")
        storm.thread.start()
        started = time.monotonic()
        next_kill = started + rng.uniform(1, 4)
        try:
            while time.monotonic() - started < RUN_SECONDS or len(recorded) < REQUESTS:
                if len(recorded) < REQUESTS:
                    numbers = range(len(recorded), len(recorded) + 20)
                    asked = today - timedelta(hours=2)
                    batch = [request_for_order(n, asked, prefix="REQ-STORM") for n in numbers]
                    add_until_landed(store, batch, pause=0.5)
                    recorded += [r.request_id for r in batch]
                time.sleep(rng.uniform(0.5, 2.0))
                if mode == "kills" and time.monotonic() > next_kill:
                    worker.send_signal(signal.SIGKILL)
                    worker.communicate(timeout=10)
                    kills += 1
                    worker = cli.popen("worker")
                    next_kill = time.monotonic() + rng.uniform(1, 4)
        finally:
            storm.stop.set()
            storm.thread.join(10)
            emulator.set_faults()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.communicate()
        _drain(cli, tmp_path / "state.db", store)
        rows = [s.request for s in store.read_requests()]
        received = received_by_smtp([smtp])
        store.close()
    audit = audit_queue(rows, recorded, team.cells, received, kills=kills)
    settings = Settings(orders=f"file:{tmp_path / 'orders.json'}")
    orders = {order.order_id: order for order in orders_from_records(records)}
    wrong = misplaced_decisions(rows, orders, settings, datetime.now(UTC))
    print(
        f"\nchaos gsheets {mode}: {rate:.0%} faults, {storm.slow_spells} slow spells, "
        f"{kills} kills, team edits {team.edits}, {len(recorded)} requests, "
        f"{len(received)} messages: {audit.line()}, "
        f"team-column writes {len(emulator.team_column_writes)}, misplaced decisions {len(wrong)}"
    )
    assert audit.must_be_zero() == dict.fromkeys(audit.must_be_zero(), 0), audit.details
    assert audit.resends_after_kill <= kills
    assert emulator.team_column_writes == []
    assert wrong == []
    assert len(recorded) == REQUESTS
