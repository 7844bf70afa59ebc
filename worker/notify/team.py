"""Team alerts (``SHEETQUEUE_TEAM_ALERTS``): the team is told when a request needs review.

Each URL becomes a notifier whose channel is ``team`` (its name is
``team:apprise:...``), one more channel of the ``Needs Review`` notice. The
alert therefore goes through the worker's notice machinery, exactly once: it
is owed in the same sheet write as the status, marked ``team sending`` in the
``Notified`` cell just before it is handed over, and written ``team`` (or
``team maybe``, ``team gave up``) after. A failed alert is retried on later
passes like any channel, while the channels that already carried the notice
are never tried again; a failing team channel never holds up a shopper's notice.

The alert is a short plain text: the request ID, type, order, the decision's
code and the shopper's address masked. ``apprise:`` URLs send it (Slack,
Teams, Discord, ``mailtos://`` for email, ``json://`` for a plain POST);
``log:`` writes it to the log. When shoppers are not told about reviews
(``SHEETQUEUE_NOTIFY_ON_REVIEW`` off), the shopper's notifiers skip the
``Needs Review`` notice and only the team gets it.

The team is also told when a shopper could not be told: a shopper's notice
given up after its tries, or left maybe delivered, owes an ``untold`` alert
(``Done untold owed ...`` in ``Notified``) in the write that settles it. That
alert is a notice of its own, with its own ledger row and Message-ID, that
only the team's notifiers carry (:func:`untold_message`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.logs import mask_email, mask_phone
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Request, Status
from sheetqueue.worker.notify.base import Notifier, Pooled, log_event, skipped
from sheetqueue.worker.notify.message import OutgoingMessage, message_id_for

__all__ = [
    "TEAM_CHANNEL",
    "TeamNotifier",
    "alert_text",
    "untold_message",
    "untold_text",
    "with_team_alerts",
]

TEAM_CHANNEL = "team"
_NOT_FOR_TEAM = "the team is told only about reviews and shoppers who could not be told"
_NOT_FOR_SHOPPER = "shoppers are not told about reviews (SHEETQUEUE_NOTIFY_ON_REVIEW is off)"


def alert_text(message: OutgoingMessage) -> str:
    """The alert: one short plain line, the shopper's address masked."""
    kind = message.request_type.value.replace("_", " ") if message.request_type else "request"
    shopper = ", ".join(
        part for part in (mask_email(message.to_email), mask_phone(message.to_phone)) if part
    )
    words = [
        f"{message.request_id} needs review: {kind}",
        f"order {message.order_id}" if message.order_id else "",
        f"reason {message.reason}" if message.reason else "",
        f"shopper {shopper}" if shopper else "",
    ]
    return "; ".join(word for word in words if word) + "."


def _shopper(email: str, phone: str) -> str:
    return ", ".join(part for part in (mask_email(email), mask_phone(phone)) if part)


def untold_text(request: Request, status: Status, channels: Sequence[str], outcome: str) -> str:
    """The alert that the shopper was not told: one short plain line, the address masked.

    ``outcome`` is ``maybe`` (sent, never answered) or how it was given up
    (``gave up after 5 tries``).
    """
    kind = request.parsed_type.value.replace("_", " ") if request.parsed_type else "request"
    by = ", ".join(channels) or "any channel"
    what = "may not have arrived (no answer)" if outcome == "maybe" else outcome
    shopper = _shopper(request.email.strip(), request.phone.strip())
    words = [
        f"{request.request_id.strip()} shopper not told: {kind}",
        f"the {status.value} notice by {by} {what}",
        f"shopper {shopper}" if shopper else "",
    ]
    return "; ".join(word for word in words if word) + "."


def untold_message(
    request: Request, status: Status, channels: Sequence[str], outcome: str, *, mail_from: str
) -> OutgoingMessage:
    """The team's ``untold`` alert about ``request``'s notice of ``status``, ready to send."""
    request_id = request.request_id.strip()
    message_id = message_id_for(request_id, status, mail_from, untold=True)
    return OutgoingMessage(
        request_id=request_id,
        status=status,
        request_type=request.parsed_type,
        order_id=request.order_id.strip(),
        to_email=request.email.strip(),
        to_phone=request.phone.strip(),
        from_email=mail_from,
        subject=f"Shopper not told: {request_id}",
        text=untold_text(request, status, channels, outcome),
        html="",
        message_id=message_id,
        idempotency_key=message_id.strip("<>"),
        untold=True,
    )


class TeamNotifier:
    """One ``SHEETQUEUE_TEAM_ALERTS`` URL: carries review notices and ``untold`` alerts."""

    def __init__(self, url: str) -> None:
        url = url.strip()
        scheme, _, target = url.partition(":")
        self._target = target.strip()
        self._apprise = scheme.lower() == "apprise"
        if self._apprise:
            from sheetqueue.worker.notify.apprise import AppriseNotifier

            if "://" not in self._target:
                raise ConfigError(
                    f"SHEETQUEUE_TEAM_ALERTS: {url.partition('://')[0]}: give an Apprise URL, "
                    "e.g. apprise:slack://TOKEN/#support"
                )
            try:
                shown = AppriseNotifier(self._target).name
            except ConfigError as exc:
                named = str(exc).replace("SHEETQUEUE_NOTIFY", "SHEETQUEUE_TEAM_ALERTS")
                raise ConfigError(named) from None
        elif scheme.lower() == "log":
            shown = "log:"
        else:
            raise ConfigError(
                f"SHEETQUEUE_TEAM_ALERTS: {scheme}: team alerts take apprise: URLs "
                "(apprise:mailtos://... for email) or log:"
            )
        self.name = f"{TEAM_CHANNEL}:{shown}"

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        if message.untold or message.status is Status.NEEDS_REVIEW:
            return None
        return _NOT_FOR_TEAM

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        text = message.text if message.untold else alert_text(message)
        if self._apprise:
            from sheetqueue.worker.notify.apprise import send_text

            title = message.subject if message.untold else f"Needs review: {message.request_id}"
            send_text(self._target, text, name=self.name, title=title)
        log_event("notify.team_alerted", self, message, alert=text)

    def check(self) -> None:
        return None


class _NoReviews:
    """A shopper's notifier that skips ``Needs Review`` notices (those are the team's alone)."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner
        self.name = inner.name

    def skip_reason(self, message: OutgoingMessage) -> str | None:
        if message.status is Status.NEEDS_REVIEW:
            return _NOT_FOR_SHOPPER
        return self.inner.skip_reason(message)

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is None:
            self.inner.send(message)

    def check(self) -> None:
        self.inner.check()

    def begin_step(self) -> None:
        if isinstance(self.inner, Pooled):
            self.inner.begin_step()

    def end_step(self) -> None:
        if isinstance(self.inner, Pooled):
            self.inner.end_step()


def with_team_alerts(notifiers: Sequence[Notifier], settings: Settings) -> list[Notifier]:
    """The shopper's notifiers, then one team notifier per ``SHEETQUEUE_TEAM_ALERTS`` URL."""
    team: list[Notifier] = [TeamNotifier(url) for url in settings.team_alerts]
    if not team:
        return list(notifiers)
    shoppers = list(notifiers) if settings.notify_on_review else [_NoReviews(n) for n in notifiers]
    return [*shoppers, *team]
