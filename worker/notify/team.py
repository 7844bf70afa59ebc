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
"""

from __future__ import annotations

from collections.abc import Sequence

from sheetqueue.config.errors import ConfigError
from sheetqueue.config.logs import mask_email, mask_phone
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notify.base import Notifier, Pooled, log_event, skipped
from sheetqueue.worker.notify.message import OutgoingMessage

__all__ = ["TEAM_CHANNEL", "TeamNotifier", "alert_text", "with_team_alerts"]

TEAM_CHANNEL = "team"
_NOT_FOR_TEAM = "the team is told only about requests that need review"
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


class TeamNotifier:
    """One ``SHEETQUEUE_TEAM_ALERTS`` URL: carries only ``Needs Review`` notices, as alerts."""

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
        return None if message.status is Status.NEEDS_REVIEW else _NOT_FOR_TEAM

    def send(self, message: OutgoingMessage) -> None:
        if skipped(self, message) is not None:
            return
        if self._apprise:
            from sheetqueue.worker.notify.apprise import send_text

            title = f"Needs review: {message.request_id}"
            send_text(self._target, alert_text(message), name=self.name, title=title)
        log_event("notify.team_alerted", self, message, alert=alert_text(message))

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
