"""The support handoff: a ``support`` request carrying what staff need to take over.

The row holds the order, the shopper's issue in their words (``Reason``), the
conversation to open, the channel, and in ``Details`` a small JSON object
with the context the bot gathered (``{"handoff": true, ...}``). It goes into
the queue through the same path as every request, so it is saved durably and
deduplicated the same way (one open handoff per conversation and order).

A handoff never says whether the order number is one we know: a known and an
unknown order get the same answer. The row carries the shopper's email only
when the caller gave it and it matches the order (``"email_verified": true``
in ``Details``); an email that does not match is kept as the caller's own
contact and marked ``"email_verified": false``, and without an email the row
has none (the team answers in the conversation). The order's own email is
never copied into the row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sheetqueue.bot_actions.record import NewRequest, parse_new_request
from sheetqueue.config.errors import InputError

__all__ = ["handoff_request"]

_MAX_CONTEXT = 3000
_NO_EMAIL = "no-email@example.com"  # passes the checks; replaced by "" in the row


def handoff_request(
    *,
    order_id: str,
    issue: str,
    email: str,
    conversation_id: str = "",
    channel: str = "",
    phone: str = "",
    context: Mapping[str, Any] | None = None,
    verified: bool = False,
) -> NewRequest:
    """The support request for this handoff, or InputError naming the bad field.

    ``verified``: the caller proved ``email`` is the order's.
    """
    if not issue.strip():
        raise InputError("issue: must not be empty")
    details: dict[str, Any] = {str(key): value for key, value in (context or {}).items()}
    details.update({"handoff": True, "email_verified": verified})
    if not email.strip():
        details["contact"] = "no email given: reply in the conversation"
    text = json.dumps(details, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > _MAX_CONTEXT:
        raise InputError(f"context: too long (at most {_MAX_CONTEXT} characters as JSON)")
    new = parse_new_request(
        {
            "type": "support",
            "order_id": order_id,
            "email": email.strip() or _NO_EMAIL,
            "reason": issue,
            "details": text,
            "conversation_id": conversation_id,
            "channel": channel,
            "phone": phone,
        }
    )
    return new if email.strip() else new.model_copy(update={"email": ""})
