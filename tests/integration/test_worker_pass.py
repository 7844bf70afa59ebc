"""The worker pass on the embedded store: status moves, notes, notices, the audit log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sheetqueue.bot_actions.team import set_status
from sheetqueue.sheets.model import Status
from tests.factories import PROCESSING, SHIPPED, day, make_order_record, make_request
from tests.smtp_server import SmtpServer, free_port
from tests.worker_kit import WorkerKit


@pytest.fixture
def kit(tmp_path: Path, smtp: SmtpServer) -> Iterator[WorkerKit]:
    """A worker sending through the SMTP server, with two orders."""
    made = WorkerKit(tmp_path, [smtp.url()], [SHIPPED, PROCESSING], {})
    yield made
    made.close()


def _ids_by_subject(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(m.message["Message-ID"]) for m in smtp.messages)


def test_cancellation_of_a_shipped_order_is_ineligible_with_the_return_path(
    kit: WorkerKit, smtp: SmtpServer
) -> None:
    """Pending -> Ineligible, a note for the team, and the shopper told once, offered a return."""
    request_id = kit.record(
        day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com"
    )
    report = kit.run(day(4.1))
    row = kit.rows()[request_id]
    assert (row.status, row.decision) == ("Ineligible", "ineligible:alreadyShipped")
    assert row.worker_note and row.checked_at == "2026-11-05T14:24:00Z"
    assert report.changed == 1 and report.notified == 1
    assert len(smtp.messages) == 1
    body = smtp.messages[0].body().lower()
    assert "return" in body
    kit.run(day(4.2))
    assert kit.rows()[request_id].notified.startswith("Ineligible 2026-11-05T14:24:00Z")
    kit.run(day(4.3))
    assert len(smtp.messages) == 1


def test_pending_cancellation_whose_order_ships_before_the_pass(kit: WorkerKit) -> None:
    """The order shipped after the ask but before the check: Ineligible, return offered."""
    kit.orders[1] = {**PROCESSING, "status": "shipped", "shipped_at": day(2).isoformat()}
    request_id = kit.record(
        day(1), type="cancellation", order_id="ORD-PROC", email="ana@example.com"
    )
    kit.run(day(2.5))
    row = kit.rows()[request_id]
    assert row.status == "Ineligible"
    assert row.decision == "ineligible:alreadyShipped"


def test_eligible_request_that_fails_a_recheck_becomes_ineligible(kit: WorkerKit) -> None:
    """Eligible -> Ineligible when the order ships while the team has not acted yet."""
    request_id = kit.record(
        day(1), type="cancellation", order_id="ORD-PROC", email="ana@example.com"
    )
    kit.run(day(1.1))
    assert kit.rows()[request_id].status == "Eligible"
    kit.orders[1] = {**PROCESSING, "status": "shipped", "shipped_at": day(2).isoformat()}
    kit.run(day(2.1))
    assert kit.rows()[request_id].status == "Ineligible"
    moves = [(e.from_status, e.to_status, e.by) for e in kit.store.read_log()]
    assert moves == [("Pending", "Eligible", "worker"), ("Eligible", "Ineligible", "worker")]


def test_return_recorded_on_day_29_and_checked_on_day_35_stays_eligible(
    kit: WorkerKit,
) -> None:
    """Windows are measured when the shopper asked, not when the worker looks."""
    delivered = make_order_record(
        order_id="ORD-DLV",
        status="delivered",
        shipped_at=day(-2).isoformat(),
        delivered_at=day(0).isoformat(),
    )
    kit.orders.append(delivered)
    request_id = kit.record(day(29), type="return", order_id="ORD-DLV", email="ana@example.com")
    kit.run(day(35))
    row = kit.rows()[request_id]
    assert row.status == "Eligible", row.worker_note


def test_team_statuses_are_never_touched_and_told_once(kit: WorkerKit, smtp: SmtpServer) -> None:
    """Done and Rejected by the team: the shopper is told once; the worker writes no status."""
    done_id = kit.record(
        day(1),
        type="cancellation",
        order_id="ORD-PROC",
        email="ana@example.com",
        conversation_id="c1",
    )
    rejected_id = kit.record(
        day(1),
        type="address_change",
        order_id="ORD-PROC",
        email="ana@example.com",
        conversation_id="c2",
    )
    kit.run(day(1.1))
    set_status(kit.store, done_id, Status.DONE, team_note="cancelled in the shop")
    set_status(
        kit.store, rejected_id, Status.REJECTED, shopper_message="We cannot ship to PO boxes."
    )
    for step in (1.2, 1.3, 1.4):
        kit.run(day(step))
    rows = kit.rows()
    assert (rows[done_id].status, rows[rejected_id].status) == ("Done", "Rejected")
    subjects = Counter(m.message["X-Sheetqueue-Request"] for m in smtp.messages)
    assert subjects == {done_id: 1, rejected_id: 1}
    rejected_mail = next(
        m for m in smtp.messages if m.message["X-Sheetqueue-Request"] == rejected_id
    )
    assert "We cannot ship to PO boxes." in rejected_mail.body()
    team_moves = [(e.request_id, e.to_status) for e in kit.store.read_log() if e.by == "team"]
    assert sorted(team_moves) == sorted([(done_id, "Done"), (rejected_id, "Rejected")])


def test_unknown_status_is_left_alone_and_explained(kit: WorkerKit) -> None:
    """A typo such as 'Dnoe' stays, with a Worker Note saying why."""
    kit.store.add_requests(
        [make_request(request_id="REQ-TYPO", status="Dnoe", type="refund", order_id="ORD-PROC")]
    )
    report = kit.run(day(1))
    row = kit.rows()["REQ-TYPO"]
    assert row.status == "Dnoe"
    assert "'Dnoe' is not one the worker knows" in row.worker_note
    assert report.checked == 0


def test_row_without_request_id_gets_one_and_is_checked(kit: WorkerKit) -> None:
    """A row added by hand (or by the platform's own action) gets an ID and a decision."""
    by_hand = {"request_id": "", "timestamp": "2026-11-02T10:00:00", "order_id": "ORD-PROC"}
    kit.store.add_requests([make_request(type="cancellation", **by_hand)])
    kit.run(day(1.5))
    (row,) = kit.rows().values()
    assert row.request_id.startswith("REQ-")
    assert row.status == "Eligible"


def test_smtp_down_for_three_passes_then_up_loses_nothing_and_sends_once(
    tmp_path: Path,
) -> None:
    """Failed sends are retried on later passes; once SMTP is back each goes exactly once."""
    server = SmtpServer()
    kit = WorkerKit(tmp_path, [server.url()], [SHIPPED], {})
    ids = [
        kit.record(
            day(4),
            type="cancellation",
            order_id="ORD-SHIP",
            email="ana@example.com",
            conversation_id=f"c{n}",
        )
        for n in range(5)
    ]
    minute = 1 / 1440
    for n in range(3):
        report = kit.run(day(4 + n * 5 * minute))
        assert report.notified == 0 and report.failed == 5
    with server:
        kit.run(day(4 + 60 * minute))
        kit.run(day(4 + 120 * minute))
        counts = _ids_by_subject(server)
    rows = kit.rows()
    kit.close()
    assert len(counts) == 5 and set(counts.values()) == {1}
    assert all(rows[i].notified.startswith("Ineligible ") for i in ids)


def test_giving_up_after_max_attempts_is_written_in_the_sheet(tmp_path: Path) -> None:
    """After notify_max_attempts failures the row says the shopper was not told."""
    nobody_listening = f"smtp://127.0.0.1:{free_port()}"
    kit = WorkerKit(tmp_path, [nobody_listening], [SHIPPED], {"notify_max_attempts": 2})
    request_id = kit.record(
        day(4), type="cancellation", order_id="ORD-SHIP", email="ana@example.com"
    )
    for hour in range(5):
        kit.run(day(4 + hour / 24))
    row = kit.rows()[request_id]
    kit.close()
    assert "Could not tell the shopper about Ineligible after 2 tries" in row.worker_note
    assert row.notified.startswith("Ineligible not sent (gave up")


def test_received_and_review_notices_when_configured(tmp_path: Path, smtp: SmtpServer) -> None:
    """With notify_on_received and notify_on_review, the shopper hears of both, once each."""
    kit = WorkerKit(
        tmp_path, [smtp.url()], [SHIPPED], {"notify_on_received": True, "notify_on_review": True}
    )
    request_id = kit.record(
        day(4), type="support", order_id="ORD-SHIP", email="ana@example.com", reason="Help"
    )
    for step in (4.1, 4.2, 4.3):
        kit.run(day(step))
    row = kit.rows()[request_id]
    kit.close()
    assert row.status == "Needs Review"
    told = Counter(str(m.message["Message-ID"]).split("-")[-1].split("@")[0] for m in smtp.messages)
    assert told == {"pending": 1, "review": 1}
