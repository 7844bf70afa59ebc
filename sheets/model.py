"""Requests as the queue holds them: types, statuses, columns and the row model.

A :class:`Request` is a frozen record of the queue's cells, as text, exactly as
they stand in the sheet (a person may have typed anything). Parsing a cell into
a status, a type or a time happens where it is needed, so a bad cell can be
explained instead of lost. Only the stores in this package map fields to
header names and cells.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidatorFunctionWrapHandler, WrapValidator

from sheetqueue.sheets.times import UnreadTime

__all__ = [
    "CANONICAL_HEADER",
    "DEFAULT_ALIASES",
    "FIELD_BY_HEADER",
    "HEADER_BY_FIELD",
    "LOG_HEADER",
    "OPEN_FOR_WORKER",
    "OPTIONAL_HEADER",
    "WORKER_FIELDS",
    "LogEntry",
    "Request",
    "RequestType",
    "Status",
    "field_for_header",
    "header_key",
    "header_names",
    "new_request_id",
]


class RequestType(StrEnum):
    """What the shopper asked for (the ``Type`` column)."""

    CANCELLATION = "cancellation"  # cancel an order before it ships
    REFUND = "refund"  # money back for a delivered order
    RETURN = "return"  # send items back within the window
    EXCHANGE = "exchange"  # another size or colour of the same item
    ADDRESS_CHANGE = "address_change"  # ship somewhere else, before it ships
    UNSUBSCRIBE = "unsubscribe"  # stop marketing email
    SUPPORT = "support"  # a person should take over

    @classmethod
    def parse(cls, text: str) -> RequestType | None:
        """The type a cell or a bot names; None when the word is unknown.

        One spelling rule for every way in: case, spaces, hyphens and
        underscores do not matter (``Address-Change`` is ``address_change``).
        """
        cleaned = re.sub(r"[\s_-]+", "_", text.strip().lower())
        try:
            return cls(cleaned)
        except ValueError:
            return None

    @classmethod
    def names(cls) -> str:
        """The words a user may type, for error messages: ``cancellation, refund, ...``."""
        return ", ".join(kind.value for kind in cls)


class Status(StrEnum):
    """Where a request stands (the ``Status`` column)."""

    PENDING = "Pending"  # recorded by the bot, not yet checked (blank counts as this)
    ELIGIBLE = "Eligible"  # worker: policy allows it, waiting for the team
    NEEDS_REVIEW = "Needs Review"  # worker: a person must decide
    INELIGIBLE = "Ineligible"  # worker: policy forbids it; the shopper is told the next step
    APPROVED = "Approved"  # team: accepted
    IN_PROGRESS = "In Progress"  # team: being worked on
    DONE = "Done"  # team: completed; the shopper is told
    REJECTED = "Rejected"  # team: declined; the shopper is told

    @classmethod
    def parse(cls, text: str) -> Status | None:
        """The status a cell holds; blank is Pending; None when the word is unknown."""
        found = _STATUS_BY_TEXT.get(text)
        if found is not None or text in _STATUS_BY_TEXT:
            return found
        cleaned = " ".join(text.split()).lower()
        found = cls.PENDING if not cleaned else _STATUS_BY_WORD.get(cleaned)
        if len(_STATUS_BY_TEXT) < _TEXT_MEMO_SIZE:
            _STATUS_BY_TEXT[text] = found
        return found

    @property
    def is_closed(self) -> bool:
        """Final: the shopper is told the outcome, and a new request may be asked."""
        return self in _CLOSED

    @property
    def set_by_team(self) -> bool:
        """A status only the team sets (the worker never moves it)."""
        return self in _TEAM


_STATUS_BY_WORD = {status.value.lower(): status for status in Status}
_STATUS_BY_TEXT: dict[str, Status | None] = {}  # cell text -> status, as typed
_TEXT_MEMO_SIZE = 4096
_CLOSED = frozenset({Status.INELIGIBLE, Status.DONE, Status.REJECTED})
_TEAM = frozenset({Status.APPROVED, Status.IN_PROGRESS, Status.DONE, Status.REJECTED})


OPEN_FOR_WORKER = frozenset({Status.PENDING, Status.ELIGIBLE})
"""Statuses the worker re-checks on every pass."""


def _keep_unread(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A Timestamp the sheet's locale does not settle keeps its mark to the decision."""
    return value if isinstance(value, UnreadTime) else handler(value)


TimestampText = Annotated[str, WrapValidator(_keep_unread)]


class Request(BaseModel):
    """One row of the queue, every cell as text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = ""
    timestamp: TimestampText = ""
    type: str = ""
    status: str = ""
    order_id: str = ""
    email: str = ""
    phone: str = ""
    reason: str = ""
    details: str = ""
    conversation_id: str = ""
    channel: str = ""
    decision: str = ""
    worker_note: str = ""
    checked_at: str = ""
    notified: str = ""
    team_note: str = ""
    shopper_message: str = ""
    label: str = ""  # the optional Label column (OPTIONAL_HEADER)

    @property
    def parsed_status(self) -> Status | None:
        return Status.parse(self.status)

    @property
    def parsed_type(self) -> RequestType | None:
        return RequestType.parse(self.type)

    def duplicate_key(self) -> tuple[str, str, str] | None:
        """Same conversation, type and order: the same request asked again."""
        if not self.conversation_id.strip():
            return None
        kind = self.parsed_type
        return (
            self.conversation_id.strip(),
            kind.value if kind is not None else self.type.strip().lower(),
            self.order_id.strip().lower(),
        )

    def is_open(self) -> bool:
        status = self.parsed_status
        return status is None or not status.is_closed


CANONICAL_HEADER: tuple[str, ...] = (
    "Request ID",
    "Timestamp",
    "Type",
    "Status",
    "Order ID",
    "Email",
    "Phone",
    "Reason",
    "Details",
    "Conversation ID",
    "Channel",
    "Decision",
    "Worker Note",
    "Checked At",
    "Notified",
    "Team Note",
    "Shopper Message",
)


def header_key(header: str) -> str:
    """Headers match case- and space-insensitively: ``" request  id"`` is ``requestid``."""
    return re.sub(r"[\s_]+", "", header).lower()


HEADER_BY_FIELD: dict[str, str] = {
    re.sub(r"\s+", "_", header).lower(): header for header in CANONICAL_HEADER
}
OPTIONAL_HEADER: dict[str, str] = {"label": "Label"}
"""Team columns the queue reads when a tab has them, by field; never added to a tab.

``Label``: the return label the team pastes for an approved return or exchange
(read when ``SHEETQUEUE_LABEL_SOURCE=column``).
"""
FIELD_BY_HEADER: dict[str, str] = {
    header_key(header): field
    for field, header in (*HEADER_BY_FIELD.items(), *OPTIONAL_HEADER.items())
}
WORKER_FIELDS = frozenset(
    {"request_id", "status", "decision", "worker_note", "checked_at", "notified"}
)
"""Cells the worker may write; every other cell belongs to the bot or the team."""


def field_for_header(header: str) -> str | None:
    """The Request field a header names, or None for a team column."""
    return FIELD_BY_HEADER.get(header_key(header))


DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("Order #", "Order Number", "Order No", "Order No."),
    "email": ("E-mail", "Email Address", "Customer Email"),
    "phone": ("Phone Number",),
    "type": ("Request Type",),
    "conversation_id": ("Conversation", "Chat ID"),
}
"""Other headers a team uses for a column, by field (``[sheet.aliases]`` adds to these)."""


def header_names(aliases: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Header key -> field: the canonical names, the built-in aliases and ``aliases``.

    ``aliases`` is keyed by field name (``order_id``) or canonical header
    (``Order ID``); an unknown key is a ValueError naming it.
    """
    names = dict(FIELD_BY_HEADER)
    for source in (DEFAULT_ALIASES, aliases or {}):
        for key, headers in source.items():
            name = FIELD_BY_HEADER.get(header_key(key))
            if name is None:
                raise ValueError(f"{key!r} is not a column of the queue")
            for header in headers:
                names.setdefault(header_key(header), name)
    return names


LOG_HEADER: tuple[str, ...] = ("Time", "Request ID", "From", "To", "By", "Note")


class LogEntry(BaseModel):
    """One status change, made by the worker or seen as made by the team."""

    model_config = ConfigDict(frozen=True)

    time: str
    request_id: str
    from_status: str
    to_status: str
    by: str
    note: str = ""

    def cells(self) -> list[str]:
        return [self.time, self.request_id, self.from_status, self.to_status, self.by, self.note]


_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: easy to read aloud


def new_request_id() -> str:
    """``REQ-`` and 16 random base32 characters (80 bits): unique and unguessable."""
    bits = int.from_bytes(secrets.token_bytes(10), "big")  # one read of the system's randomness
    return "REQ-" + "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(75, -1, -5))
