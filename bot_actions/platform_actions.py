"""Drop-in actions for chat platforms that run Python: paste this file as an action.

Each action of the platform is one ``execute_action(context)`` function. Paste
this whole module into the platform's action editor, set ``SHEETQUEUE_URL``
and ``SHEETQUEUE_TOKEN`` below, and set ``ACTION`` to the action it serves:
``recordRequest``, ``getOrderDetails``, ``checkEligibility``,
``initialiseReturn``, ``handoff`` or ``retentionOffer`` (one pasted copy per action). The
platform's ``context["args"]`` (camelCase: ``requestType``, ``orderId``,
``email``, ``reason``, ...) and ``context["conversation"]["id"]`` are sent to
sheetqueue's ``POST /actions/<ACTION>``; the answer comes back as
``{"success": True, ...}`` or ``{"error": "..."}`` for the bot to read out.

It needs only ``requests`` and the standard library, never raises, and gives
up after ``TIMEOUT_SECONDS``. When the platform offers
``add_conversation_tag``, a recorded request tags the conversation
``request:<type>``. When it offers ``get_conversation_metadata`` and the
website passed a logged-in customer (``chat-widget:email``), that email is
sent as the conversation's ``signedInEmail``: lookups take it as verified
instead of asking the shopper for one.
"""

from __future__ import annotations

import contextlib
from typing import Any

import requests

SHEETQUEUE_URL = "https://sheetqueue.example.com"  # where `sheetqueue serve` answers
SHEETQUEUE_TOKEN = ""  # the value of SHEETQUEUE_API_TOKEN
ACTION = "recordRequest"  # this copy's action name
TIMEOUT_SECONDS = (5.0, 20.0)  # (connect, read)

__all__ = ["ACTION", "SHEETQUEUE_TOKEN", "SHEETQUEUE_URL", "call_action", "execute_action"]

_UNREACHABLE = "We couldn't reach our order system just now. Please try again in a minute."


def call_action(name: str, context: dict[str, Any]) -> dict[str, Any]:
    """Send the platform's context to ``POST /actions/<name>``; the answer as a dict."""
    args = context.get("args") or {}
    conversation = context.get("conversation") or {}
    body = {"args": args, "conversation": _conversation(context, conversation)}
    headers = {"Accept": "application/json"}
    if SHEETQUEUE_TOKEN:
        headers["Authorization"] = f"Bearer {SHEETQUEUE_TOKEN}"
    try:
        response = requests.post(
            f"{SHEETQUEUE_URL.rstrip('/')}/actions/{name}",
            json=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        return {"error": _UNREACHABLE}
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 401:
        return {"error": "This action is not set up correctly (the API token is wrong)."}
    if not isinstance(answer, dict):
        return {"error": _UNREACHABLE}
    if response.status_code != 200 and "error" not in answer:
        return {"error": _UNREACHABLE}
    return answer


def _conversation(context: dict[str, Any], conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation id and, when the widget passed a logged-in customer, their email."""
    sent: dict[str, Any] = {"id": str(conversation.get("id", "") or "")}
    metadata = globals().get("get_conversation_metadata")
    if callable(metadata):
        with contextlib.suppress(Exception):  # no login data is the usual case
            email = metadata(context, "chat-widget:email")
            if isinstance(email, str) and email.strip():
                sent["signedInEmail"] = email.strip()
    return sent


def execute_action(context: dict[str, Any]) -> dict[str, Any]:
    """The platform's entry point: run ``ACTION`` with this conversation's arguments."""
    answer = call_action(ACTION, context)
    tag = globals().get("add_conversation_tag")
    if ACTION == "recordRequest" and answer.get("success") and callable(tag):
        kind = str((context.get("args") or {}).get("requestType", "")).strip().lower()
        with contextlib.suppress(Exception):  # a failed tag must not hide the saved request
            tag(context, f"request:{kind}")
    return answer
