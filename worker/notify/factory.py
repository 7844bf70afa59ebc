"""Notifiers from ``SHEETQUEUE_NOTIFY``: one URL each, comma-separated.

==================================  ========================================
``maildir:PATH``                    files in a Maildir (the default, ``./outbox``)
``smtp://host:port``                plain SMTP (a local relay)
``smtp+starttls://user:pass@h:p``   SMTP upgraded with STARTTLS, with AUTH
``smtps://user:pass@host:port``     SMTP over TLS from the start, with AUTH
``webhook:https://...``             signed JSON POST (email or SMS elsewhere)
``apprise:twilio://.../{phone}``    a short text through Apprise (SMS, chat)
``log:``                            a log line only (dry runs)
==================================  ========================================

SMTP URLs take ``?timeout=SECONDS`` and ``?cafile=PATH``. A URL that cannot be
used raises ConfigError naming SHEETQUEUE_NOTIFY, with the password masked.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sheetqueue.config.clock import Clock
from sheetqueue.config.errors import ConfigError
from sheetqueue.config.settings import Settings
from sheetqueue.worker.notify.base import LogNotifier, Notifier, mask_url
from sheetqueue.worker.notify.maildir import MaildirNotifier
from sheetqueue.worker.notify.smtp import Security, SmtpNotifier
from sheetqueue.worker.notify.webhook import WebhookNotifier

__all__ = ["notifier_from_url", "notifiers_from_settings"]

_SMTP_SCHEMES: dict[str, Security] = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}


def notifiers_from_settings(settings: Settings, *, clock: Clock) -> list[Notifier]:
    """Every notifier ``settings.notify`` names, in order."""
    if not settings.notify:
        raise ConfigError("SHEETQUEUE_NOTIFY: no notifier given; use for example maildir:./outbox")
    secret = settings.webhook_secret.get_secret_value()
    return [
        notifier_from_url(url, webhook_secret=secret, clock=clock, store_name=settings.store_name)
        for url in settings.notify
    ]


def notifier_from_url(
    url: str, *, clock: Clock, webhook_secret: str = "", store_name: str = "Our store"
) -> Notifier:
    """One notifier from one ``SHEETQUEUE_NOTIFY`` entry."""
    url = url.strip()
    scheme = url.partition(":")[0].lower()
    if scheme == "apprise":
        from sheetqueue.worker.notify.apprise import AppriseNotifier  # apprise only when used

        target = url.partition(":")[2].strip()
        if "://" not in target:
            raise _bad(url, "give an Apprise URL, e.g. apprise:twilio://SID:TOKEN@FROM/{phone}")
        return AppriseNotifier(target, store_name=store_name)
    if scheme == "log":
        return LogNotifier()
    if scheme == "maildir":
        path = url.partition(":")[2].strip()
        if not path:
            raise _bad(url, "give the directory, e.g. maildir:./outbox")
        return MaildirNotifier(Path(path).expanduser(), clock=clock)
    if scheme == "webhook":
        target = url.partition(":")[2].strip()
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad(
                url, "give an http:// or https:// URL, e.g. webhook:https://example.com/hook"
            )
        return WebhookNotifier(target, secret=webhook_secret, clock=clock)
    if scheme in _SMTP_SCHEMES:
        return _smtp(url, _SMTP_SCHEMES[scheme], clock)
    raise _bad(
        url,
        "unknown notifier; use smtp://, smtp+starttls://, smtps://, maildir:, webhook:, "
        "apprise:, log:",
    )


def _smtp(url: str, security: Security, clock: Clock) -> SmtpNotifier:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise _bad(url, "the port is not a number between 0 and 65535") from None
    if not parts.hostname:
        raise _bad(url, "give the server, e.g. smtp://mail.example.com:25")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"timeout", "cafile"}
    if unknown:
        raise _bad(url, f"unknown option {sorted(unknown)[0]!r}; use timeout or cafile")
    try:
        timeout = float(options.get("timeout", "10"))
    except ValueError:
        raise _bad(url, "timeout must be a number of seconds") from None
    if timeout <= 0:
        raise _bad(url, "timeout must be more than 0 seconds")
    context = None
    if "cafile" in options:
        try:
            context = ssl.create_default_context(cafile=options["cafile"])
        except (OSError, ssl.SSLError) as exc:
            raise _bad(url, f"cannot read the cafile: {exc}") from None
    username = unquote(parts.username or "")
    if parts.password is not None and not username:
        raise _bad(url, "a password needs a user name (user:pass@host)")
    return SmtpNotifier(
        parts.hostname,
        port,
        security=security,
        username=username,
        password=unquote(parts.password or ""),
        timeout=timeout,
        ssl_context=context,
        clock=clock,
    )


def _bad(url: str, problem: str) -> ConfigError:
    prefix, _, rest = url.partition(":")
    wrapped = prefix.lower() in ("webhook", "apprise")
    shown = f"{prefix}:{mask_url(rest)}" if wrapped else mask_url(url)
    return ConfigError(f"SHEETQUEUE_NOTIFY: {shown}: {problem}")
