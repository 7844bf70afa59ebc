"""The retention ladder end to end: offers over HTTP and chat actions, the row, the worker, SMTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_kit import Api, SwitchedStore, serve_whole_app
from tests.cli_runner import SheetqueueCli
from tests.smtp_server import SmtpServer

BEN = {"order_id": "ORD-1002", "email": "ben@example.com"}


def _api(tmp_path: Path, **settings: Any) -> Iterator[Api]:
    with serve_whole_app(tmp_path, **settings) as running:
        yield running


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path)


def test_the_ladder_offers_15_then_30_then_lets_the_cancellation_go(api: Api) -> None:
    """Offer 1 is 15 %, offer 2 is 30 % with amounts; after two refusals there is none."""
    answers = [
        api.post("/v1/retention/offer", BEN | {"declined": n, "conversation_id": "c-1"}).json()
        for n in range(3)
    ]
    assert [a["offer"] and a["offer"]["percent"] for a in answers] == [15, 30, None]
    assert [a["offer"] and a["offer"]["amount"] for a in answers[:2]] == [9.0, 17.99]
    assert answers[2]["reason"] == "ladderDone"
    assert {a["ladder"] for a in answers} == {"A"}
    assert "15 %" in answers[0]["message"] and "30 %" in answers[1]["message"]


def test_no_offer_for_a_shipped_order_or_under_the_floor(tmp_path: Path) -> None:
    """A delivered order gets alreadyShipped; an order under retention_min_total gets belowFloor."""
    for api in _api(tmp_path, policy={"retention_min_total": 100.0}):
        shipped = api.post(
            "/v1/retention/offer", {"order_id": "ORD-1001", "email": "ana@example.com"}
        ).json()
        cheap = api.post("/v1/retention/offer", BEN).json()
    assert (shipped["offer"], shipped["reason"]) == (None, "alreadyShipped")
    assert (cheap["offer"], cheap["reason"]) == (None, "belowFloor")


def test_an_offer_beyond_the_ladder_is_refused_and_nothing_is_saved(
    api: Api, tmp_path: Path
) -> None:
    """Recording an accepted 50 % on ladder A (15, 30) is a 422 naming the ladder."""
    details = {"partial_refund": {"percent": 50}, "retention": {"ladder": "A"}}
    answer = api.post("/v1/requests", BEN | {"type": "refund", "details": details})
    assert answer.status_code == 422
    assert "50 % is not an offer of ladder A (15 %, 30 %)" in answer.json()["error"]
    assert api.app.state.flusher.wait_idle(5)
    assert SwitchedStore(tmp_path / "queue.db").rows() == []


def test_an_accepted_offer_becomes_a_partial_refund_for_the_team(api: Api, tmp_path: Path) -> None:
    """Accepted via recordRequest -> Eligible retentionOffer with the amount -> Done email."""
    offer = api.post(
        "/actions/retentionOffer",
        {"args": {"orderId": "ORD-1002", "email": "ben@example.com"}, "conversation": {"id": "c"}},
    ).json()
    details = {
        "partial_refund": {
            "percent": offer["offer"]["percent"],
            "amount": offer["offer"]["amount"],
        },
        "retention": {
            "ladder": offer["ladder"],
            "offers": [{"percent": offer["offer"]["percent"], "answer": "accepted"}],
        },
    }
    recorded = api.post(
        "/actions/recordRequest",
        {
            "args": {
                "requestType": "refund",
                "orderId": "ORD-1002",
                "email": "ben@example.com",
                "reason": "Accepted 15 % instead of cancelling",
                "details": details,
            },
            "conversation": {"id": "c"},
        },
    ).json()
    assert recorded["success"] is True, recorded
    assert api.app.state.flusher.wait_idle(5)
    orders = tmp_path / "orders.json"
    with SmtpServer() as smtp:
        cli = SheetqueueCli(
            tmp_path, SHEETQUEUE_ORDERS=f"file:{orders}", SHEETQUEUE_NOTIFY=smtp.url()
        )
        assert cli("tick").code == 0
        [row] = cli("list", "--json").json()
        assert cli("set-status", row["request_id"], "Done").code == 0
        assert cli("tick").code == 0
        [mail] = smtp.messages

    assert (row["status"], row["decision"]) == ("Eligible", "eligible:retentionOffer")
    assert "15 % (9.00 USD)" in row["worker_note"] and "retention ladder A" in row["worker_note"]
    assert json.loads(row["details"])["retention"]["offers"][0]["answer"] == "accepted"
    assert "refund" in mail.body().lower()
