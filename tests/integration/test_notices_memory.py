"""What was told lives in the sheet: first sight, lost state, unknown outcomes, slow receivers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bot_actions.team import set_status
from sheetqueue.config.clock import utc_now
from sheetqueue.sheets.lease import Holder, LeaseHeld, SqliteLease
from sheetqueue.sheets.model import Request, Status
from sheetqueue.worker.ledger import Ledger
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.notify.webhook import WebhookNotifier
from sheetqueue.worker.tick import Worker, tick
from tests.factories import PROCESSING, SHIPPED, day
from tests.http_server_kit import served_in_thread
from tests.smtp_server import SmtpServer, free_port
from tests.worker_kit import WorkerKit


def _ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(m.message["Message-ID"]) for m in smtp.messages)


def _history(kit: WorkerKit, count: int) -> list[str]:
    """Closed rows as a team leaves them after months of work by hand: no Notified cell."""
    rows = []
    for n in range(count):
        status = (Status.DONE, Status.REJECTED, Status.INELIGIBLE)[n % 3]
        rows.append(
            Request(
                request_id=f"REQ-OLD{n:04d}",
                timestamp=day(-200).isoformat(),
                type="return",
                status=status.value,
                order_id="ORD-SHIP",
                email=f"past{n}@example.com",
            )
        )
    kit.store.add_requests(rows)
    return [row.request_id for row in rows]


def _lose_state(kit: WorkerKit) -> None:
    """The state file is gone (a new host, a container without a volume)."""
    kit.ledger.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{kit.settings.state_path}{suffix}").unlink(missing_ok=True)
    kit.ledger = Ledger(kit.settings.state_path)
    kit.worker = Worker(
        store=kit.store,
        order_source=kit.worker.order_source,
        notifiers=kit.worker.notifiers,
        ledger=kit.ledger,
        settings=kit.settings,
    )


def test_months_of_closed_history_are_adopted_never_notified(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Closed rows first seen are history: 0 messages, an adopted mark and an audit line each."""
    kit = WorkerKit(tmp_path, [smtp.url()], [SHIPPED], {})
    old = _history(kit, 30)
    report = kit.run(day(4))
    assert report.adopted == {"Done": 10, "Rejected": 10, "Ineligible": 10}
    kit.run(day(4.1))
    _lose_state(kit)
    kit.run(day(4.2))
    rows = kit.rows()
    log = kit.store.read_log()
    kit.close()
    assert smtp.messages == []
    assert all(rows[i].notified == f"adopted {rows[i].status} 2026-11-05T12:00:00Z" for i in old)
    assert sorted(e.request_id for e in log if e.by == "adopted") == sorted(old)


def test_a_move_seen_after_first_sight_is_told_even_after_the_state_is_lost(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Seen open, state lost, then set Done by the team: the shopper is told once."""
    kit = WorkerKit(tmp_path, [smtp.url()], [PROCESSING], {})
    request_id = kit.record(
        day(1), type="cancellation", order_id="ORD-PROC", email="ana@example.com"
    )
    kit.run(day(1.1))
    assert kit.rows()[request_id].notified == "seen Pending 2026-11-02T14:24:00Z"
    _lose_state(kit)
    set_status(kit.store, request_id, Status.DONE)
    kit.run(day(1.2))
    kit.run(day(1.3))
    row = kit.rows()[request_id]
    kit.close()
    assert _ids(smtp) == {f"<sq-{request_id}-done@teeshop.example>": 1}
    assert row.notified == "seen Pending 2026-11-02T14:24:00Z; Done 2026-11-02T16:48:00Z email"


def test_lost_state_file_resends_nothing_and_rewrites_no_cell(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """After the state file is deleted, a pass sends 0 messages and leaves every cell as it was."""
    kit = WorkerKit(tmp_path, [smtp.url()], [SHIPPED, PROCESSING], {})
    ids = [
        kit.record(day(4), type=kind, order_id=order, email="ana@example.com", conversation_id=c)
        for kind, order, c in [
            ("cancellation", "ORD-SHIP", "c1"),
            ("cancellation", "ORD-PROC", "c2"),
            ("return", "ORD-SHIP", "c3"),
        ]
    ]
    kit.run(day(4.1))
    set_status(kit.store, ids[1], Status.DONE)
    kit.run(day(4.2))
    before = {s.request.request_id: s.request for s in kit.store.read_requests()}
    log_before = len(kit.store.read_log())
    sent_before = len(smtp.messages)
    _lose_state(kit)
    report = kit.run(day(4.3))
    after = kit.rows()
    log_after = len(kit.store.read_log())
    kit.close()
    assert sent_before == 3
    assert len(smtp.messages) == sent_before
    assert after == before
    assert log_after == log_before
    assert report.changed == 0


def test_a_row_seen_closed_is_never_reopened(tmp_path: Path, smtp: SmtpServer) -> None:
    """A told Ineligible row whose status is blanked or set back to Pending is left alone."""
    kit = WorkerKit(tmp_path, [smtp.url()], [SHIPPED], {})
    request_id = kit.record(
        day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com"
    )
    kit.run(day(4.1))
    told = kit.rows()[request_id]
    assert told.status == "Ineligible"
    kit.type_into(request_id, status=Status.PENDING.value)
    report = kit.run(day(4.2))
    row = kit.rows()[request_id]
    kit.close()
    assert (row.status, row.decision, row.notified) == ("Pending", told.decision, told.notified)
    assert any("never re-opened" in problem for problem in report.problems)
    assert len(smtp.messages) == 1


def test_smtp_dropping_after_data_is_maybe_delivered_and_never_resent(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """The server took the message and hung up before answering: sent once, marked maybe."""
    smtp.drop_after_data = True
    kit = WorkerKit(tmp_path, [smtp.url()], [SHIPPED], {"notify_max_attempts": 4})
    request_id = kit.record(
        day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com"
    )
    reports = [kit.run(day(4 + step / 24)) for step in range(1, 5)]
    row = kit.rows()[request_id]
    kit.close()
    assert len(smtp.messages) == 1
    assert reports[0].maybe_delivered == 1
    assert row.notified == "Ineligible 2026-11-05T13:00:00Z email maybe"


def test_a_given_up_notice_on_an_open_row_writes_its_note_once(tmp_path: Path) -> None:
    """A received notice that gave up: the Worker Note says so, and stays the same every pass."""
    nobody = f"smtp://127.0.0.1:{free_port()}"
    kit = WorkerKit(
        tmp_path, [nobody], [PROCESSING], {"notify_on_received": True, "notify_max_attempts": 1}
    )
    request_id = kit.record(
        day(1), type="cancellation", order_id="ORD-PROC", email="ana@example.com"
    )
    notes = []
    for step in range(1, 6):
        kit.run(day(1 + step / 24))
        notes.append(kit.rows()[request_id].worker_note)
    row = kit.rows()[request_id]
    kit.close()
    assert row.status == "Eligible"
    assert len(set(notes[1:])) == 1, notes
    assert "Could not tell the shopper about Pending after 1 tries" in notes[-1]
    assert row.notified.startswith("Pending not sent (gave up after 1 tries")


class HangingReceiver:
    """A webhook receiver that takes each request, then hangs until released; counts overlap."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = threading.Event()
        self.lock_free_while_sending: list[bool] = []
        self.probe: Any = None
        self.guard = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.guard:
                    hook.bodies.append(body)
                    hook.in_flight += 1
                    hook.most_in_flight = max(hook.most_in_flight, hook.in_flight)
                    if hook.probe is not None:
                        hook.lock_free_while_sending.append(hook.probe())
                hook.release.wait(10)
                with hook.guard:
                    hook.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def hanging() -> Iterator[HangingReceiver]:
    hook = HangingReceiver()
    with served_in_thread(hook.server, poll_interval=0.05):
        yield hook
        hook.release.set()


def _webhook_kit(tmp_path: Path, url: str, **overrides: Any) -> WorkerKit:
    kit = WorkerKit(tmp_path, ["log:"], [SHIPPED], overrides)
    kit.worker.notifiers = [WebhookNotifier(url, timeout=1.0, clock=utc_now)]
    return kit


def test_a_hanging_webhook_gets_messages_at_once_outside_the_pass_lock(
    tmp_path: Path, hanging: HangingReceiver
) -> None:
    """Six messages reach a receiver that never answers together, the pass lock free; none twice."""
    kit = _webhook_kit(tmp_path, hanging.url)
    ids = [
        kit.record(
            day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com",
            conversation_id=f"c{n}",
        )
        for n in range(6)
    ]  # fmt: skip
    lock = pass_lock(kit.settings)

    def lock_is_free() -> bool:
        try:
            with lock.acquire(timeout=0):
                return True
        except Exception:
            return False

    hanging.probe = lock_is_free
    other_lock = pass_lock(kit.settings)
    tick(kit.worker, day(4.1), other_lock)
    tick(kit.worker, day(4.2), other_lock)
    rows = kit.rows()
    kit.close()
    assert hanging.most_in_flight == 6
    assert len(hanging.bodies) == 6
    assert hanging.lock_free_while_sending and all(hanging.lock_free_while_sending)
    assert all(rows[i].notified.endswith(" webhook maybe") for i in ids), rows[ids[0]].notified


def test_a_send_step_longer_than_the_lease_keeps_it_as_it_goes(
    tmp_path: Path, hanging: HangingReceiver
) -> None:
    """A receiver holds the message past the lease's life: the pass renews it, no one takes over."""
    kit = _webhook_kit(tmp_path, hanging.url)
    kit.worker.notifiers = [WebhookNotifier(hanging.url, timeout=10.0, clock=utc_now)]
    kit.record(day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com")
    ttl = timedelta(seconds=2)
    kit.worker.lease = SqliteLease(tmp_path / "queue.db", Holder("token-a", "host-a", 1), ttl)
    other = SqliteLease(tmp_path / "queue.db", Holder("token-b", "host-b", 2), ttl)
    start, began = day(4.1), time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - began)

    passing = threading.Thread(
        target=lambda: tick(kit.worker, start, pass_lock(kit.settings), clock=clock)
    )
    passing.start()
    try:
        for _ in range(200):
            if hanging.bodies:
                break
            time.sleep(0.05)
        assert hanging.bodies, "the message never reached the receiver"
        time.sleep(2 * ttl.total_seconds())  # the lease taken at the start has run out by now
        with pytest.raises(LeaseHeld):
            other.acquire(clock())
    finally:
        hanging.release.set()
        passing.join(15)
    rows = kit.rows()
    kit.close()
    assert len(hanging.bodies) == 1
    assert next(iter(rows.values())).notified.endswith(" webhook maybe"), rows  # no answer came


def test_messages_not_started_before_the_deadline_wait_for_the_next_step(
    tmp_path: Path, hanging: HangingReceiver
) -> None:
    """One sender, a hanging receiver, a short deadline: the rest stay owed, nothing lost."""
    kit = _webhook_kit(tmp_path, hanging.url, notify_concurrency=1, notify_pass_seconds=0.2)
    for n in range(3):
        kit.record(
            day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com",
            conversation_id=f"c{n}",
        )  # fmt: skip
    first = kit.run(day(4.1))
    pending = kit.ledger.pending_count()
    kit.close()
    assert first.postponed == 2
    assert len(hanging.bodies) == 1
    assert pending == 2
