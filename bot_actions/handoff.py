"""The support handoff: a ``support`` request carrying what staff need to take over.

The row holds the order, the shopper's issue in their words (``Reason``), the
conversation to open, the channel, and in ``Details`` a small JSON object
with the context the bot gathered (``{"handoff": true, ...}``). It goes into
the queue through the same path as every request, so it is saved durably and
deduplicated the same way (one open handoff per conversation and order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sheetqueue.bot_actions.record import NewRequest, parse_new_request
from sheetqueue.config.errors import InputError

__all__ = ["handoff_request", "missing_email_error"]

_MAX_CONTEXT = 3000


def handoff_request(
    *,
    order_id: str,
    issue: str,
    email: str,
    conversation_id: str = "",
    channel: str = "",
    phone: str = "",
    context: Mapping[str, Any] | None = None,
) -> NewRequest:
    """The support request for this handoff, or InputError naming the bad field."""
    if not issue.strip():
        raise InputError("issue: must not be empty")
    details: dict[str, Any] = {"handoff": True}
    details.update({str(key): value for key, value in (context or {}).items()})
    text = json.dumps(details, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > _MAX_CONTEXT:
        raise InputError(f"context: too long (at most {_MAX_CONTEXT} characters as JSON)")
    return parse_new_request(
        {
            "type": "support",
            "order_id": order_id,
            "email": email,
            "reason": issue,
            "details": text,
            "conversation_id": conversation_id,
            "channel": channel,
            "phone": phone,
        }
    )


def missing_email_error() -> InputError:
    """No email given and none known for the order: staff would have no one to answer."""
    return InputError("email: required when the order number is not one we know")
