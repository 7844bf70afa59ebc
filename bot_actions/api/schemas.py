"""The HTTP API's bodies and answers, with the examples shown in ``/openapi.json``.

Bodies are checked twice: here for shape (types, lengths, unknown fields) so
the OpenAPI document says what to send, then by the same validation as the
CLI (:func:`sheetqueue.bot_actions.record.parse_new_request`) for meaning.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionCall",
    "EligibilityBody",
    "EligibilityReply",
    "ErrorReply",
    "HandoffBody",
    "LookupBody",
    "LookupReply",
    "RecordBody",
    "RecordReply",
    "RetentionBody",
    "ReturnErrorReply",
    "ReturnOverdueReply",
    "ReturnReply",
    "ReturnsBody",
    "StatusReply",
]

_TYPES = "cancellation, refund, return, exchange, address_change, unsubscribe or support"
OrderId = Field(min_length=1, max_length=64, description="The shop's order number.")
Email = Field(min_length=1, max_length=254, description="The email the order was placed with.")
Conversation = Field("", max_length=128, description="The chat conversation's id.")
SignedIn = Field(
    "",
    max_length=254,
    description="The platform's signed-in customer email; used instead of email, as verified.",
)


def identity(email: str, signed_in_email: str) -> tuple[str, bool]:
    """``(email, signed_in)``: the signed-in customer's email wins over a typed one."""
    if signed_in_email.strip():
        return signed_in_email.strip(), True
    return email.strip(), False


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class RecordBody(BaseModel):
    """A request to put in the queue."""

    model_config = _examples(
        {
            "type": "return",
            "order_id": "ORD-1001",
            "email": "ana@example.com",
            "reason": "Too small",
            "details": {"sku": "TEE-NVY-M"},
            "conversation_id": "conv-8841",
            "channel": "chat",
        }
    )

    type: str = Field(min_length=1, max_length=32, description=f"One of {_TYPES}.")
    order_id: str = Field(
        "", max_length=64, description="The shop's order number; required except for unsubscribe."
    )
    email: str = Email
    reason: str = Field("", max_length=1000, description="The shopper's words.")
    details: str | dict[str, Any] | list[Any] = Field(
        "", description="Anything else, as text or JSON (e.g. the SKU, a new address)."
    )
    conversation_id: str = Conversation
    channel: str = Field("", max_length=32, description="chat, email, voice, ...")
    phone: str = Field("", max_length=24)
    language: str = Field("", max_length=8, description="The shopper's language: en, es, ...")


class RecordReply(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "REQ-7Q2M9K4D1X8B3N6P",
                    "status": "Pending",
                    "message": "We've received your return request for order ORD-1001. ...",
                }
            ]
        }
    )

    request_id: str
    status: str
    message: str = Field(description="Words for the shopper.")
    link: str | None = Field(None, description="The store's self-service page, when configured.")


class StatusReply(BaseModel):
    request_id: str
    type: str
    status: str
    message: str = Field(description="Words for the shopper, specific to the status.")


class LookupBody(BaseModel):
    """Who asks for which order."""

    model_config = _examples(
        {"order_id": "ORD-1001", "email": "ana@example.com", "conversation_id": "conv-8841"}
    )

    order_id: str = OrderId
    email: str = Field("", max_length=254, description="The email the shopper gave.")
    signed_in_email: str = SignedIn
    conversation_id: str = Conversation

    def identity(self) -> tuple[str, bool]:
        """The email to check and whether it is the signed-in customer's."""
        return identity(self.email, self.signed_in_email)


_STALE = (
    "Only when the order data could not be read just now (Sheets down or over quota): "
    "true, the answer comes from the last good copy of the orders."
)
_AS_OF = "With stale: when that copy was read (ISO 8601, UTC)."


class LookupReply(BaseModel):
    order: dict[str, Any] = Field(
        description="What a verified shopper may see: status, items, carrier, tracking, "
        "ETA, city and postal code, the card's last four digits."
    )
    stale: bool | None = Field(None, description=_STALE)
    as_of: str | None = Field(None, description=_AS_OF)


class EligibilityBody(BaseModel):
    """Would this request be allowed if recorded now?"""

    model_config = _examples(
        {"order_id": "ORD-1001", "email": "ana@example.com", "type": "return", "sku": "TEE-NVY-M"},
        {"order_id": "ORD-1001", "email": "ana@example.com", "type": "refund", "damaged": True},
    )

    order_id: str = OrderId
    email: str = Field("", max_length=254, description="The email the shopper gave.")
    signed_in_email: str = SignedIn
    type: str = Field(min_length=1, max_length=32, description=f"One of {_TYPES}.")
    sku: str = Field("", max_length=64, description="Only this item of the order.")
    damaged: bool = Field(False, description="The shopper says the item arrived damaged.")
    conversation_id: str = Conversation

    def identity(self) -> tuple[str, bool]:
        """The email to check and whether it is the signed-in customer's."""
        return identity(self.email, self.signed_in_email)


class EligibilityReply(BaseModel):
    eligible: bool
    decision: str = Field(description="<eligible|review|ineligible>:<code>")
    message: str
    link: str | None = Field(None, description="The store's self-service page, when configured.")
    stale: bool | None = Field(None, description=_STALE)
    as_of: str | None = Field(None, description=_AS_OF)


class RetentionBody(BaseModel):
    """Ask for the next retention offer before recording a cancellation."""

    model_config = _examples(
        {"order_id": "ORD-1002", "email": "ben@example.com", "declined": 1, "conversation_id": "c"}
    )

    order_id: str = OrderId
    email: str = Email
    declined: int = Field(0, ge=0, le=20, description="How many offers the shopper declined.")
    conversation_id: str = Conversation


class ReturnsBody(BaseModel):
    """Open the returns portal for this order."""

    model_config = _examples(
        {"order_id": "ORD-1001", "email": "ana@example.com"},
        {
            "order_id": "ORD-1001",
            "email": "ana@example.com",
            "step_type": "return_details",
            "inputs": {"custom_property": "some_value"},
        },
    )

    order_id: str = OrderId
    email: str = Email
    step_type: str = Field(
        "",
        max_length=64,
        pattern=r"^([a-z][a-z0-9_]{0,63})?$",
        description="Open the portal on this step (lower-case letters, digits and _).",
    )
    inputs: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=20, description="Extra properties for the returns flow."
    )
    conversation_id: str = Conversation


class ReturnReply(BaseModel):
    type: Literal["initialise_return"]
    returnFlowId: str  # the chat platform's spelling
    externalAccountKey: str
    inputs: dict[str, Any]


class ReturnErrorReply(BaseModel):
    type: Literal["initialise_return_error"]
    message: str


class ReturnOverdueReply(BaseModel):
    """The return window has closed: the widget shows its "return overdue" component."""

    type: Literal["return_overdue"]
    message: str
    decision: str  # e.g. ``ineligible:outsideWindow`` or ``review:lateReturnReview``


class HandoffBody(BaseModel):
    """Hand the conversation to a person."""

    model_config = _examples(
        {
            "order_id": "ORD-1001",
            "issue": "The parcel shows delivered but never arrived.",
            "email": "ana@example.com",
            "conversation_id": "conv-8841",
        }
    )

    order_id: str = OrderId
    issue: str = Field(min_length=1, max_length=1000, description="The problem, in a sentence.")
    email: str = Field("", max_length=254)
    conversation_id: str = Conversation
    channel: str = Field("", max_length=32)
    phone: str = Field("", max_length=24)
    context: dict[str, Any] = Field(
        default_factory=dict, max_length=20, description="What else staff should know."
    )


class ActionCall(BaseModel):
    """The chat platform's call: the action's arguments and the conversation."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "args": {
                        "requestType": "cancellation",
                        "orderId": "ORD-1001",
                        "email": "ana@example.com",
                        "reason": "Ordered twice",
                    },
                    "conversation": {"id": "conv-8841"},
                }
            ]
        },
    )

    args: dict[str, Any] = Field(default_factory=dict, max_length=50)
    conversation: dict[str, Any] = Field(default_factory=dict, max_length=50)


class ErrorReply(BaseModel):
    error: str
    field: str | None = None
