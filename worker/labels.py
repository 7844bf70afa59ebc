"""Return labels: where they come from, and what the shopper is told on approval.

When the team sets a ``return`` or ``exchange`` to ``Approved``, the worker
tells the shopper once: the ship-back deadline (``return_ship_back_days``
from the approval, a policy value) and, when the store has a label source,
the label itself.

A label source is either a webhook (``SHEETQUEUE_LABEL_WEBHOOK``) or the
``Label`` column the team fills by hand (``SHEETQUEUE_LABEL_SOURCE=column``,
:class:`ColumnLabels`). The webhook:
the worker POSTs ``{"requestId", "orderId", "type", "email"}`` with an
``Idempotency-Key`` header (the request ID and ``-label``, the same on every
try) and expects a 2xx JSON answer shaped like a shipping provider's::

    {"labelUrl": "https://...", "trackingNumber": "1Z...", "carrier": "UPS",
     "expiresAt": "2026-12-01T00:00:00Z"}

``labelUrl`` is required (http or https); the rest is optional. Any other
answer (an error status, no JSON, no ``labelUrl``, no answer) is a
:class:`LabelError`: the approval notice waits, and the next pass asks again,
so the shopper never gets an approval without the label the store promised.

The column: the team pastes the label's link in the row's ``Label`` cell,
optionally followed by the tracking number and then the carrier
(``https://labels.example/123.pdf 1Z999AA10123456784 UPS``; commas,
semicolons and ``|`` separate as spaces do). An empty cell is
:class:`LabelWaiting` (the team has not pasted it yet); a cell whose first
word is not an http or https link is a :class:`LabelError` saying what is
expected. Either way nothing is sent, and the next pass reads the cell again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from sheetqueue.config.errors import SheetqueueError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request, RequestType, Status

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ColumnLabels",
    "Label",
    "LabelError",
    "LabelSource",
    "LabelWaiting",
    "WebhookLabels",
    "approval_ships_back",
    "label_values",
    "labels_from_settings",
    "parse_label_cell",
    "ship_back_note",
]

_TIMEOUT_SECONDS = 10.0


class LabelError(SheetqueueError):
    """The label source did not give a usable label."""


class LabelWaiting(LabelError):
    """No label yet, and none is late: the team has still to paste it (not a failure)."""


@dataclass(frozen=True, slots=True)
class Label:
    """A prepaid return label as the shipping provider made it."""

    url: str
    tracking_number: str = ""
    carrier: str = ""
    expires_at: str = ""


class LabelSource(Protocol):
    """Makes (or finds) the return label of one approved request."""

    def label_for(self, request: Request) -> Label: ...


class WebhookLabels:
    """Asks the store's shipping automation for a label over HTTP."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        import httpx  # only a label webhook needs it

        self.url = url
        self._client = httpx.Client(timeout=_TIMEOUT_SECONDS, transport=transport)

    def label_for(self, request: Request) -> Label:
        body = {
            "requestId": request.request_id.strip(),
            "orderId": request.order_id.strip(),
            "type": request.type.strip().lower(),
            "email": request.email.strip(),
        }
        import httpx

        key = f"{request.request_id.strip()}-label"
        try:
            answer = self._client.post(self.url, json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as exc:
            raise LabelError(f"the label webhook did not answer ({type(exc).__name__})") from exc
        if not answer.is_success:
            raise LabelError(f"the label webhook answered HTTP {answer.status_code}")
        try:
            data = answer.json()
        except ValueError as exc:
            raise LabelError("the label webhook's answer is not JSON") from exc
        return _parse_label(data)


def _parse_label(data: object) -> Label:
    if not isinstance(data, dict):
        raise LabelError("the label webhook's answer is not a JSON object")
    url = str(data.get("labelUrl") or "").strip()
    if not url.startswith(("https://", "http://")):
        raise LabelError("the label webhook's answer has no labelUrl (an http or https link)")
    return Label(
        url=url,
        tracking_number=_text(data.get("trackingNumber")),
        carrier=_text(data.get("carrier")),
        expires_at=_text(data.get("expiresAt")),
    )


_SEPARATORS = re.compile(r"[\s,;|]+")
_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")  # nothing that could leave a link in HTML or text


class ColumnLabels:
    """The label the team pasted in the row's ``Label`` column."""

    def label_for(self, request: Request) -> Label:
        return parse_label_cell(request.label)


def parse_label_cell(text: str) -> Label:
    """A ``Label`` cell: a link, then optionally a tracking number, then a carrier."""
    words = [word for word in _SEPARATORS.split(text.strip()) if word]
    if not words:
        raise LabelWaiting(
            "waiting for a label in the Label column (paste the label's https:// link there)"
        )
    url = words[0]
    if not _is_link(url):
        shown = text.strip()
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        raise LabelError(
            f"the Label column holds {shown!r}, not a label link: paste the label's https:// "
            "link first, optionally followed by the tracking number and the carrier"
        )
    tracking = words[1] if len(words) > 1 else ""
    return Label(url=url, tracking_number=tracking, carrier=" ".join(words[2:]))


def _is_link(word: str) -> bool:
    if _UNSAFE.search(word):
        return False
    try:
        parts = urlsplit(word)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def label_values(label: Label | None, *, now: datetime, ship_back_days: int) -> dict[str, str]:
    """The template values of an approval notice: the deadline, and the label when there is one."""
    deadline = (now + timedelta(days=ship_back_days)).date().isoformat()
    values = {"ship_back_by": deadline}
    if label is not None:
        values.update(
            label_url=label.url,
            label_tracking_number=label.tracking_number,
            label_carrier=label.carrier,
            label_expires_at=label.expires_at,
        )
    return values


def labels_from_settings(settings: Settings) -> LabelSource | None:
    """The configured label source, or None when the store has none."""
    if settings.label_source == "column":
        return ColumnLabels()
    return WebhookLabels(settings.label_webhook) if settings.label_webhook else None


def approval_ships_back(request: Request, status: Status) -> bool:
    """An approved return or exchange: the shopper has something to send back."""
    return status is Status.APPROVED and request.parsed_type in (
        RequestType.RETURN,
        RequestType.EXCHANGE,
    )


def ship_back_note(label: Label | None, deadline: str) -> str:
    """The sentence the team reads once the shopper has been given the deadline."""
    if label is None:
        return (
            f"Approved: the shopper is asked to ship back by {deadline}; no label source is "
            "configured, so email them where to send the items."
        )
    made = " ".join(part for part in (label.carrier, label.tracking_number) if part)
    return f"Approved: return label {made or label.url} sent; ship back by {deadline}."
