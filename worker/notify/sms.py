"""Short texts for SMS and chat: one line per status, written for a phone screen.

An email carries the whole story; a text says what happened and where to look,
in at most :data:`SMS_LIMIT` characters (one SMS segment).
"""

from __future__ import annotations

from sheetqueue.sheets.model import Status
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["SMS_LIMIT", "sms_text"]

SMS_LIMIT = 160

_SHORT: dict[Status, str] = {
    Status.PENDING: "{store}: we got your {kind} request {rid} for order {order}. We'll text you.",
    Status.ELIGIBLE: "{store}: your {kind} request {rid} for order {order} can go ahead.",
    Status.NEEDS_REVIEW: "{store}: a person is checking your {kind} request {rid} (order {order}).",
    Status.INELIGIBLE: "{store}: we can't do the {kind} for order {order} ({rid}). See your email.",
    Status.APPROVED: "{store}: your {kind} request {rid} for order {order} is approved.",
    Status.IN_PROGRESS: "{store}: we're working on your {kind} request {rid} (order {order}).",
    Status.DONE: "{store}: your {kind} for order {order} is done ({rid}).",
    Status.REJECTED: "{store}: we declined your {kind} request {rid} for order {order}.",
}


def sms_text(message: OutgoingMessage, store_name: str) -> str:
    """The short text for ``message``: its status's line, cut to one SMS."""
    kind = message.request_type.value.replace("_", " ") if message.request_type else "order"
    text = _SHORT[message.status].format(
        store=store_name.strip() or "Our store",
        kind=kind,
        rid=message.request_id,
        order=message.order_id or "-",
    )
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 1] + "…"
