"""``POST /actions/{name}``: the same front desk in the chat platform's style.

The platform sends ``{"args": {...}, "conversation": {"id": ...}}`` with
camelCase arguments (``requestType``, ``orderId``, ``email``, ``reason``);
snake_case is accepted too. The answer is ``{"success": true, ...}`` or
``{"error": "..."}`` with status 200, so the bot reads the words to the
shopper whatever happened; only a wrong token (401), an unknown action (404)
or a malformed envelope (422) are HTTP errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sheetqueue.bot_actions.api.service import FrontDesk
from sheetqueue.bot_actions.record import parse_new_request
from sheetqueue.config.errors import (
    InputError,
    LockedError,
    NotFoundError,
    OrderSourceError,
    SheetqueueError,
    StoreError,
)

__all__ = ["ACTIONS", "SIGNED_IN", "run_action", "with_signed_in"]

Limit = Callable[[], str]
"""Takes a token for the caller (429 when none is left); returns the client address."""
Args = Mapping[str, Any]
_UNAVAILABLE = "We couldn't reach our system just now. Please try again in a minute."


def _text(args: Args, *names: str, required: bool = False) -> str:
    for name in names:
        value = args.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InputError(f"{names[0]}: must be text")
        return str(value).strip()
    if required:
        raise InputError(f"{names[0]}: is required")
    return ""


def _flag(args: Args, name: str) -> bool:
    value = args.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "yes",
        "1",
        "false",
        "no",
        "0",
        "",
    ):
        return value.strip().lower() in ("true", "yes", "1")
    raise InputError(f"{name}: must be true or false")


def _mapping(args: Args, name: str) -> dict[str, Any]:
    value = args.get(name) or {}
    if not isinstance(value, dict):
        raise InputError(f"{name}: must be an object")
    return value


def _record(desk: FrontDesk, args: Args, conversation: str, _limit: Limit) -> dict[str, Any]:
    details = args.get("details", "")
    new = parse_new_request(
        {
            "type": _text(args, "requestType", "type", required=True),
            "order_id": _text(args, "orderId", "order_id"),
            "email": _text(args, "email", required=True),
            "reason": _text(args, "reason"),
            "details": details if isinstance(details, dict | list) else _text(args, "details"),
            "phone": _text(args, "phone"),
            "channel": _text(args, "channel") or "chat",
            "language": _text(args, "language"),
            "conversation_id": conversation,
        },
        complete=True,
    )
    result = desk.record(new, _text(args, "idempotencyKey"))
    return {
        "success": True,
        "requestId": result.request_id,
        "status": result.status,
        "message": result.message,
        "alreadyRecorded": not result.created,
        **({"link": result.link} if result.link else {}),
    }


SIGNED_IN = "\x00signedIn"
"""Marks args whose email is the platform's signed-in customer (never settable from args)."""


def with_signed_in(args: Args, signed_in_email: object) -> dict[str, Any]:
    """The call's args, with the conversation's signed-in email (when given) as the email.

    The signed-in email comes from the conversation object the platform fills
    from the widget's login data, never from the bot's arguments: any marker
    in ``args`` is dropped first.
    """
    cleaned = {key: value for key, value in args.items() if key != SIGNED_IN}
    if isinstance(signed_in_email, str) and signed_in_email.strip():
        cleaned["email"] = signed_in_email.strip()
        cleaned[SIGNED_IN] = True
    return cleaned


def _order_details(desk: FrontDesk, args: Args, conversation: str, limit: Limit) -> dict[str, Any]:
    order_id = _text(args, "orderId", "order_id", required=True)
    email = _text(args, "email", required=True)
    answer = desk.lookup(
        order_id, email, conversation, client=limit(), signed_in=args.get(SIGNED_IN) is True
    )
    return {"success": True, "order": answer.order, **answer.stale}


def _eligibility(desk: FrontDesk, args: Args, conversation: str, limit: Limit) -> dict[str, Any]:
    order_id = _text(args, "orderId", "order_id", required=True)
    email = _text(args, "email", required=True)
    kind = _text(args, "requestType", "type", required=True)
    sku, damaged = _text(args, "sku"), _flag(args, "damaged")
    answer = desk.eligibility(
        order_id,
        email,
        kind,
        sku=sku,
        damaged=damaged,
        conversation_id=conversation,
        client=limit(),
        signed_in=args.get(SIGNED_IN) is True,
    )
    return {"success": True, **answer.model_dump(exclude_none=True)}


def _initialise_return(
    desk: FrontDesk, args: Args, conversation: str, limit: Limit
) -> dict[str, Any]:
    order_id = _text(args, "orderId", "order_id", "orderNumber", required=True)
    email = _text(args, "email", required=True)
    step_type, inputs = _text(args, "stepType", "step_type"), _mapping(args, "inputs")
    payload = desk.initialise_return(
        order_id,
        email,
        step_type=step_type,
        inputs=inputs,
        conversation_id=conversation,
        client=limit(),
    )
    if payload["type"] == "initialise_return":
        return {"success": True, **payload}
    return {"error": payload["message"], **payload}


def _handoff(desk: FrontDesk, args: Args, conversation: str, _limit: Limit) -> dict[str, Any]:
    result = desk.handoff(
        order_id=_text(args, "orderId", "order_id", required=True),
        issue=_text(args, "issue", "reason", required=True),
        email=_text(args, "email"),
        conversation_id=conversation,
        channel=_text(args, "channel") or "chat",
        phone=_text(args, "phone"),
        context=_mapping(args, "context"),
    )
    return {
        "success": True,
        "requestId": result.request_id,
        "status": result.status,
        "message": result.message,
    }


def _retention(desk: FrontDesk, args: Args, conversation: str, limit: Limit) -> dict[str, Any]:
    order_id = _text(args, "orderId", "order_id", required=True)
    email = _text(args, "email", required=True)
    declined_text = _text(args, "declined") or "0"
    if not declined_text.isdigit() or int(declined_text) > 20:
        raise InputError("declined: must be a whole number of offers from 0 to 20")
    limit()
    answer = desk.retention_offer(
        order_id, email, declined=int(declined_text), conversation_id=conversation
    )
    return {"success": True, **answer}


_HANDLERS: dict[str, Callable[[FrontDesk, Args, str, Limit], dict[str, Any]]] = {
    "recordRequest": _record,
    "getOrderDetails": _order_details,
    "checkEligibility": _eligibility,
    "initialiseReturn": _initialise_return,
    "handoff": _handoff,
    "retentionOffer": _retention,
}
ACTIONS = tuple(_HANDLERS)


def run_action(
    desk: FrontDesk, name: str, args: Args, conversation: str, limit: Limit
) -> dict[str, Any]:
    """The answer to one action call; NotFoundError only for an unknown action name."""
    handler = _HANDLERS.get(name)
    if handler is None:
        raise NotFoundError(f"Unknown action {name!r}; use one of {', '.join(ACTIONS)}.")
    try:
        return handler(desk, args, conversation, limit)
    except (InputError, NotFoundError, LockedError) as exc:
        return {"error": exc.message}
    except (StoreError, OrderSourceError):
        return {"error": _UNAVAILABLE}
    except SheetqueueError as exc:
        return {"error": exc.message}
