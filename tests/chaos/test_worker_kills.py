"""Chaos: the worker SIGKILLed at random points over many passes, SMTP outages, team edits.

Run with ``make chaos``. Prints one line of counts; every loss and wrong-write
count must be 0. A message in flight when the worker was killed is never sent
again: its row's ``Notified`` cell says "maybe" (counted apart, at most the
messages one send step has in flight per kill).
"""

from __future__ import annotations

import json
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheetqueue.sheets.model import Status
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import CellUpdate
from sheetqueue.worker.ledger import Ledger
from tests.chaos.audit import audit_queue
from tests.cli_runner import SheetqueueCli
from tests.factories import orders_in_every_state
from tests.smtp_server import SmtpServer, free_port
from tests.worker_kit import record_types_in_turn

pytestmark = pytest.mark.slow

REQUESTS = 150
ROUNDS = 25
IN_FLIGHT = 8  # messages one send step hands over at once (SHEETQUEUE_NOTIFY_CONCURRENCY)


def _team_decides(store: SqliteStore, rng: random.Random, team: dict[str, dict[str, str]]) -> None:
    """A team member sets a few waiting requests Done or Rejected, as in the sheet."""
    waiting = [
        s
        for s in store.read_requests()
        if s.request.status in (Status.ELIGIBLE.value, Status.NEEDS_REVIEW.value)
    ]
    for stored in rng.sample(waiting, min(len(waiting), rng.randint(0, 4))):
        status = rng.choice([Status.DONE, Status.REJECTED])
        values = {"status": status.value, "team_note": f"by hand {rng.randint(1, 999)}"}
        expect = {"request_id": stored.request.request_id, "status": stored.request.status}
        if store.update_cells([CellUpdate(stored.ref, expect, values)]).applied:
            team[stored.request.request_id] = values


def test_worker_killed_at_random_points(tmp_path: Path) -> None:
    """Many passes, random SIGKILLs and SMTP outages: nothing lost, nothing twice."""
    rng = random.Random(20261122)
    (tmp_path / "orders.json").write_text(
        json.dumps(orders_in_every_state(REQUESTS, datetime.now(UTC)))
    )
    port = free_port()
    servers: list[SmtpServer] = []
    cli = SheetqueueCli(
        tmp_path,
        SHEETQUEUE_NOTIFY=f"smtp://127.0.0.1:{port}",
        SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}",
        SHEETQUEUE_INTERVAL_SECONDS="1",
        SHEETQUEUE_NOTIFY_MAX_ATTEMPTS="1000",
        SHEETQUEUE_NOTIFY_CONCURRENCY=str(IN_FLIGHT),
    )
    store = SqliteStore(tmp_path / "queue.db")
    recorded = record_types_in_turn(store, REQUESTS, datetime.now(UTC))
    team: dict[str, dict[str, str]] = {}
    kills = outages = 0
    smtp_up = False
    try:
        for _round in range(ROUNDS):
            if rng.random() < 0.7 and not smtp_up:
                servers.append(SmtpServer(port=port))
                servers[-1].__enter__()
                smtp_up = True
            elif smtp_up and rng.random() < 0.25:
                servers[-1].__exit__(None, None, None)
                smtp_up = False
                outages += 1
            worker = cli.popen("worker")
            time.sleep(rng.uniform(0.3, 2.5))
            worker.send_signal(signal.SIGKILL)
            worker.communicate(timeout=10)
            kills += 1
            _team_decides(store, rng, team)
        if not smtp_up:
            servers.append(SmtpServer(port=port))
            servers[-1].__enter__()
            smtp_up = True
        _drain(cli, tmp_path / "state.db")
        rows = [s.request for s in store.read_requests()]
        received = [
            (str(m.message["X-Sheetqueue-Request"]), str(m.message["Message-ID"]))
            for server in servers
            for m in server.messages
        ]
    finally:
        if smtp_up:
            servers[-1].__exit__(None, None, None)
        store.close()
    audit = audit_queue(rows, recorded, team, received, kills=kills)
    print(
        f"\nchaos worker: {ROUNDS} rounds, {kills} kills, {outages} SMTP outages, "
        f"{len(received)} messages: {audit.line()}"
    )
    assert audit.must_be_zero() == dict.fromkeys(audit.must_be_zero(), 0), audit.details
    assert audit.resends_after_kill == 0, "a message in flight at a kill was sent again"
    assert audit.maybe_never_received <= kills * IN_FLIGHT


def _drain(cli: SheetqueueCli, state: Path) -> None:
    """Passes until no message is owed (retries wait their short backoff)."""
    ledger = Ledger(state)
    try:
        for _ in range(40):
            assert cli("tick", "--wait", "30").code == 0
            if ledger.pending_count() == 0:
                return
            time.sleep(0.5)
    finally:
        ledger.close()
