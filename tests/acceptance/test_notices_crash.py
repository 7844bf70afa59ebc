"""Real processes: adopt from the shell, SIGKILL between write and ledger, a new host."""

from __future__ import annotations

import json
import mailbox
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.gsheets_api import SheetsApi
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Request
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.testing.emulator import emulator_client
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.smtp_server import SmtpServer
from tests.store_backends import no_sleep_backoff, shared_emulator

ROOT = Path(__file__).parents[2]


def _old_rows(count: int, asked: datetime) -> list[Request]:
    statuses = ("Done", "Rejected", "Ineligible", "Approved")
    return [
        Request(
            request_id=f"REQ-HIST{n:04d}",
            timestamp=asked.isoformat(),
            type="refund",
            status=statuses[n % len(statuses)],
            order_id=f"ORD-{n:04d}",
            email=f"past{n}@example.com",
        )
        for n in range(count)
    ]


def test_adopt_reports_then_marks_history_and_a_tick_sends_nothing(tmp_path: Path) -> None:
    """``sheetqueue adopt --dry-run --json`` counts, ``adopt`` marks, later ticks tell nobody."""
    store = SqliteStore(tmp_path / "queue.db")
    store.add_requests(_old_rows(12, datetime.now(UTC) - timedelta(days=200)))
    store.close()
    cli = SheetqueueCli(tmp_path)
    dry = cli("adopt", "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert dry.json() == {
        "dry_run": True, "closed": 9, "open": 3, "known": 0,
        "adopted": {"Done": 3, "Rejected": 3, "Ineligible": 3}, "seen": {"Approved": 3},
        "skipped_rows": 0,
    }  # fmt: skip
    assert all(row["notified"] == "" for row in cli("list", "--json").json())
    done = cli("adopt", "--json")
    assert done.json()["closed"] == 9 and done.json()["dry_run"] is False
    again = cli("adopt")
    assert again.code == 0 and "12 rows were already known" in again.stdout
    assert cli("tick").code == 0
    assert not (tmp_path / "outbox").exists() or len(mailbox.Maildir(tmp_path / "outbox")) == 0
    rows = cli("list", "--json").json()
    assert Counter(row["notified"].split(" ")[0] for row in rows) == {"adopted": 9, "seen": 3}


def test_kill_between_the_write_and_the_ledger_loses_no_received_notice(tmp_path: Path) -> None:
    """notify_on_received: a pass dies right after its write; the next tick tells all, once."""
    now = datetime.now(UTC)
    orders = [
        make_order_record(order_id=f"ORD-{n:04d}", email=f"s{n}@example.com", status="processing")
        for n in range(20)
    ]
    (tmp_path / "orders.json").write_text(json.dumps(orders))
    store = SqliteStore(tmp_path / "queue.db")
    ids = [
        record_request(
            store,
            parse_new_request(
                {"type": "cancellation", "order_id": f"ORD-{n:04d}", "email": f"s{n}@example.com"}
            ),
            now,
        ).request_id
        for n in range(20)
    ]
    store.close()
    with SmtpServer() as server:
        cli = SheetqueueCli(
            tmp_path,
            SHEETQUEUE_NOTIFY=server.url(),
            SHEETQUEUE_ORDERS=f"file:{tmp_path / 'orders.json'}",
            SHEETQUEUE_NOTIFY_ON_RECEIVED="true",
        )
        crashed = subprocess.run(
            [sys.executable, "-m", "tests.crash_pass", "write"],
            env=cli.env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        assert server.messages == []
        rows = cli("list", "--json").json()
        assert all(row["status"] == "Eligible" for row in rows)
        assert all(row["notified"].startswith("Pending owed ") for row in rows)
        assert cli("tick").code == 0
        assert cli("tick").code == 0
        told = Counter(str(m.message["Message-ID"]) for m in server.messages)
    assert told == Counter({f"<sq-{i}-pending@localhost>": 1 for i in ids})


def test_a_new_host_on_the_google_sheet_sends_nothing_and_writes_nothing(tmp_path: Path) -> None:
    """Same sheet, empty state file: a header check and one read; no write, no message."""
    emulator = shared_emulator()
    assert emulator.url is not None
    book = emulator.create_spreadsheet(
        "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
    )
    orders = [
        make_order_record(order_id="ORD-P", email="ana@example.com", status="processing"),
        make_order_record(
            order_id="ORD-S", email="ana@example.com", status="shipped",
            shipped_at=datetime.now(UTC).isoformat(),
        ),
    ]  # fmt: skip
    (tmp_path / "orders.json").write_text(json.dumps(orders))

    def worker_on(state: Path) -> tuple[GsheetsStore, object]:
        api = SheetsApi(emulator_client(emulator.url or "", 5.0), book, backoff=no_sleep_backoff())
        store = GsheetsStore(api)
        settings = Settings(
            backend="gsheets",
            spreadsheet_id=book,
            sheets_api_url=emulator.url or "",
            state_path=state,
            orders=f"file:{tmp_path / 'orders.json'}",
            notify=[f"maildir:{tmp_path / 'outbox'}"],
        )
        return store, build_worker(settings, store)

    store, worker = worker_on(tmp_path / "host-a.db")
    store.add_requests(_old_rows(40, datetime.now(UTC) - timedelta(days=90)))
    for order in ("ORD-P", "ORD-S"):
        new = {"type": "cancellation", "order_id": order, "email": "ana@example.com"}
        record_request(store, parse_new_request(new), datetime.now(UTC))
    now = datetime.now(UTC)
    for minute in range(2):
        worker.run_pass(now + timedelta(minutes=minute))  # type: ignore[attr-defined]
    worker.close()  # type: ignore[attr-defined]
    cells = [s.request.notified for s in store.read_requests()]
    sent = len(mailbox.Maildir(tmp_path / "outbox"))
    store, worker = worker_on(tmp_path / "host-b.db")
    before = store.calls
    report = worker.run_pass(now + timedelta(minutes=5))  # type: ignore[attr-defined]
    calls = store.calls - before
    worker.close()  # type: ignore[attr-defined]
    assert sent == 1
    assert calls == 2, "the header check and one read, no write"
    assert report.changed == 0
    assert [s.request.notified for s in store.read_requests()] == cells
    assert len(mailbox.Maildir(tmp_path / "outbox")) == sent
