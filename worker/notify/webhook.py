"""``webhook:URL``: each message POSTed as JSON, signed, for email or SMS elsewhere.

The body is one JSON object::

    {"event": "request.done", "request_id": "REQ-7K2M", "status": "Done",
     "type": "refund", "order_id": "ORD-1001", "email": "ana@example.com",
     "phone": "+15125550100", "subject": "...", "text": "...",
     "message_id": "<sq-REQ-7K2M-done@shop.example>", "sent_at": "2026-11-22T09:30:00Z"}

Headers: ``X-Sheetqueue-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body
with ``webhook_secret``; left out when no secret is set),
``X-Sheetqueue-Timestamp`` (the ``sent_at`` value, also inside the signed
body) and ``Idempotency-Key`` (the Message-ID without brackets, the same on
every retry). Any 2xx answer is a success; anything else is a NotifyError.
A receiver that took the whole request and then timed out or hung up without
answering may have acted on it: that is :class:`MaybeDelivered`, not retried.

SMS goes this way: the receiver texts ``phone``. A receiver checks a request
with :func:`verify_signature` on the raw body, before parsing it::

    if not verify_signature(secret, request_body, headers["X-Sheetqueue-Signature"]):
        return 401
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import NotifyError
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.notify.base import MaybeDelivered, log_event, mask_url, skipped
from sheetqueue.worker.notify.message import OutgoingMessage

if TYPE_CHECKING:
    import httpx

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookNotifier", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Sheetqueue-Signature"
TIMESTAMP_HEADER = "X-Sheetqueue-Timestamp"


def sign(secret: str | bytes, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` with ``secret`` (constant time).

    An empty secret or a missing header never verifies.
    """
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


class WebhookNotifier:
    """POSTs each message to ``url``."""

    def __init__(
        self,
        url: str,
        *,
        secret: str = "",
        timeout: float = 10.0,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.name = f"webhook:{mask_url(url)}"
        self._secret = secret
        self.timeout = timeout
        self._clock = clock
        self._transport = transport

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.name!r})"

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        if not message.to_email.strip() and not message.to_phone.strip():
            return "the request has neither an email address nor a phone number"
        return None

    def payload(self, message: OutgoingMessage, sent_at: str) -> dict[str, str]:
        """The JSON object sent for ``message``."""
        return {
            "event": message.event,
            "request_id": message.request_id,
            "status": message.status.value,
            "type": message.request_type.value if message.request_type else "",
            "order_id": message.order_id,
            "email": message.to_email,
            "phone": message.to_phone,
            "subject": message.subject,
            "text": message.text,
            "message_id": message.message_id,
            "sent_at": sent_at,
        }

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        sent_at = format_time(self._clock())
        body = json.dumps(self.payload(message, sent_at), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: sent_at,
            "Idempotency-Key": message.idempotency_key,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        response = self._request("POST", content=body, headers=headers)
        if not response.is_success:
            raise NotifyError(
                f"{self.name}: the receiver answered {response.status_code} "
                f"{response.reason_phrase}".rstrip()
            )
        log_event("notify.sent", self, message, http_status=response.status_code)

    def check(self) -> None:
        """Reach the receiver: any answer below 500 means something is listening."""
        response = self._request("HEAD")
        if response.status_code >= 500:
            raise NotifyError(f"{self.name}: the receiver answered {response.status_code}")

    def _request(
        self, method: str, *, content: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        import httpx  # loaded on the first send: a command that sends nothing never pays for it

        try:
            with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
                return client.request(method, self.url, content=content, headers=headers)
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as exc:
            if method != "POST":
                raise NotifyError(f"{self.name}: no answer: {_short(exc)}") from exc
            why = f"none within {self.timeout:g} s"
            if not isinstance(exc, httpx.ReadTimeout):
                why = _short(exc)
            raise MaybeDelivered(
                f"{self.name}: the receiver took the message but gave no answer ({why})"
            ) from exc
        except httpx.TimeoutException as exc:
            raise NotifyError(f"{self.name}: no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise NotifyError(f"{self.name}: cannot reach the receiver: {_short(exc)}") from exc


def _short(exc: httpx.HTTPError) -> str:
    """The error without the URL (it may carry a token)."""
    return type(exc).__name__ if not str(exc) else str(exc).split(" for url")[0]
