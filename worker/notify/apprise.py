"""``apprise:URL``: a short text through Apprise (SMS services, chat, push).

The URL after ``apprise:`` is any Apprise URL: ``twilio://SID:TOKEN@FROM/{phone}``
for SMS, ``json://host/path`` for a plain JSON POST, ``slack://...``,
``msteams://...``, ``discord://...``. ``{phone}`` anywhere in it is replaced by
the shopper's phone number (digits and a leading ``+``); such a notifier skips a
request without a phone. The body is the status's short text
(:func:`~sheetqueue.worker.notify.sms.sms_text`), never the whole email.

Apprise reports only success or failure: a failure is a NotifyError naming
the masked URL; Apprise's own log lines go through the project's logging.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import apprise

from sheetqueue.config.errors import ConfigError, NotifyError
from sheetqueue.worker.notify.base import log_event, mask_url, skipped
from sheetqueue.worker.notify.message import OutgoingMessage
from sheetqueue.worker.notify.sms import sms_text

__all__ = ["AppriseNotifier", "send_text"]

PHONE = "{phone}"


class AppriseNotifier:
    """One Apprise URL; a short text per message."""

    def __init__(self, url: str, *, store_name: str = "Our store") -> None:
        self.url = url
        self.store_name = store_name
        self.name = f"apprise:{_masked(url)}"
        if not apprise.Apprise().add(url.replace(PHONE, "15550000000")):
            raise ConfigError(
                f"SHEETQUEUE_NOTIFY: {self.name}: Apprise does not know this URL; "
                "see the Apprise URL list (twilio://, json://, slack://, ...)"
            )

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        if PHONE in self.url and not _digits(message.to_phone):
            return "no phone number for this request"
        return None

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        target = self.url.replace(PHONE, quote(_digits(message.to_phone), safe="+"))
        send_text(target, sms_text(message, self.store_name), name=self.name)
        log_event("notify.sent", self, message)

    def check(self) -> None:
        return None  # Apprise has no way to reach a service without sending


def send_text(url: str, body: str, *, name: str, title: str = "") -> None:
    """Send ``body`` to one Apprise URL, or raise NotifyError."""
    sender = apprise.Apprise()
    if not sender.add(url):
        raise NotifyError(f"{name}: Apprise does not know this URL")
    if not sender.notify(body=body, title=title):
        raise NotifyError(f"{name}: Apprise could not deliver the message")


def _digits(phone: str) -> str:
    stripped = re.sub(r"[^\d+]", "", phone.strip())
    return stripped if re.fullmatch(r"\+?\d{6,15}", stripped) else ""


def _masked(url: str) -> str:
    """The URL with its user:password (API keys, SIDs) hidden."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return mask_url(url)
    return f"{scheme}://" + re.sub(r"^[^@/]*@", "***@", rest)
