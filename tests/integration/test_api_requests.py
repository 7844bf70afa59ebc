"""HTTP API, requests side: auth, recording through the outbox, repeats, status, handoff, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sheetqueue.bot_actions.api import create_app
from sheetqueue.bot_actions.returns import ReturnsPortal
from sheetqueue.sheets.store import CellUpdate
from tests.api_kit import NOW, TOKEN, Api, SwitchedStore, make_settings, serve

RETURN = {"type": "return", "order_id": "ORD-1001", "email": "ana@example.com"}


@pytest.fixture
def sheet(tmp_path: Path) -> SwitchedStore:
    return SwitchedStore(tmp_path / "queue.db")


@pytest.fixture
def api(tmp_path: Path, sheet: SwitchedStore) -> Iterator[Api]:
    app = create_app(
        make_settings(tmp_path),
        store_opener=sheet.open,
        clock=lambda: NOW,
        portal=ReturnsPortal("flow-1", "acct-1"),
        flush_interval=0.01,
        max_backoff=0.05,
        snapshot_max_age=0.0,
    )
    with serve(app) as running:
        yield running


def _landed(api: Api) -> None:
    assert api.app.state.flusher.wait_idle(5)


def test_healthz_is_open_and_everything_else_needs_the_token(api: Api) -> None:
    """/healthz answers without a token; other routes give 401 without it or with a wrong one."""
    bare = api.session.__class__()
    assert bare.get(api.url + "/healthz", timeout=5).json() == {"status": "ok"}
    for path in ("/v1/requests", "/actions/recordRequest"):
        assert bare.post(api.url + path, json=RETURN, timeout=5).status_code == 401
    assert bare.get(api.url + "/openapi.json", timeout=5).status_code == 401
    wrong = bare.post(
        api.url + "/v1/requests", json=RETURN, headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert wrong.status_code == 401
    assert "token" in wrong.json()["error"]
    bare.close()
    assert api.post("/v1/requests", RETURN).status_code == 201


def test_record_answers_201_and_the_row_lands(api: Api, sheet: SwitchedStore) -> None:
    """A new request is 201 Pending with type-specific words, and lands in the queue."""
    answer = api.post("/v1/requests", RETURN | {"conversation_id": "c-1", "details": {"sku": "X"}})
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "Pending"
    assert body["request_id"].startswith("REQ-")
    assert "return request for order ORD-1001" in body["message"]
    _landed(api)
    [row] = sheet.rows()
    assert (row.request_id, row.type, row.details) == (body["request_id"], "return", '{"sku":"X"}')


def test_same_conversation_again_is_200_with_the_same_id(api: Api, sheet: SwitchedStore) -> None:
    """Asking again in a conversation, before and after landing, gives 200 and the first ID."""
    first = api.post("/v1/requests", RETURN | {"conversation_id": "c-1"}).json()
    again = api.post("/v1/requests", RETURN | {"conversation_id": "c-1"})
    assert again.status_code == 200
    assert again.json()["request_id"] == first["request_id"]
    assert "already asked" in again.json()["message"]
    _landed(api)
    later = api.post("/v1/requests", RETURN | {"conversation_id": "c-1"})
    assert (later.status_code, later.json()["request_id"]) == (200, first["request_id"])
    _landed(api)
    assert len(sheet.rows()) == 1


def test_idempotency_key_gives_the_same_answer(api: Api) -> None:
    """The same Idempotency-Key gives 200 and the same ID; reused for another body, 422."""
    first = api.post("/v1/requests", RETURN, headers={"Idempotency-Key": "abc-1"})
    again = api.post("/v1/requests", RETURN, headers={"Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["request_id"] == first.json()["request_id"]
    other = api.post("/v1/requests", RETURN | {"reason": "x"}, headers={"Idempotency-Key": "abc-1"})
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"


def test_requests_are_accepted_while_the_sheet_is_down(api: Api, sheet: SwitchedStore) -> None:
    """With the store failing, requests are still 201 and readable; once back, all land once."""
    sheet.down.set()
    ids = [
        api.post("/v1/requests", RETURN | {"conversation_id": f"c-{n}"}).json()["request_id"]
        for n in range(10)
    ]
    status = api.get(f"/v1/requests/{ids[0]}", params={"email": "ana@example.com"})
    assert (status.status_code, status.json()["status"]) == (200, "Pending")
    assert sheet.rows() == []
    sheet.down.clear()
    _landed(api)
    assert sorted(r.request_id for r in sheet.rows()) == sorted(ids)


def test_status_shows_the_team_decision_and_hides_from_other_emails(
    api: Api, sheet: SwitchedStore
) -> None:
    """GET gives the status with its own words; a wrong email and an unknown ID get the same 404."""
    request_id = api.post("/v1/requests", RETURN).json()["request_id"]
    _landed(api)
    store = sheet.open()
    [stored] = store.read_requests()
    store.update_cells(
        [
            CellUpdate(
                stored.ref,
                {"request_id": request_id, "status": "Pending"},
                {"status": "Done", "shopper_message": "Label sent."},
            )
        ]
    )
    store.close()
    answer = api.get(f"/v1/requests/{request_id}", params={"email": " ANA@example.com "})
    assert answer.json() | {"message": ""} == {
        "request_id": request_id,
        "type": "return",
        "status": "Done",
        "message": "",
    }
    assert "complete" in answer.json()["message"] and "Label sent." in answer.json()["message"]
    wrong = api.get(f"/v1/requests/{request_id}", params={"email": "eve@example.com"})
    unknown = api.get("/v1/requests/REQ-NOPE", params={"email": "ana@example.com"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert api.get(f"/v1/requests/{request_id}").status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"order_id": "ORD-1001", "email": "ana@example.com"}, "type"),
        (RETURN | {"type": "teleport"}, "type"),
        (RETURN | {"email": "not-an-email"}, "email"),
        (RETURN | {"order_id": 1001}, "order_id"),
        (RETURN | {"colour": "red"}, "colour"),
        ([RETURN], "body"),
    ],
)
def test_bad_input_is_422_naming_the_field(api: Api, body: object, field: str) -> None:
    """Missing, unknown, mistyped and extra fields are 422 with the field and what is wrong."""
    answer = api.post("/v1/requests", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == field
    assert answer.json()["error"].startswith(f"{field}: ")


def test_malformed_and_oversized_bodies_are_refused_cleanly(api: Api) -> None:
    """Broken JSON is 422, invalid UTF-8 is 422, a body over 64 KiB is 413: never a 500."""
    headers = {"Content-Type": "application/json"}
    broken = api.session.post(api.url + "/v1/requests", data=b"{nope", headers=headers, timeout=5)
    assert (broken.status_code, broken.json()["field"]) == (422, "body")
    binary = api.session.post(
        api.url + "/v1/requests", data=b"\xff\xfe", headers=headers, timeout=5
    )
    assert binary.status_code == 422
    huge = json.dumps(RETURN | {"reason": "x" * 70_000}).encode()
    assert (
        api.session.post(
            api.url + "/v1/requests", data=huge, headers=headers, timeout=5
        ).status_code
        == 413
    )


def test_handoff_records_a_support_request_with_context(api: Api, sheet: SwitchedStore) -> None:
    """A handoff is 201; the support row carries the issue, conversation and context."""
    answer = api.post(
        "/v1/handoff",
        {
            "order_id": "ORD-1001",
            "issue": "Parcel never arrived",
            "conversation_id": "c-9",
            "email": "ana@example.com",
            "context": {"tried": "tracking"},
        },
    )
    assert answer.status_code == 201
    _landed(api)
    [row] = sheet.rows()
    assert (row.type, row.reason, row.conversation_id) == ("support", "Parcel never arrived", "c-9")
    assert row.email == "ana@example.com"
    assert json.loads(row.details) == {"handoff": True, "email_verified": True, "tried": "tracking"}


@pytest.mark.parametrize(
    "extra",
    [{}, {"email": "zed@example.com"}],
    ids=["without an email", "with an email not the order's"],
)
def test_handoff_answers_known_and_unknown_orders_alike(
    api: Api, sheet: SwitchedStore, extra: dict[str, str]
) -> None:
    """Known and unknown orders get the same status and words; no row has the order's email."""
    answers = [
        api.post(
            "/v1/handoff",
            {"order_id": order, "issue": "Where is it?", "conversation_id": f"c-{order}"} | extra,
        )
        for order in ("ORD-1001", "ORD-9999")
    ]
    assert [answer.status_code for answer in answers] == [201, 201]
    known, unknown = (answer.json() for answer in answers)
    assert known["status"] == unknown["status"]
    assert known["message"].replace(known["request_id"], "R").replace("ORD-1001", "O") == (
        unknown["message"].replace(unknown["request_id"], "R").replace("ORD-9999", "O")
    )
    _landed(api)
    rows = sheet.rows()
    assert {row.email for row in rows} == {extra.get("email", "")}
    assert all(json.loads(row.details)["email_verified"] is False for row in rows)


def test_metrics_count_requests_and_outbox_depth(api: Api) -> None:
    """/metrics is Prometheus text with requests by type and the outbox depth."""
    api.post("/v1/requests", RETURN)
    _landed(api)
    families = {
        family.name: family for family in text_string_to_metric_families(api.get("/metrics").text)
    }
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("sheetqueue_requests_recorded_total", (("type", "return"),))] == 1
    assert samples[("sheetqueue_outbox_depth", ())] == 0
    assert families["sheetqueue_outbox_depth"].type == "gauge"
    route = (("code", "201"), ("route", "/v1/requests"))
    assert samples[("sheetqueue_http_requests_total", route)] == 1


def test_token_is_compared_whole(tmp_path: Path) -> None:
    """A prefix of the token, or the token with extra characters, is refused."""
    from sheetqueue.bot_actions.api.auth import token_matches

    assert token_matches(f"Bearer {TOKEN}", TOKEN)
    assert token_matches(f"bearer {TOKEN}", TOKEN)
    assert not token_matches(f"Bearer {TOKEN[:-1]}", TOKEN)
    assert not token_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not token_matches(TOKEN, TOKEN)
