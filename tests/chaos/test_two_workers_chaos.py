"""Chaos: two ``sheetqueue worker`` processes on one sheet, as two hosts, killed and restarted.

Run with ``make chaos``. Each worker has its own working folder and state
file; both talk to one spreadsheet of the emulator, which fails 10-30% of
calls. Requests keep arriving (some with an ID, some typed in by hand without
one), the team closes requests between rounds, and either worker is
SIGKILLed at random and restarted (at once or a few seconds later). The run
prints one line: notices told twice (same request and status), notices lost,
rows whose ID changed or was given twice, messages about IDs not in the
sheet, and passes of the two workers that overlapped in time (from each
worker's ``tick.started`` to its ``tick.finished`` or ``tick.failed``). Told
twice and overlapping passes must be 0: the lease is kept for the whole pass,
and a send step marks what it hands over in the sheet first.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from sheetqueue.sheets.gsheets_retry import Backoff
from sheetqueue.sheets.gsheets_store import GsheetsStore
from sheetqueue.sheets.model import CANONICAL_HEADER, LOG_HEADER, Request, Status
from sheetqueue.worker.ledger import Ledger
from tests.chaos.audit import audit_queue, marked_maybe, status_of
from tests.chaos.sheet_team import Team, WatchedEmulator, received_by_smtp
from tests.cli_runner import SCRIPT, SheetqueueCli
from tests.factories import TYPES, orders_in_every_state, request_for_order
from tests.smtp_server import SmtpServer
from tests.store_backends import add_until_landed, store_on

pytestmark = pytest.mark.slow

REQUESTS = 120
RUN_SECONDS = 45.0
BY_HAND = 4  # every 4th request is typed in without an ID


class _Host:
    """One installation: a folder, a state file, and its worker process (when running)."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]) -> None:
        folder.mkdir()
        self.name, self.folder = name, folder
        self.cli = SheetqueueCli(folder, **env)
        self.process: subprocess.Popen[str] | None = None
        self.logs: list[Path] = []
        self._log: IO[str] | None = None
        self.kills = self.starts = 0

    def start(self) -> None:
        path = self.folder / f"worker-{len(self.logs)}.log"
        self.logs.append(path)
        self._log = path.open("w")
        self.process = subprocess.Popen(
            [str(SCRIPT), "worker"],
            cwd=self.folder,
            env=self.cli.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
        )
        self.starts += 1

    def stop(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self._log is not None
        self._log.close()
        self.process = None
        if sig is signal.SIGKILL:
            self.kills += 1

    def passes(self) -> list[tuple[datetime, datetime]]:
        """(start, end) of every pass this host's workers ran; a killed pass ends at its kill."""
        spans = []
        for path in self.logs:
            start: datetime | None = None
            last: datetime | None = None
            for line in path.read_text().splitlines():
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                when = datetime.fromisoformat(event["timestamp"])
                last = when
                if event.get("event") == "tick.started":
                    start = when
                elif event.get("event") in _PASS_ENDS and start is not None:
                    spans.append((start, when))
                    start = None
            if start is not None and last is not None:
                spans.append((start, last))
        return spans

    def events(self, name: str) -> list[dict[str, object]]:
        """This host's workers' log events called ``name``."""
        found = []
        for path in self.logs:
            for line in path.read_text().splitlines():
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("event") == name:
                    found.append(event)
        return found

    def owed(self) -> int:
        ledger = Ledger(self.folder / "state.db")
        try:
            return ledger.pending_count()
        finally:
            ledger.close()


_PASS_ENDS = ("tick.finished", "tick.failed")


def _by_hand(n: int, asked: datetime) -> list[str]:
    """A row as a person or the chat platform's own action types it: no Request ID."""
    request = request_for_order(n, asked)
    cells = {
        "Timestamp": request.timestamp,
        "Type": TYPES[n % len(TYPES)],
        "Status": "Pending",
        "Order ID": request.order_id,
        "Email": request.email,
        "Conversation ID": request.conversation_id,
    }
    return [cells.get(name, "") for name in CANONICAL_HEADER]


def _overlaps(hosts: list[_Host]) -> int:
    first, second = (host.passes() for host in hosts)
    return sum(1 for a0, a1 in first for b0, b1 in second if a0 < b1 and b0 < a1)


def _drain(hosts: list[_Host], store: GsheetsStore) -> None:
    """Ticks on both hosts in turn until nothing is owed, nothing Pending, nothing changes."""
    for _ in range(20):
        changed = 0
        for host in hosts:
            done = host.cli("tick", "--json", "--wait", "60", timeout=120)
            deadline = time.monotonic() + 60
            while done.code == 1 and "another worker runs passes" in done.stdout + done.stderr:
                assert time.monotonic() < deadline, "the other host's lease never expired"
                time.sleep(1)  # the other host's tick holds the lease until it expires
                done = host.cli("tick", "--json", "--wait", "60", timeout=120)
            assert done.code == 0, done.stderr[-2000:]
            changed += done.json()["changed"]
        pending = [s for s in store.read_requests() if s.request.status == Status.PENDING.value]
        if changed == 0 and not pending and all(host.owed() == 0 for host in hosts):
            return
    raise AssertionError("the queue did not settle")


def _ids_given_twice(rows: list[Request], seen_ids: dict[str, set[str]]) -> int:
    """Hand rows (by conversation) that carried more than one ID, or IDs on two rows."""
    twice = sum(1 for ids in seen_ids.values() if len(ids) > 1)
    counts = Counter(row.request_id for row in rows)
    return twice + sum(count - 1 for count in counts.values() if count > 1)


def test_two_workers_killed_and_restarted_on_one_failing_sheet(tmp_path: Path) -> None:
    """Two hosts' workers, kills, restarts, faults, team edits: nothing twice, lost, overlapped."""
    rng = random.Random("two-workers-20261201")
    today = datetime.now(UTC)
    (tmp_path / "orders.json").write_text(json.dumps(orders_in_every_state(REQUESTS, today)))
    with WatchedEmulator(seed=7) as emulator, SmtpServer() as smtp:
        assert emulator.url is not None
        book = emulator.create_spreadsheet(
            "Queue", {"Requests": [list(CANONICAL_HEADER)], "Log": [list(LOG_HEADER)]}
        )
        store = store_on(
            emulator, book, backoff=Backoff(max_backoff=2.0, max_total=20.0), timeout=1.0
        )
        env = {
            "SHEETQUEUE_BACKEND": "gsheets",
            "SHEETQUEUE_SPREADSHEET_ID": book,
            "SHEETQUEUE_SHEETS_API_URL": emulator.url,
            "SHEETQUEUE_SHEETS_TIMEOUT_SECONDS": "1",
            "SHEETQUEUE_ORDERS": f"file:{tmp_path / 'orders.json'}",
            "SHEETQUEUE_NOTIFY": smtp.url(),
            "SHEETQUEUE_INTERVAL_SECONDS": "1",
            "SHEETQUEUE_LEASE_SECONDS": "10",  # short, so takeovers happen within the run
            "SHEETQUEUE_NOTIFY_MAX_ATTEMPTS": "1000",
        }
        hosts = [_Host(name, tmp_path / name, env) for name in ("host-a", "host-b")]
        team = Team(emulator, book, rng)
        recorded: list[str] = []
        hand_ids: dict[str, set[str]] = {}  # conversation of a hand row -> IDs it carried
        count = 0
        rounds = 0
        for host in hosts:
            host.start()
        started = time.monotonic()
        try:
            while time.monotonic() - started < RUN_SECONDS or count < REQUESTS:
                rounds += 1
                emulator.set_faults(rate=rng.uniform(0.1, 0.3), seed=rounds)
                asked = today - timedelta(hours=2)
                for n in range(count, min(count + rng.randint(2, 6), REQUESTS)):
                    if n % BY_HAND == 0:
                        with emulator.lock:
                            emulator.append_row(book, emulator.tab, _by_hand(n, asked))
                        hand_ids[f"c{n}"] = set()
                    else:
                        request = request_for_order(n, asked, prefix="REQ-TWOW")
                        add_until_landed(store, [request], pause=0.5)
                        recorded.append(request.request_id)
                    count = n + 1
                for _ in range(rng.randint(1, 3)):
                    team.act()
                _note_hand_ids(emulator.values(book, emulator.tab), hand_ids)
                time.sleep(rng.uniform(0.3, 1.5))
                host = rng.choice(hosts)
                if host.process is None:
                    host.start()
                elif rng.random() < 0.4:
                    host.stop(signal.SIGKILL)
                    if rng.random() < 0.5:
                        host.start()
        finally:
            emulator.set_faults()
            for host in hosts:
                if host.process is None:
                    host.start()
            time.sleep(2)
            for host in hosts:
                host.stop(signal.SIGTERM)
        _drain(hosts, store)
        final = emulator.values(book, emulator.tab)
        _note_hand_ids(final, hand_ids)
        rows = [s.request for s in store.read_requests()]
        received = received_by_smtp([smtp])
        store.close()
    hand_rows = [row for row in rows if row.conversation_id in hand_ids]
    audit = audit_queue(
        rows, recorded + [r.request_id for r in hand_rows], team.cells, received, kills=0
    )
    told = Counter((rid, mid) for rid, mid in received)
    twice = sum(n - 1 for n in told.values() if n > 1)
    ids_twice = _ids_given_twice(rows, hand_ids)
    unknown_ids = sum(1 for rid, _mid in received if rid not in {row.request_id for row in rows})
    overlaps = _overlaps(hosts)
    got = {(rid, status_of(mid)) for rid, mid in received}
    missing = {(r.request_id, r.status) for r in rows if r.status in _TOLD} - got
    by_id = {r.request_id: r for r in rows}
    maybe = {(rid, st) for rid, st in missing if marked_maybe(by_id[rid], st)}
    kills = sum(host.kills for host in hosts)
    takeovers = sum(1 for h in hosts for e in h.events("lease.taken") if e.get("previous"))
    lost_leases = sum(len(h.events("lease.lost")) for h in hosts)
    print(
        f"\nchaos two workers: {rounds} rounds, {kills} kills "
        f"({', '.join(f'{h.name} {h.kills}' for h in hosts)}), "
        f"{sum(h.starts for h in hosts)} starts, 10-30% faults, team edits {team.edits}, "
        f"{count} requests ({len(hand_ids)} without an ID), {len(received)} messages: "
        f"told twice {twice}, lost {len(missing - maybe)}, "
        f"marked maybe and never received {len(maybe)}, "
        f"IDs given twice {ids_twice}, messages for IDs not in the sheet {unknown_ids}, "
        f"passes overlapping {overlaps}, takeovers {takeovers}, passes stopped on a lost "
        f"lease {lost_leases} "
        f"(passes: {', '.join(f'{h.name} {len(h.passes())}' for h in hosts)}); {audit.line()}"
    )
    assert count == REQUESTS and len(hand_rows) == len(hand_ids)
    assert twice == 0, "a notice was told twice"
    assert overlaps == 0, "two workers ran passes at the same time"
    assert missing - maybe == set()
    assert ids_twice == 0 and unknown_ids == 0
    zero = {k: v for k, v in audit.must_be_zero().items() if "notifications" not in k}
    assert zero == dict.fromkeys(zero, 0), audit.details


_TOLD = (Status.INELIGIBLE.value, Status.DONE.value, Status.REJECTED.value)


def _note_hand_ids(values: list[list[object]], hand_ids: dict[str, set[str]]) -> None:
    """Remember every Request ID each hand-typed row has carried so far."""
    header = [str(cell) for cell in values[0]] if values else []
    if "Request ID" not in header or "Conversation ID" not in header:
        return
    rid, conv = header.index("Request ID"), header.index("Conversation ID")
    for row in values[1:]:
        cells = [str(cell) for cell in row] + [""] * len(header)
        if cells[conv] in hand_ids and cells[rid]:
            hand_ids[cells[conv]].add(cells[rid])
