"""recordRequest: validate a shopper's request and put it in the queue, once.

The same function serves the CLI, the HTTP API and the chat-platform actions.
A request is reported saved only after the store said so. Asking again in the
same conversation for the same type and order, while the first is open, gives
back the first request instead of a second row.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sheetqueue.config.errors import InputError
from sheetqueue.sheets.model import Request, RequestType, Status, new_request_id
from sheetqueue.sheets.store import Store
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.notify.message import LANGUAGE

__all__ = [
    "NewRequest",
    "RecordResult",
    "missing_flow_detail",
    "parse_new_request",
    "received_message",
    "record_request",
]

log = structlog.get_logger("sheetqueue.record")

_ORDER_ID = re.compile(r"^[A-Za-z0-9#][A-Za-z0-9#._/-]{0,63}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{7,24}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class NewRequest(BaseModel):
    """What a bot sends to record a request; every field checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    type: RequestType
    order_id: str = Field("", max_length=64)  # required, except for an unsubscribe
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field("", max_length=24)
    reason: str = Field("", max_length=1000)
    details: str = Field("", max_length=4000)
    conversation_id: str = Field("", max_length=128)
    channel: str = Field("", max_length=32)
    language: str = Field("", max_length=8)  # kept in Details; picks the email templates

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: object) -> object:
        if isinstance(value, str):
            kind = RequestType.parse(value)
            if kind is None:
                raise ValueError(f"unknown type {value!r}; use one of {RequestType.names()}")
            return kind
        return value

    @field_validator("order_id")
    @classmethod
    def _order_id(cls, value: str) -> str:
        if value and not _ORDER_ID.match(value):
            raise ValueError("use letters, digits and # . _ / - only (for example ORD-1001)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"not a valid email address ({exc})") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not _PHONE.match(value):
            raise ValueError("not a phone number; use digits, spaces and an optional leading +")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and not LANGUAGE.match(value):
            raise ValueError("use a language code such as en, es, de or pt-BR")
        return value

    @field_validator("details", mode="before")
    @classmethod
    def _details(cls, value: object) -> object:
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return value

    @field_validator("reason", "details", "conversation_id", "channel")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        return _CONTROL.sub("", value)

    def to_request(self, now: datetime) -> Request:
        """The queue row for this request: a fresh ID, ``Pending``, stamped ``now``."""
        return Request(
            request_id=new_request_id(),
            timestamp=format_time(now),
            type=self.type.value,
            status=Status.PENDING.value,
            order_id=self.order_id,
            email=self.email,
            phone=self.phone,
            reason=self.reason,
            details=_with_language(self.details, self.language),
            conversation_id=self.conversation_id,
            channel=self.channel,
        )


def _with_language(details: str, language: str) -> str:
    """The Details cell with ``language`` in it (plain-text details kept under ``note``)."""
    if not language:
        return details
    try:
        data = json.loads(details) if details.strip() else {}
    except json.JSONDecodeError:
        data = {"note": details}
    if not isinstance(data, dict):
        data = {"note": details}
    data["language"] = language
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class RecordResult(BaseModel):
    """What the bot tells the shopper after recording."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    status: str
    message: str
    created: bool
    link: str = ""  # the store's self-service page for this type, when configured


def parse_new_request(data: dict[str, Any], *, complete: bool = False) -> NewRequest:
    """A NewRequest, or InputError naming the first bad field and what is wrong.

    Every type but ``unsubscribe`` (which needs only the email) needs an order
    number. With ``complete`` (what a bot asks through the CLI, the HTTP API
    and the chat actions) the request must also carry what its flow needs: an
    address change the new address (``details.new_address``), an exchange the
    wanted size or colour (``details.size``, ``details.color``).
    """
    try:
        new = NewRequest.model_validate(data)
    except ValidationError as exc:
        raise _input_error(exc) from None
    if not new.order_id and new.type is not RequestType.UNSUBSCRIBE:
        given = "order_id" in data
        raise InputError("order_id: must not be empty" if given else "order_id: is required")
    if complete:
        problem = missing_flow_detail(new)
        if problem:
            raise InputError(problem)
    return new


_FLOW_DETAILS: dict[RequestType, tuple[tuple[str, ...], str]] = {
    RequestType.ADDRESS_CHANGE: (
        ("new_address",),
        "details.new_address: an address change needs the new shipping address",
    ),
    RequestType.EXCHANGE: (
        ("size", "color", "colour"),
        "details.size: an exchange needs the wanted size or colour (details.size or details.color)",
    ),
}


def missing_flow_detail(new: NewRequest) -> str | None:
    """What the request's flow needs and lacks, as an error line; None when complete."""
    if new.type not in _FLOW_DETAILS:
        return None
    names, problem = _FLOW_DETAILS[new.type]
    try:
        data = json.loads(new.details) if new.details else {}
    except json.JSONDecodeError:
        data = {}
    if isinstance(data, dict) and any(str(data.get(name) or "").strip() for name in names):
        return None
    return problem


def _input_error(exc: ValidationError) -> InputError:
    """The first error of a failed validation, as ``field: what is wrong``."""
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"]) or "request"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    elif error["type"] == "string_too_short":
        message = "must not be empty"
    return InputError(f"{name}: {message}")


_RECEIVED = {
    RequestType.CANCELLATION: "We've received your request to cancel order {order}.",
    RequestType.REFUND: "We've received your refund request for order {order}.",
    RequestType.RETURN: "We've received your return request for order {order}.",
    RequestType.EXCHANGE: "We've received your exchange request for order {order}.",
    RequestType.ADDRESS_CHANGE: "We've received your address change for order {order}.",
    RequestType.UNSUBSCRIBE: "We've received your request to stop our marketing emails.",
    RequestType.SUPPORT: "We've passed your question about order {order} to our team.",
}


def received_message(kind: RequestType, order_id: str, request_id: str) -> str:
    """The words the bot says once a request is saved: specific to the type."""
    first = _RECEIVED[kind].format(order=order_id)
    return (
        f"{first} Your reference is {request_id}. Our team will check it and "
        "we'll let you know by email as soon as there is news."
    )


def record_request(store: Store, new: NewRequest, now: datetime) -> RecordResult:
    """Save the request (or find the open one it repeats) and say so."""
    result = store.add_requests([new.to_request(now)])
    saved, created = result.requests[0], result.created[0]
    log.info(
        "request.recorded" if created else "request.repeated",
        request_id=saved.request_id,
        type=saved.type,
        order_id=saved.order_id,
    )
    return RecordResult(
        request_id=saved.request_id,
        status=saved.status or Status.PENDING.value,
        message=received_message(new.type, saved.order_id, saved.request_id),
        created=created,
    )
