"""The notifier port, the log notifier, and sending one message through several.

Every notifier has a ``name`` safe to print (secrets masked) and three methods:

* ``skip_reason(message)``: why this notifier cannot carry ``message`` (an
  email notifier and a request without an email address), or None;
* ``send(message)``: deliver it, or raise :class:`~sheetqueue.config.errors.NotifyError`
  with a readable reason (:class:`MaybeDelivered` when the other side may have
  taken the message but never said so). A message the notifier cannot carry is not an error:
  ``send`` logs ``notify.skipped`` with the reason and returns;
* ``check()``: reach the server or the directory, for ``sheetqueue check``.

:func:`deliver` sends one message through every notifier and reports, per
notifier, whether it was sent, skipped (with the reason), maybe delivered or
failed; its ``before_send`` hook is told, before each hand-over, every notifier
the message has gone to so far (the worker marks them in flight).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

from sheetqueue.config.errors import NotifyError
from sheetqueue.config.logs import mask_email, mask_phone
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = [
    "Delivery",
    "LogNotifier",
    "MaybeDelivered",
    "Notifier",
    "Pooled",
    "deliver",
    "mask_url",
    "send_step",
    "skipped",
]

_SECRET_QUERY_WORDS = ("token", "secret", "key", "sig", "pass", "auth")


class MaybeDelivered(NotifyError):
    """The message went out whole but no answer came: it may have been delivered.

    Sending again could tell the shopper twice, so the worker does not retry it.
    """


class Notifier(Protocol):
    """Something that can carry a message to a shopper."""

    name: str

    def skip_reason(self, message: OutgoingMessage) -> str | None: ...

    def send(self, message: OutgoingMessage) -> None: ...

    def check(self) -> None: ...


@runtime_checkable
class Pooled(Protocol):
    """A notifier that keeps connections open across the sends of one step."""

    def begin_step(self) -> None:
        """Keep connections open for the sends that follow."""
        ...

    def end_step(self) -> None:
        """Close what the step left open; a later send opens anew."""
        ...


@contextmanager
def send_step(notifiers: Iterable[Notifier]) -> Iterator[None]:
    """The sends of one step: pooled notifiers reuse their connections within it."""
    pooled = [n for n in notifiers if isinstance(n, Pooled)]
    for notifier in pooled:
        notifier.begin_step()
    try:
        yield
    finally:
        for notifier in pooled:
            notifier.end_step()


@dataclass
class Delivery:
    """What happened to one message, notifier by notifier (names are masked)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, NotifyError]] = field(default_factory=list)
    maybe: list[tuple[str, MaybeDelivered]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No notifier failed (skips are fine)."""
        return not self.failed


def deliver(
    notifiers: Iterable[Notifier],
    message: OutgoingMessage,
    *,
    before_send: Callable[[list[str]], None] | None = None,
) -> Delivery:
    """Send ``message`` through each notifier; one failing does not stop the others."""
    delivery = Delivery()
    handed: list[str] = []
    for notifier in notifiers:
        reason = skipped(notifier, message)
        if reason is not None:
            delivery.skipped.append((notifier.name, reason))
            continue
        handed.append(notifier.name)
        if before_send is not None:
            before_send(list(handed))
        try:
            notifier.send(message)
        except MaybeDelivered as exc:
            log_event("notify.maybe_delivered", notifier, message, error=str(exc), level="warning")
            delivery.maybe.append((notifier.name, exc))
        except NotifyError as exc:
            log_event("notify.failed", notifier, message, error=str(exc), level="warning")
            delivery.failed.append((notifier.name, exc))
        else:
            delivery.sent.append(notifier.name)
    return delivery


def skipped(notifier: Notifier, message: OutgoingMessage) -> str | None:
    """Why ``notifier`` cannot carry ``message`` (logged as ``notify.skipped``), or None."""
    reason = notifier.skip_reason(message)
    if reason is not None:
        log_event("notify.skipped", notifier, message, reason=reason)
    return reason


def log_event(
    event: str, notifier: Notifier, message: OutgoingMessage, *, level: str = "info", **fields: Any
) -> None:
    """One structlog event about ``message``, addresses masked even without the processor."""
    logger = structlog.get_logger("sheetqueue.notify").bind(request_id=message.request_id)
    getattr(logger, level)(
        event,
        notifier=notifier.name,
        status=message.status.value,
        message_id=message.message_id,
        to_email=mask_email(message.to_email),
        to_phone=mask_phone(message.to_phone),
        **fields,
    )


class LogNotifier:
    """``log:``: writes a log line per message and sends nothing (dry runs)."""

    def __init__(self) -> None:
        self.name = "log:"

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        return None

    def send(self, message: OutgoingMessage) -> None:
        log_event("notify.logged", self, message, subject=mask_phone(mask_email(message.subject)))

    def check(self) -> None:
        return None


def mask_url(url: str) -> str:
    """The URL with its password and secret-looking query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:***@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [
                (k, "***" if any(w in k.lower() for w in _SECRET_QUERY_WORDS) else v)
                for k, v in pairs
            ],
            safe="*/",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
