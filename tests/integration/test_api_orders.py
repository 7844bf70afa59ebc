"""HTTP API, orders side: lookup, lockout, rate limit, eligibility, returns portal, actions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bot_actions.returns import ReturnsPortal
from tests.api_kit import Api, serve_whole_app

ANA = {"order_id": "ORD-1001", "email": "ana@example.com"}


def _api(tmp_path: Path, portal: ReturnsPortal, **settings: Any) -> Iterator[Api]:
    with serve_whole_app(tmp_path, portal=portal, **settings) as running:
        yield running


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from _api(tmp_path, ReturnsPortal("flow-1", "acct-1"))


def test_lookup_shows_what_a_verified_shopper_may_see(api: Api) -> None:
    """The order comes back with status and tracking, the city only, the card's last four only."""
    answer = api.post("/v1/orders/lookup", ANA | {"conversation_id": "c-1"})
    assert answer.status_code == 200
    order = answer.json()["order"]
    assert (order["status"], order["tracking_number"]) == ("delivered", "1Z999AA10123456784")
    assert (order["city"], order["postal_code"]) == ("Austin", "78701")
    assert "123 Main" not in answer.text
    assert order["payment"] == "Visa ending in 4242"


def test_wrong_email_and_unknown_order_get_the_same_404_then_429(api: Api) -> None:
    """Unknown order and wrong email read alike; the second failure in a conversation locks it."""
    wrong = api.post(
        "/v1/orders/lookup", ANA | {"email": "eve@example.com", "conversation_id": "c"}
    )
    unknown = api.post("/v1/orders/lookup", ANA | {"order_id": "ORD-9", "conversation_id": "d"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    locked = api.post(
        "/v1/orders/lookup", ANA | {"email": "eve@example.com", "conversation_id": "c"}
    )
    assert locked.status_code == 429
    still = api.post("/v1/orders/lookup", ANA | {"conversation_id": "c"})
    assert still.status_code == 429


def test_lookups_beyond_the_rate_are_429_with_retry_after(tmp_path: Path) -> None:
    """More lookups per minute than ``lookup_rate_per_minute`` from one address get 429."""
    for api in _api(tmp_path, ReturnsPortal(), lookup_rate_per_minute=3):
        codes = [api.post("/v1/orders/lookup", ANA).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = api.post("/v1/orders/lookup", ANA | {"conversation_id": "other"})
        assert limited.status_code == 429  # a new conversation id is no way round it
        last = api.post("/v1/orders/lookup", ANA)
        assert int(last.headers["Retry-After"]) >= 1


def test_eligibility_answers_with_a_decision(api: Api) -> None:
    """A return within the window is eligible; a final-sale item is not; a wrong email is 404."""
    ok = api.post("/v1/eligibility", ANA | {"type": "return"}).json()
    assert ok["eligible"] is True and ok["decision"].startswith("eligible:")
    sale = api.post(
        "/v1/eligibility", {"order_id": "ORD-1003", "email": "cy@example.com", "type": "return"}
    ).json()
    assert sale["eligible"] is False and sale["decision"] == "ineligible:finalSale"
    assert sale["message"] != ok["message"]
    assert (
        api.post("/v1/eligibility", ANA | {"type": "refund", "email": "x@y.io"}).status_code == 404
    )
    bad = api.post("/v1/eligibility", ANA | {"type": "teleport"})
    assert (bad.status_code, bad.json()["field"]) == (422, "type")


def test_returns_portal_payloads(api: Api) -> None:
    """An eligible return opens the portal; an ineligible one or a wrong email gets the error."""
    opened = api.post(
        "/v1/returns/initialise", ANA | {"step_type": "return_details", "inputs": {"note": "hi"}}
    ).json()
    assert opened == {
        "type": "initialise_return",
        "returnFlowId": "flow-1",
        "externalAccountKey": "acct-1",
        "inputs": {"note": "hi", "order_number": "ORD-1001", "step_type": "return_details"},
    }
    refused = api.post(
        "/v1/returns/initialise", {"order_id": "ORD-1003", "email": "cy@example.com"}
    ).json()
    assert refused["type"] == "initialise_return_error" and refused["message"]
    stranger = api.post("/v1/returns/initialise", ANA | {"email": "eve@example.com"}).json()
    assert stranger["type"] == "initialise_return_error"
    assert "couldn't find" in stranger["message"]


def test_returns_portal_not_configured_says_so(tmp_path: Path) -> None:
    """Without the flow id and account key the answer is the error payload, not a broken portal."""
    for api in _api(tmp_path, ReturnsPortal()):
        answer = api.post("/v1/returns/initialise", ANA).json()
        assert answer["type"] == "initialise_return_error"


def _call(api: Api, name: str, args: dict[str, Any], conversation: str = "c-1") -> Any:
    answer = api.post(f"/actions/{name}", {"args": args, "conversation": {"id": conversation}})
    assert answer.status_code == 200
    return answer.json()


def test_chat_actions_speak_the_platform_style(api: Api) -> None:
    """Each action takes camelCase args and answers success or error in the body."""
    recorded = _call(
        api,
        "recordRequest",
        {"requestType": "refund", "orderId": "ORD-1001", "email": "ana@example.com"},
    )
    assert recorded["success"] is True and recorded["requestId"].startswith("REQ-")
    again = _call(
        api,
        "recordRequest",
        {"requestType": "refund", "orderId": "ORD-1001", "email": "ana@example.com"},
    )
    assert again["requestId"] == recorded["requestId"] and again["alreadyRecorded"] is True
    details = _call(
        api, "getOrderDetails", {"orderId": "ORD-1001", "email": "ana@example.com"}, "c-2"
    )
    assert details["order"]["status"] == "delivered"
    check = _call(
        api,
        "checkEligibility",
        {"orderId": "ORD-1001", "email": "ana@example.com", "requestType": "return"},
    )
    assert check["success"] is True and check["eligible"] is True
    portal = _call(api, "initialiseReturn", {"orderId": "ORD-1001", "email": "ana@example.com"})
    assert portal["type"] == "initialise_return" and portal["success"] is True
    handed = _call(api, "handoff", {"orderId": "ORD-9", "issue": "Need a person"}, "c-3")
    assert handed["success"] is True


def test_chat_action_errors_are_words_for_the_bot(api: Api) -> None:
    """Bad or missing args and unknown orders come back as {"error": ...}; unknown actions 404."""
    assert _call(api, "recordRequest", {"orderId": "ORD-1001"})["error"].startswith("requestType")
    missing = _call(api, "getOrderDetails", {"orderId": "ORD-9", "email": "ana@example.com"}, "c-7")
    assert "couldn't find" in missing["error"]
    typed = _call(
        api, "checkEligibility", {"orderId": {"x": 1}, "email": "a@b.co", "requestType": "return"}
    )
    assert typed == {"error": "orderId: must be text"}
    unknown = api.post("/actions/cancelEverything", {"args": {}})
    assert unknown.status_code == 404 and "recordRequest" in unknown.json()["error"]
    envelope = api.post("/actions/recordRequest", {"args": "nope"})
    assert envelope.status_code == 422
