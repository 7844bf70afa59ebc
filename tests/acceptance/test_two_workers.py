"""Two workers on one queue, as two hosts would run them: one passes, the other waits, loudly.

Real ``sheetqueue worker`` and ``tick`` processes, each with its own working
folder and state file, on one spreadsheet of the Sheets emulator (or one
local queue file), notifying a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sheetqueue.sheets.gsheets_lease import LEASE_TAB
from sheetqueue.sheets.lease import LeaseState
from sheetqueue.sheets.model import CANONICAL_HEADER, Status
from sheetqueue.worker import notified
from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.smtp_server import SmtpServer
from tests.store_backends import shared_emulator

ROWS = 12


def _orders(folder: Path, count: int) -> Path:
    """Shipped orders: every cancellation of one is Ineligible, and the shopper is told."""
    shipped = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    path = folder / "orders.json"
    records = [
        make_order_record(
            order_id=f"ORD-{n:04d}", email=f"s{n}@example.com", status="shipped", shipped_at=shipped
        )
        for n in range(count)
    ]
    path.write_text(json.dumps(records))
    return path


def _row(n: int, *, with_id: bool) -> list[str]:
    cells = {
        "Request ID": f"REQ-TWO{n:011d}" if with_id else "",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Type": "cancellation",
        "Status": "Pending",
        "Order ID": f"ORD-{n:04d}",
        "Email": f"s{n}@example.com",
        "Conversation ID": f"c{n}",
    }
    return [cells.get(name, "") for name in CANONICAL_HEADER]


def _wait_for(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _told(smtp: SmtpServer) -> Counter[str]:
    with smtp.lock:
        return Counter(str(m.message["X-Sheetqueue-Request"]) for m in smtp.messages)


def _events(stderr: str, name: str) -> list[dict[str, Any]]:
    found = []
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == name:
            found.append(event)
    return found


def _stop(process: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> str:
    if process.poll() is None:
        process.send_signal(sig)
    _out, err = process.communicate(timeout=30)
    return err


def _sheet_clis(tmp_path: Path, smtp: SmtpServer, rows: list[list[str]]) -> tuple[Any, ...]:
    emulator = shared_emulator()
    assert emulator.url is not None
    book = emulator.create_spreadsheet("Queue", {"Requests": [list(CANONICAL_HEADER), *rows]})
    orders = _orders(tmp_path, ROWS + 2)
    env = {
        "SHEETQUEUE_BACKEND": "gsheets",
        "SHEETQUEUE_SPREADSHEET_ID": book,
        "SHEETQUEUE_SHEETS_API_URL": emulator.url,
        "SHEETQUEUE_ORDERS": f"file:{orders}",
        "SHEETQUEUE_NOTIFY": smtp.url(),
        "SHEETQUEUE_INTERVAL_SECONDS": "1",
        "SHEETQUEUE_LEASE_SECONDS": "4",
    }
    clis = []
    for name in ("host-a", "host-b"):
        (tmp_path / name).mkdir()
        clis.append(SheetqueueCli(tmp_path / name, **env))
    return emulator, book, clis[0], clis[1]


def test_two_workers_on_one_sheet_tell_each_shopper_once(tmp_path: Path) -> None:
    """Two hosts' workers: one notice per request, one ID per row, the loser names the holder."""
    rows = [_row(n, with_id=n % 2 == 0) for n in range(ROWS)]
    with SmtpServer() as smtp:
        emulator, book, host_a, host_b = _sheet_clis(tmp_path, smtp, rows)
        workers = [host_a.popen("worker"), host_b.popen("worker")]
        try:
            _wait_for(lambda: len(_told(smtp)) == ROWS, 40, "every shopper to be told")
            time.sleep(3)  # a few more passes of both: nothing may be told twice
            holder = LeaseState.parse(emulator.values(book, LEASE_TAB)[1][0]).holder
            assert holder is not None
            winner = next(w for w in workers if w.pid == holder.pid)
            loser = next(w for w in workers if w is not winner)
            winner_err = _stop(winner, signal.SIGKILL)
            for n in (ROWS, ROWS + 1):  # new requests after the holder died
                emulator.append_row(book, "Requests", _row(n, with_id=True))
            _wait_for(lambda: len(_told(smtp)) == ROWS + 2, 40, "the survivor to take over")
            time.sleep(2)
        finally:
            errors = [_stop(w) for w in workers]
        told = _told(smtp)
    sheet = emulator.values(book, "Requests")[1:]
    ids = [row[0] for row in sheet]
    assert len(ids) == ROWS + 2 and len(set(ids)) == len(ids) and all(ids)
    assert set(told) == set(ids)
    assert all(count == 1 for count in told.values()), told
    loser_err = errors[workers.index(loser)]
    held = _events(loser_err, "lease.held_by_other")
    assert held and held[0]["pid"] == winner.pid, loser_err[-2000:]
    assert f"pid {winner.pid}" in held[0]["holder"]
    taken = _events(loser_err, "lease.taken")
    assert taken and f"pid {winner.pid}" in taken[-1]["previous"], (loser_err, winner_err)


def test_tick_refuses_while_a_worker_holds_the_sheet(tmp_path: Path) -> None:
    """A cron tick from another host exits 1 naming the worker; after its crash, tick runs."""
    with SmtpServer() as smtp:
        emulator, book, host_a, host_b = _sheet_clis(tmp_path, smtp, [_row(0, with_id=True)])
        worker = host_a.popen("worker")
        try:
            _wait_for(lambda: len(_told(smtp)) == 1, 30, "the worker's first pass")
            refused = host_b("tick")
            assert refused.code == 1
            lines = refused.stderr.strip().splitlines()
            assert len(lines) == 1 and f"pid {worker.pid}" in lines[0], refused.stderr
            assert "Traceback" not in refused.stderr
        finally:
            _stop(worker, signal.SIGKILL)
        emulator.append_row(book, "Requests", _row(1, with_id=True))
        _wait_for(lambda: host_b("tick").code == 0, 30, "the dead worker's lease to expire")
        assert _told(smtp) == Counter({"REQ-TWO00000000000": 1, "REQ-TWO00000000001": 1})


def _notices(emulator: Any, book: str) -> dict[str, notified.Entry | None]:
    """Each row's Ineligible notice entry in its Notified cell, by Request ID."""
    values = emulator.values(book, "Requests")
    column = CANONICAL_HEADER.index("Notified")
    found = {}
    for row in values[1:]:
        cells = [str(cell) for cell in row] + [""] * len(CANONICAL_HEADER)
        found[cells[0]] = notified.parse(cells[column]).notice(Status.INELIGIBLE)
    return found


def test_holder_killed_mid_send_is_taken_over_with_no_resend(tmp_path: Path) -> None:
    """SIGKILL mid-send: the sheet says sending; the other host takes over, resends nothing."""
    killed = 6
    rows = [_row(n, with_id=True) for n in range(killed)]
    with SmtpServer() as smtp:
        emulator, book, host_a, host_b = _sheet_clis(tmp_path, smtp, rows)
        crashed = subprocess.run(
            [sys.executable, "-m", "tests.crash_pass", "send", "3", "tick"],
            env={**host_a.env, "SHEETQUEUE_NOTIFY_CONCURRENCY": "1"},
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
        assert sum(_told(smtp).values()) == 3
        marks = _notices(emulator, book)
        assert all(e is not None and e.sending == ("email",) for e in marks.values()), marks
        holder = LeaseState.parse(emulator.values(book, LEASE_TAB)[1][0]).holder
        assert (
            holder is not None
            and holder.token == (tmp_path / "host-a" / "state.db.holder").read_text().strip()
        )
        worker = host_b.popen("worker")
        try:
            for n in (killed, killed + 1):  # new requests while the dead host still holds it
                emulator.append_row(book, "Requests", _row(n, with_id=True))
            _wait_for(lambda: len(_told(smtp)) == 5, 40, "the other host to take over")
            _wait_for(
                lambda: all(
                    e is not None and e.kind == "told" for e in _notices(emulator, book).values()
                ),
                40,
                "every outcome to reach the sheet",
            )
            time.sleep(2)  # a few more passes: nothing may go again
        finally:
            err = _stop(worker)
        told = _told(smtp)
    assert all(count == 1 for count in told.values()), told
    entries = _notices(emulator, book)
    maybe = {rid for rid, e in entries.items() if e is not None and e.maybe == ("email",)}
    assert maybe == {f"REQ-TWO{n:011d}" for n in range(killed)}, entries
    assert {rid for rid, e in entries.items() if e is not None and e.carried == ("email",)} == {
        f"REQ-TWO{n:011d}" for n in (killed, killed + 1)
    }
    recorded = _events(err, "notify.maybe_delivered")  # IDs are masked in logs
    assert len(recorded) == killed and {e["marked_at"] for e in recorded} != {""}, err[-3000:]
    assert _events(err, "lease.held_by_other"), err[-2000:]
    taken = _events(err, "lease.taken")
    assert taken and f"pid {holder.pid}" in taken[-1]["previous"], err[-2000:]


def test_two_installations_on_one_local_queue_are_kept_apart(tmp_path: Path) -> None:
    """The local file has the lease too: a tick with another state file is refused."""
    queue = tmp_path / "queue.db"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = SheetqueueCli(tmp_path / "a", SHEETQUEUE_LOCAL_PATH=str(queue))
    second = SheetqueueCli(tmp_path / "b", SHEETQUEUE_LOCAL_PATH=str(queue))
    assert first("tick").code == 0
    assert first("tick").code == 0  # the same installation renews its own lease
    refused = second("tick")
    assert refused.code == 1 and "another worker runs passes" in refused.stderr
