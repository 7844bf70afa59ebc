"""Telling shoppers what happened: notices, templates and notifiers.

The worker decides *when* to tell a shopper and builds a :class:`Notice`;
:func:`build_message` turns it into an :class:`OutgoingMessage` from the
templates; :func:`deliver` hands that to every notifier
:func:`notifiers_from_settings` built from ``SHEETQUEUE_NOTIFY``.
"""

from __future__ import annotations

from sheetqueue.worker.notify.base import Delivery, LogNotifier, Notifier, deliver, send_step
from sheetqueue.worker.notify.factory import notifier_from_url, notifiers_from_settings
from sheetqueue.worker.notify.maildir import MaildirNotifier
from sheetqueue.worker.notify.message import Notice, OutgoingMessage, message_id_for
from sheetqueue.worker.notify.smtp import SmtpNotifier
from sheetqueue.worker.notify.templates import Templates, build_message
from sheetqueue.worker.notify.webhook import WebhookNotifier, verify_signature

__all__ = [
    "Delivery",
    "LogNotifier",
    "MaildirNotifier",
    "Notice",
    "Notifier",
    "OutgoingMessage",
    "SmtpNotifier",
    "Templates",
    "WebhookNotifier",
    "build_message",
    "deliver",
    "message_id_for",
    "notifier_from_url",
    "notifiers_from_settings",
    "send_step",
    "verify_signature",
]
