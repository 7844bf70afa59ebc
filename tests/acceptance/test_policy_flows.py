"""Acceptance: the policy flows through the CLI: not received, VIP refunds, bad flow input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.cli_runner import SheetqueueCli
from tests.factories import make_order_record
from tests.smtp_server import SmtpServer


def _write(path: Path, *orders: dict[str, Any]) -> None:
    path.write_text(json.dumps(list(orders)))


def _delivered(hours_ago: float, **overrides: Any) -> dict[str, Any]:
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    return make_order_record(status="delivered", delivered_at=when.isoformat(), **overrides)


def test_delivered_but_not_received_waits_48_hours_then_is_investigated(tmp_path: Path) -> None:
    """Under 48 h the row stays Pending (carrierGrace); after, it is an investigation to review."""
    orders = tmp_path / "orders.json"
    _write(orders, _delivered(5))
    with SmtpServer() as smtp:
        cli = SheetqueueCli(
            tmp_path,
            SHEETQUEUE_ORDERS=f"file:{orders}",
            SHEETQUEUE_NOTIFY=smtp.url(),
            SHEETQUEUE_NOTIFY_ON_REVIEW="true",
        )
        recorded = cli(
            "record", "--type", "support", "--order", "ORD-1001", "--email", "ana@example.com",
            "--details", '{"issue": "not_received"}', "--json",
        )  # fmt: skip
        assert recorded.code == 0, recorded.stderr
        assert cli("tick").code == 0
        waiting = cli("list", "--json").json()[0]
        _write(orders, _delivered(49))
        assert cli("tick").code == 0
        investigated = cli("list", "--json").json()[0]
        review_mail = [m for m in smtp.messages if "needs-review" in str(m.message["Message-ID"])]

    assert (waiting["status"], waiting["decision"]) == ("Pending", "wait:carrierGrace")
    assert "waits until" in waiting["worker_note"]
    assert (investigated["status"], investigated["decision"]) == (
        "Needs Review",
        "review:investigation",
    )
    assert "investigation with the carrier" in investigated["worker_note"]
    assert len(review_mail) == 1
    assert "investigation with the carrier" in review_mail[0].body()


def test_vip_refunds_no_questions_asked_is_a_policy_switch(tmp_path: Path) -> None:
    """Ninety days after delivery a VIP refund is refused by default and granted with the switch."""
    orders = tmp_path / "orders.json"
    vip = {"total_spent": 5000.0, "order_count": 40}
    _write(orders, _delivered(90 * 24, customer=vip))
    cli = SheetqueueCli(tmp_path, SHEETQUEUE_ORDERS=f"file:{orders}")
    args = ("eligibility", "--type", "refund", "--order", "ORD-1001", "--email", "ana@example.com")
    default = cli(*args, "--json")
    switched = cli(*args, "--json", SHEETQUEUE_POLICY__VIP_REFUND_NO_QUESTIONS="true")

    assert default.json()["decision"] == "ineligible:outsideWindow"
    assert switched.json()["decision"] == "eligible:vipNoQuestions"
    assert "no questions asked" in switched.json()["message"]


def test_record_refuses_an_address_change_without_the_new_address(tmp_path: Path) -> None:
    """Exit 2 with the missing field named; the queue stays empty; an unsubscribe needs no order."""
    cli = SheetqueueCli(tmp_path)
    refused = cli(
        "record", "--type", "address_change", "--order", "ORD-1", "--email", "a@b.example"
    )
    unsubscribed = cli("record", "--type", "unsubscribe", "--email", "a@b.example", "--json")
    rows = cli("list", "--json").json()

    assert refused.code == 2
    assert "details.new_address" in refused.stderr and "Traceback" not in refused.stderr
    assert unsubscribed.code == 0, unsubscribed.stderr
    assert [(row["type"], row["order_id"]) for row in rows] == [("unsubscribe", "")]
