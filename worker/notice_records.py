"""One notice as the ledger keeps it: where it stands, what is owed, how its message is stored."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum

from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["NoticeRecord", "NoticeState", "Owed", "message_from_text", "message_text"]


class NoticeState(StrEnum):
    """Where one notice stands (the ``state`` column)."""

    STAGED = "staged"  # rendered before the sheet write that owes it; dropped if that fails
    PENDING = "pending"  # owed: not carried yet, tried again on a later pass
    SENT = "sent"  # carried (or maybe carried) by every notifier
    SKIPPED = "skipped"  # nothing to carry it to (no address for any notifier)
    GAVE_UP = "gave_up"  # failed notify_max_attempts times; the team is told in the sheet

    @property
    def finished(self) -> bool:
        return self not in (NoticeState.STAGED, NoticeState.PENDING)


@dataclass(frozen=True)
class Owed:
    """A message the shopper is owed, and the notifiers already done with it."""

    message: OutgoingMessage
    attempts: int
    delivered: frozenset[str]  # carried it, or maybe did: never tried again
    recovered: frozenset[str] = frozenset()  # in flight when a claimant died: now maybe


@dataclass(frozen=True)
class NoticeRecord:
    """Where one notice stands in the ledger, as the ``Notified`` cell reports it."""

    state: NoticeState
    attempts: int
    delivered: tuple[str, ...]
    maybe: tuple[str, ...]
    failed: tuple[str, ...]
    last_error: str
    finished_at: str
    marked: str = ""  # when this worker wrote a ``sending`` mark on its Notified entry
    in_flight: tuple[str, ...] = ()  # notifiers handed it under a claim with no outcome yet


_MESSAGE_FIELDS = tuple(f.name for f in fields(OutgoingMessage))


def message_text(message: OutgoingMessage) -> str:
    """The message as JSON text (its fields are flat: text and enums, which are text)."""
    return json.dumps({name: getattr(message, name) for name in _MESSAGE_FIELDS})


def message_from_text(text: str) -> OutgoingMessage:
    """The message :func:`message_text` wrote."""
    data = json.loads(text)
    data["status"] = Status(data["status"])
    kind = data.get("request_type")
    data["request_type"] = RequestType(kind) if kind else None
    return OutgoingMessage(**data)
