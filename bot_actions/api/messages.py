"""Words for the shopper about a request they already made, one per status."""

from __future__ import annotations

from sheetqueue.sheets.model import Request, RequestType, Status

__all__ = ["REQUEST_NOT_FOUND", "repeated_message", "status_message"]

REQUEST_NOT_FOUND = (
    "We couldn't find a request with that reference and email. Please check both and try again."
)

_BY_STATUS = {
    Status.PENDING: "We have your {what} and will check it shortly.",
    Status.ELIGIBLE: "Your {what} meets our policy and is waiting for our team to carry it out.",
    Status.NEEDS_REVIEW: "A member of our team is looking at your {what} personally.",
    Status.INELIGIBLE: "We're sorry, but your {what} can't go ahead under our policy.",
    Status.APPROVED: "Good news: our team has approved your {what}.",
    Status.IN_PROGRESS: "Our team is working on your {what} now.",
    Status.DONE: "Your {what} is complete.",
    Status.REJECTED: "We're sorry, but our team couldn't accept your {what}.",
}
_WHAT = {
    RequestType.CANCELLATION: "cancellation request",
    RequestType.REFUND: "refund request",
    RequestType.RETURN: "return request",
    RequestType.EXCHANGE: "exchange request",
    RequestType.ADDRESS_CHANGE: "address change",
    RequestType.UNSUBSCRIBE: "request to unsubscribe",
    RequestType.SUPPORT: "question",
}


def _what(request: Request) -> str:
    kind = request.parsed_type
    return _WHAT[kind] if kind is not None else "request"


def status_message(request: Request) -> str:
    """What the shopper is told about ``request`` as it stands (the team's words when given)."""
    status = request.parsed_status
    what = _what(request)
    if status is None:
        text = f"Our team is handling your {what}."
    else:
        text = _BY_STATUS[status].format(what=what)
    if status is not None and status.is_closed and request.shopper_message:
        text = f"{text} {request.shopper_message.strip()}"
    elif status is Status.INELIGIBLE:
        text += " We've emailed you the reason and what you can do instead."
    return f"{text} Your reference is {request.request_id}."


def repeated_message(request: Request) -> str:
    """The same request asked again: no second row, the first one's reference."""
    return (
        f"You've already asked us about this, so we haven't opened a second request. "
        f"{status_message(request)}"
    )
