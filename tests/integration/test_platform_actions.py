"""The paste-in ``execute_action(context)`` module, against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from sheetqueue.bot_actions import platform_actions
from sheetqueue.bot_actions.api import create_app
from sheetqueue.bot_actions.returns import ReturnsPortal
from tests.api_kit import NOW, TOKEN, Api, SwitchedStore, make_settings, serve


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    app = create_app(
        make_settings(tmp_path),
        store_opener=SwitchedStore(tmp_path / "queue.db").open,
        clock=lambda: NOW,
        portal=ReturnsPortal("flow-1", "acct-1"),
        flush_interval=0.01,
    )
    with serve(app) as running:
        monkeypatch.setattr(platform_actions, "SHEETQUEUE_URL", running.url)
        monkeypatch.setattr(platform_actions, "SHEETQUEUE_TOKEN", TOKEN)
        yield running


def _context(**args: Any) -> dict[str, Any]:
    return {"args": args, "conversation": {"id": "conv-42"}}


def test_record_request_action_saves_and_tags(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """recordRequest saves the row, answers success, and tags the conversation when it can."""
    tags: list[str] = []
    monkeypatch.setattr(
        platform_actions, "add_conversation_tag", lambda _c, tag: tags.append(tag), raising=False
    )
    answer = platform_actions.execute_action(
        _context(requestType="cancellation", orderId="ORD-1002", email="ben@example.com")
    )
    assert answer["success"] is True and "cancel order ORD-1002" in answer["message"]
    assert tags == ["request:cancellation"]
    assert api.app.state.flusher.wait_idle(5)
    [row] = SwitchedStore(tmp_path / "queue.db").rows()
    assert (row.request_id, row.conversation_id, row.channel) == (
        answer["requestId"],
        "conv-42",
        "chat",
    )


@pytest.mark.parametrize(
    ("action", "args", "key"),
    [
        ("getOrderDetails", {"orderId": "ORD-1001", "email": "ana@example.com"}, "order"),
        (
            "checkEligibility",
            {"orderId": "ORD-1001", "email": "ana@example.com", "requestType": "return"},
            "eligible",
        ),
        ("handoff", {"orderId": "ORD-1001", "issue": "Please call me"}, "requestId"),
        ("initialiseReturn", {"orderId": "ORD-1001", "email": "ana@example.com"}, "returnFlowId"),
    ],
)
def test_each_action_answers_success(
    api: Api, monkeypatch: pytest.MonkeyPatch, action: str, args: dict[str, Any], key: str
) -> None:
    """Every action of the module reaches its route and returns the server's answer."""
    monkeypatch.setattr(platform_actions, "ACTION", action)
    answer = platform_actions.execute_action(_context(**args))
    assert answer["success"] is True and key in answer


def test_wrong_token_and_bad_args_are_clear_errors(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong token and a missing argument come back as {"error": ...}, never an exception."""
    assert "requestType" in platform_actions.execute_action(_context(orderId="ORD-1"))["error"]
    monkeypatch.setattr(platform_actions, "SHEETQUEUE_TOKEN", "wrong")
    assert "token" in platform_actions.execute_action(_context())["error"]


def test_unreachable_server_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing listening, the action answers an error quickly."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(platform_actions, "SHEETQUEUE_URL", f"http://127.0.0.1:{port}")
    answer = platform_actions.execute_action(_context(requestType="refund"))
    assert answer == {"error": platform_actions._UNREACHABLE}


def test_a_signed_in_customer_is_looked_up_without_typing_an_email(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The widget's login email goes as signedInEmail; the lookup succeeds and logs signed_in."""
    monkeypatch.setattr(platform_actions, "ACTION", "getOrderDetails")
    monkeypatch.setattr(
        platform_actions,
        "get_conversation_metadata",
        lambda _context, key: "ana@example.com" if key == "chat-widget:email" else None,
        raising=False,
    )
    with capture_logs() as logs:
        answer = platform_actions.execute_action(_context(orderId="ORD-1001"))
    assert answer["success"] is True and answer["order"]["order_id"] == "ORD-1001"
    verified = [entry for entry in logs if entry["event"] == "lookup.verified"]
    assert [entry["identity"] for entry in verified] == ["signed_in"]


def test_a_signed_in_marker_in_the_bots_args_is_ignored(api: Api) -> None:
    """Args cannot claim a login: without signedInEmail the typed email is checked as usual."""
    answer = api.post(
        "/actions/getOrderDetails",
        {
            "args": {"orderId": "ORD-1001", "email": "eve@example.com", "\x00signedIn": True},
            "conversation": {"id": "c-77"},
        },
    ).json()
    assert "error" in answer
    signed = api.post(
        "/actions/getOrderDetails",
        {
            "args": {"orderId": "ORD-1001", "email": "eve@example.com"},
            "conversation": {"id": "c-78", "signedInEmail": "ana@example.com"},
        },
    ).json()
    assert signed["success"] is True
