"""recordRequest: validation per field, unguessable IDs, one row per request."""

from __future__ import annotations

import pytest

from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.errors import InputError
from sheetqueue.sheets.sqlite_store import SqliteStore
from tests.factories import day

VALID = {"type": "refund", "order_id": "ORD-1001", "email": "ana@example.com"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"type": "refnd"}, "type: unknown type 'refnd'"),
        ({"type": ""}, "type: unknown type ''"),
        ({"order_id": ""}, "order_id: must not be empty"),
        ({"order_id": "ORD 1001; drop"}, "order_id: use letters, digits"),
        ({"order_id": "X" * 65}, "order_id: String should have at most 64 characters"),
        ({"email": "nope"}, "email: not a valid email address"),
        ({"email": "ana@"}, "email: not a valid email address"),
        ({"phone": "call me"}, "phone: not a phone number"),
        ({"reason": "x" * 1001}, "reason: String should have at most 1000 characters"),
        ({"colour": "red"}, "colour: is not a known field"),
    ],
)
def test_bad_field_is_named_with_what_is_wrong(change: dict[str, str], expected: str) -> None:
    """Each invalid field gives one message naming it."""
    with pytest.raises(InputError) as caught:
        parse_new_request({**VALID, **change})
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize("missing", ["type", "order_id", "email"])
def test_required_fields_are_required(missing: str) -> None:
    """type, order_id and email must be given."""
    data = {k: v for k, v in VALID.items() if k != missing}
    with pytest.raises(InputError, match=f"^{missing}: is required"):
        parse_new_request(data)


def test_type_is_read_leniently_and_stored_canonically() -> None:
    """'Address Change' is the address_change type."""
    assert parse_new_request({**VALID, "type": " Address Change "}).type == "address_change"


def test_recorded_request_is_pending_with_a_fresh_id(sqlite_store: SqliteStore) -> None:
    """A new request is saved as Pending with an unguessable REQ- ID and a UTC timestamp."""
    result = record_request(sqlite_store, parse_new_request(VALID), day(0))
    assert result.created and result.status == "Pending"
    assert result.request_id.startswith("REQ-") and len(result.request_id) == 20
    stored = sqlite_store.read_requests()[0].request
    assert stored.timestamp == "2026-11-01T12:00:00Z"
    assert "refund request for order ORD-1001" in result.message


def test_same_conversation_type_and_order_returns_the_open_request(
    sqlite_store: SqliteStore,
) -> None:
    """Asking twice in a conversation keeps one row and one ID."""
    new = parse_new_request({**VALID, "conversation_id": "conv-9"})
    first = record_request(sqlite_store, new, day(0))
    second = record_request(sqlite_store, new, day(0.1))
    assert second.request_id == first.request_id
    assert not second.created
    assert len(sqlite_store.read_requests()) == 1


def test_each_type_gets_its_own_confirmation(sqlite_store: SqliteStore) -> None:
    """The confirmation names what was asked, not one generic text."""
    messages = {
        kind: record_request(
            sqlite_store, parse_new_request({**VALID, "type": kind}), day(0)
        ).message
        for kind in (
            "cancellation",
            "refund",
            "return",
            "exchange",
            "address_change",
            "unsubscribe",
            "support",
        )
    }
    firsts = {message.split(".")[0] for message in messages.values()}
    assert len(firsts) == 7


def test_details_object_is_stored_as_json_text(sqlite_store: SqliteStore) -> None:
    """Details given as an object are kept as compact JSON text."""
    new = parse_new_request({**VALID, "details": {"sku": "TEE-NVY-M", "damaged": True}})
    record_request(sqlite_store, new, day(0))
    assert sqlite_store.read_requests()[0].request.details == '{"sku":"TEE-NVY-M","damaged":true}'
