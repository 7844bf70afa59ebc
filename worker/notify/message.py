"""What to tell a shopper (:class:`Notice`) and the message that carries it.

A :class:`Notice` is the worker's decision to tell someone something: which
request, which status, and the words that go with it. An
:class:`OutgoingMessage` is that notice rendered for delivery: subject, text,
HTML and the addresses, ready for any notifier.

The Message-ID depends only on the request, the status and the sender's
domain (``<sq-REQ-7K2M-done@shop.example>``), so a message sent again after a
crash carries the same Message-ID and the same idempotency key, and a mail
client or webhook receiver can drop the duplicate.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sheetqueue.sheets.model import Request, RequestType, Status

__all__ = [
    "LANGUAGE",
    "Notice",
    "OutgoingMessage",
    "as_email",
    "email_problem",
    "message_id_for",
    "request_language",
    "status_slug",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
"""A language code as requests carry it: ``en``, ``es``, ``pt-BR``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """What the shopper should be told about one request reaching one status."""

    request_id: str
    request_type: RequestType | None  # None when the Type cell holds an unknown word
    status: Status
    order_id: str = ""
    email: str = ""
    phone: str = ""
    store_name: str = "Our store"
    message: str = ""  # the decision's sentence for the shopper
    shopper_message: str = ""  # the team's ``Shopper Message`` cell
    next_step: str = ""  # what the shopper can do now, if anything
    decision_code: str = ""  # e.g. ``alreadyShipped``; picks a more specific template
    values: tuple[tuple[str, str], ...] = ()  # extra template values (a label, a deadline)
    language: str = ""  # the shopper's language (``es``); templates fall back to the default

    @classmethod
    def from_request(
        cls,
        request: Request,
        status: Status,
        *,
        store_name: str,
        message: str = "",
        next_step: str = "",
        decision: str | None = None,
        values: tuple[tuple[str, str], ...] = (),
    ) -> Notice:
        """A notice built from a queue row; ``decision`` defaults to the row's Decision cell."""
        decision_text = request.decision if decision is None else decision
        return cls(
            request_id=request.request_id.strip(),
            request_type=request.parsed_type,
            status=status,
            order_id=request.order_id.strip(),
            email=request.email.strip(),
            phone=request.phone.strip(),
            store_name=store_name,
            message=message,
            shopper_message=request.shopper_message.strip(),
            next_step=next_step,
            decision_code=decision_text.partition(":")[2].strip(),
            values=values,
            language=request_language(request.details),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """One rendered message, the same for every notifier."""

    request_id: str
    status: Status
    request_type: RequestType | None
    order_id: str
    to_email: str
    to_phone: str
    from_email: str
    subject: str
    text: str
    html: str
    message_id: str  # ``<sq-REQ-7K2M-done@shop.example>``
    idempotency_key: str  # the Message-ID without angle brackets
    reason: str = ""  # the decision's code (``lateRefund``): for the team's alert, not the shopper
    untold: bool = False  # the team's alert that the shopper could not be told about ``status``

    @property
    def notice_word(self) -> str:
        """The word its ledger row and ``Notified`` entry go by: ``Done``, or ``Done untold``."""
        return f"{self.status.value} untold" if self.untold else self.status.value

    @property
    def event(self) -> str:
        """The webhook event name: ``request.done``, ``request.needs_review``..."""
        return f"request.{status_slug(self.status)}"


def request_language(details: str) -> str:
    """The ``language`` a request's Details carry (``es``, ``pt-BR``), or empty."""
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        return ""
    value = data.get("language") if isinstance(data, dict) else None
    text = str(value).strip() if isinstance(value, str) else ""
    return text if LANGUAGE.match(text) else ""


def status_slug(status: Status) -> str:
    """``Needs Review`` becomes ``needs_review``: the form used in names and files."""
    return status.value.lower().replace(" ", "_")


def message_id_for(request_id: str, status: Status, mail_from: str, *, untold: bool = False) -> str:
    """The deterministic Message-ID of the message about ``request_id`` reaching ``status``."""
    local = _UNSAFE.sub("-", request_id.strip()).strip("-") or "request"
    slug = status_slug(status).replace("_", "-") + ("-untold" if untold else "")
    return f"<sq-{local}-{slug}@{sender_domain(mail_from)}>"


@functools.lru_cache(maxsize=64)
def sender_domain(mail_from: str) -> str:
    """The domain of the sender address (``Shop <help@shop.example>`` gives ``shop.example``)."""
    address = parseaddr(mail_from)[1] or mail_from
    domain = address.rpartition("@")[2].strip().lower()
    cleaned = re.sub(r"[^a-z0-9.-]+", "", domain).strip(".")
    return cleaned or "localhost"


def as_email(message: OutgoingMessage, *, date: datetime) -> EmailMessage:
    """The message as MIME: multipart/alternative with the text first, then the HTML."""
    email = EmailMessage()
    email["From"] = _one_line(message.from_email)
    email["To"] = _one_line(message.to_email)
    email["Subject"] = _one_line(message.subject)
    email["Message-ID"] = message.message_id
    email["Date"] = format_datetime(date)
    email["X-Sheetqueue-Request"] = _one_line(message.request_id)
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def email_problem(address: str) -> str | None:
    """Why ``address`` cannot be mailed to (missing, or not one plain address), or None."""
    cleaned = address.strip()
    if not cleaned:
        return "the request has no email address"
    if parseaddr(cleaned)[1] != cleaned or re.search(r"[\s,;<>]", cleaned) or "@" not in cleaned:
        return "the request's email address is not one plain address"
    return None


def _one_line(value: str) -> str:
    """Header values never carry a line break (no header injection from a cell)."""
    return " ".join(value.split())
