"""HTTP API and chat actions: what each flow needs to be recorded, and the late-return portal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bot_actions.api import create_app
from sheetqueue.bot_actions.returns import ReturnsPortal
from sheetqueue.sheets.times import format_time
from tests.api_kit import NOW, Api, SwitchedStore, make_settings, serve, serve_whole_app
from tests.factories import make_order_record


def _orders(folder: Path) -> Path:
    def delivered(order_id: str, days: int) -> dict[str, Any]:
        when = format_time(NOW - timedelta(days=days))
        return make_order_record(order_id=order_id, status="delivered", delivered_at=when)

    path = folder / "flow-orders.json"
    orders = [delivered("ORD-40", 40), delivered("ORD-80", 80), delivered("ORD-5", 5)]
    path.write_text(json.dumps([*orders, make_order_record(order_id="ORD-NEW")]))
    return path


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serve_whole_app(tmp_path, orders=f"file:{_orders(tmp_path)}") as running:
        yield running


def _rows(api: Api, tmp_path: Path) -> list[Any]:
    assert api.app.state.flusher.wait_idle(5)
    return SwitchedStore(tmp_path / "queue.db").rows()


def test_an_unsubscribe_needs_an_email_not_an_order(api: Api, tmp_path: Path) -> None:
    """An unsubscribe with only an email is saved; a refund without an order is a 422."""
    saved = api.post("/v1/requests", {"type": "unsubscribe", "email": "ana@example.com"})
    refused = api.post("/v1/requests", {"type": "refund", "email": "ana@example.com"})
    assert saved.status_code == 201, saved.text
    assert "marketing emails" in saved.json()["message"]
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("order_id: ")
    [row] = _rows(api, tmp_path)
    assert (row.type, row.order_id, row.email) == ("unsubscribe", "", "ana@example.com")


def test_an_address_change_carries_the_new_address(api: Api, tmp_path: Path) -> None:
    """Without details.new_address the answer is a 422 naming it, and nothing is saved."""
    body = {"type": "address_change", "order_id": "ORD-NEW", "email": "ana@example.com"}
    refused = api.post("/v1/requests", body)
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("details.new_address: ")
    assert _rows(api, tmp_path) == []
    saved = api.post("/v1/requests", body | {"details": {"new_address": "9 Elm Rd, Austin"}})
    assert saved.status_code == 201
    [row] = _rows(api, tmp_path)
    assert json.loads(row.details) == {"new_address": "9 Elm Rd, Austin"}


def test_an_exchange_action_carries_the_wanted_size_or_colour(api: Api, tmp_path: Path) -> None:
    """recordRequest for an exchange without size or colour answers an error; with one, saves."""
    args = {"requestType": "exchange", "orderId": "ORD-5", "email": "ana@example.com"}

    def call(extra: dict[str, Any]) -> Any:
        answer = api.post(
            "/actions/recordRequest", {"args": args | extra, "conversation": {"id": "c-9"}}
        )
        assert answer.status_code == 200
        return answer.json()

    missing = call({})
    assert "error" in missing and "size or colour" in missing["error"]
    assert _rows(api, tmp_path) == []
    saved = call({"details": {"size": "L"}})
    assert saved["success"] is True
    [row] = _rows(api, tmp_path)
    assert json.loads(row.details) == {"size": "L"}


@pytest.mark.parametrize(
    ("order_id", "decision"),
    [("ORD-40", "review:lateReturnReview"), ("ORD-80", "ineligible:outsideWindow")],
)
def test_the_returns_portal_answers_a_late_return_as_overdue(
    api: Api, order_id: str, decision: str
) -> None:
    """Past the window the portal answers return_overdue with the decision, not a plain error."""
    answer = api.post(
        "/v1/returns/initialise", {"order_id": order_id, "email": "ana@example.com"}
    ).json()
    assert answer["type"] == "return_overdue"
    assert answer["decision"] == decision
    assert "window" in answer["message"]


def test_the_returns_portal_still_opens_inside_the_window(api: Api) -> None:
    """A return five days after delivery opens the portal as before."""
    answer = api.post("/v1/returns/initialise", {"order_id": "ORD-5", "email": "ana@example.com"})
    assert answer.json()["type"] == "initialise_return"


def test_a_late_return_asks_a_manager_through_the_eligibility_route(api: Api) -> None:
    """Forty days after delivery a return is a manager's call (review), not a flat no."""
    answer = api.post(
        "/v1/eligibility", {"order_id": "ORD-40", "email": "ana@example.com", "type": "return"}
    ).json()
    assert answer["decision"] == "review:lateReturnReview"
    assert "manager" in answer["message"]


def test_answers_carry_the_configured_self_service_link(tmp_path: Path) -> None:
    """With [links], /v1/eligibility, /v1/requests and recordRequest all return the page."""
    links = {"return": "https://shop.example/returns", "default": "https://shop.example/help"}
    app = create_app(
        make_settings(tmp_path, orders=f"file:{_orders(tmp_path)}", links=links),
        store_opener=SwitchedStore(tmp_path / "queue.db").open,
        clock=lambda: NOW,
        portal=ReturnsPortal("flow-1", "acct-1"),
        flush_interval=0.01,
    )
    with serve(app) as api:
        checked = api.post(
            "/v1/eligibility", {"order_id": "ORD-5", "email": "ana@example.com", "type": "return"}
        ).json()
        recorded = api.post(
            "/v1/requests", {"type": "support", "order_id": "ORD-5", "email": "ana@example.com"}
        ).json()
        action = api.post(
            "/actions/recordRequest",
            {
                "args": {"requestType": "return", "orderId": "ORD-5", "email": "ana@example.com"},
                "conversation": {"id": "c-3"},
            },
        ).json()

    assert checked["link"] == "https://shop.example/returns"
    assert "returns portal: https://shop.example/returns" in checked["message"]
    assert recorded["link"] == "https://shop.example/help"
    assert action["link"] == "https://shop.example/returns"


def test_lookup_takes_the_signed_in_email_instead_of_a_typed_one(api: Api) -> None:
    """signed_in_email alone finds the order; a wrong signed-in email is the generic 404."""
    found = api.post(
        "/v1/orders/lookup", {"order_id": "ORD-5", "signed_in_email": "ana@example.com"}
    )
    other = api.post(
        "/v1/orders/lookup", {"order_id": "ORD-5", "signed_in_email": "eve@example.com"}
    )
    neither = api.post("/v1/orders/lookup", {"order_id": "ORD-5"})
    assert found.status_code == 200 and found.json()["order"]["order_id"] == "ORD-5"
    assert other.status_code == 404
    assert neither.status_code == 422
