"""Maildir, webhook and log notifiers, and building notifiers from SHEETQUEUE_NOTIFY."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError, NotifyError
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import RequestType, Status
from sheetqueue.worker.notify import (
    LogNotifier,
    MaildirNotifier,
    SmtpNotifier,
    WebhookNotifier,
    notifier_from_url,
    notifiers_from_settings,
    verify_signature,
)
from tests import factories
from tests.http_server_kit import served_in_thread
from tests.smtp_server import free_port

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


make_message = partial(
    factories.make_message,
    request_type=RequestType.CANCELLATION,
    status=Status.INELIGIBLE,
    decision_code="alreadyShipped",
)


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append((self.command, dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_HEAD = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/shopper"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with served_in_thread(hook.server, poll_interval=0.05):
        yield hook


def test_maildir_is_created_and_holds_the_message(tmp_path: Path) -> None:
    """The Maildir appears on first send and holds a readable multipart email."""
    outbox = tmp_path / "outbox"
    MaildirNotifier(outbox, clock=lambda: FIXED).send(make_message())
    [mail] = list(mailbox.Maildir(outbox, create=False))
    assert mail["Message-ID"] == "<sq-REQ-7K2M-ineligible@tidy.example>"
    assert mail["To"] == "ana@example.com"
    assert mail["Subject"] == "We couldn't cancel order ORD-1001, but you can still return it"
    assert mail.is_multipart()


def test_maildir_writes_the_same_message_once(tmp_path: Path) -> None:
    """Sending the same message again (a retry) leaves one file; another status adds one."""
    notifier = MaildirNotifier(tmp_path / "outbox", clock=utc_now)
    notifier.send(make_message())
    notifier.send(make_message())
    notifier.send(make_message(status=Status.DONE))
    assert len(mailbox.Maildir(tmp_path / "outbox", create=False)) == 2


def test_maildir_not_writable_is_a_notify_error(tmp_path: Path) -> None:
    """A path under a plain file cannot hold a Maildir: check and send say so."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    notifier = MaildirNotifier(blocker / "outbox", clock=utc_now)
    with pytest.raises(NotifyError, match="not writable"):
        notifier.check()
    with pytest.raises(NotifyError, match="cannot write"):
        notifier.send(make_message())


def test_webhook_posts_signed_json_that_the_helper_verifies(receiver: Receiver) -> None:
    """The receiver gets the documented JSON, a valid HMAC and the idempotency key."""
    notifier = WebhookNotifier(receiver.url, secret="hook-secret", clock=lambda: FIXED)
    notifier.send(make_message())
    [(method, headers, body)] = receiver.requests
    assert method == "POST"
    assert verify_signature("hook-secret", body, headers["X-Sheetqueue-Signature"])
    assert not verify_signature("other-secret", body, headers["X-Sheetqueue-Signature"])
    assert not verify_signature("hook-secret", body + b" ", headers["X-Sheetqueue-Signature"])
    assert headers["X-Sheetqueue-Timestamp"] == "2026-11-22T09:30:00Z"
    assert headers["Idempotency-Key"] == "sq-REQ-7K2M-ineligible@tidy.example"
    payload = json.loads(body)
    assert set(payload) == {
        "event", "request_id", "status", "type", "order_id", "email",
        "phone", "subject", "text", "message_id", "sent_at",
    }  # fmt: skip
    assert payload["event"] == "request.ineligible"
    assert (payload["type"], payload["phone"]) == ("cancellation", "+15125550100")
    assert payload["sent_at"] == "2026-11-22T09:30:00Z"


def test_webhook_carries_sms_only_requests(receiver: Receiver) -> None:
    """A request with a phone and no email still goes to the webhook (for SMS)."""
    notifier = WebhookNotifier(receiver.url, clock=utc_now)
    assert notifier.skip_reason(make_message(email="")) is None
    assert notifier.skip_reason(make_message(email="", phone="")) is not None
    notifier.send(make_message(email=""))
    [(_, headers, body)] = receiver.requests
    assert "X-Sheetqueue-Signature" not in headers
    assert json.loads(body)["email"] == ""


def test_webhook_non_2xx_is_a_notify_error(receiver: Receiver) -> None:
    """A 503 from the receiver raises NotifyError naming the status."""
    receiver.status = 503
    notifier = WebhookNotifier(receiver.url, secret="s", clock=utc_now)
    with pytest.raises(NotifyError, match="answered 503"):
        notifier.send(make_message())
    with pytest.raises(NotifyError, match="answered 503"):
        notifier.check()


def test_webhook_down_is_a_notify_error_without_the_token() -> None:
    """Nothing listening: NotifyError, with a token in the URL masked."""
    url = f"http://127.0.0.1:{free_port()}/hook?token=abc123"
    notifier = WebhookNotifier(url, timeout=2, clock=utc_now)
    with pytest.raises(NotifyError, match="cannot reach") as info:
        notifier.send(make_message())
    assert "abc123" not in str(info.value)


def test_log_notifier_logs_masked_addresses() -> None:
    """log: sends nothing and logs the message with the email and phone masked."""
    with structlog.testing.capture_logs() as logs:
        LogNotifier().send(make_message())
    [event] = logs
    assert event["event"] == "notify.logged"
    assert event["to_email"] == "a***@e***.com"
    assert event["to_phone"] == "***00"


def test_settings_build_every_kind_of_notifier(tmp_path: Path) -> None:
    """Each SHEETQUEUE_NOTIFY scheme gives its notifier, in order."""
    settings = Settings(
        notify=f"maildir:{tmp_path}/out, smtp://mail.local, smtp+starttls://u:p%40ss@mx:2525,"
        "smtps://u:pw@mx, webhook:https://hooks.example/x, log:",
        webhook_secret="s",
    )
    built = notifiers_from_settings(settings, clock=utc_now)
    assert [type(n) for n in built] == [
        MaildirNotifier, SmtpNotifier, SmtpNotifier, SmtpNotifier, WebhookNotifier, LogNotifier,
    ]  # fmt: skip
    smtp_plain, starttls, smtps = built[1], built[2], built[3]
    assert isinstance(smtp_plain, SmtpNotifier) and smtp_plain.port == 25
    assert isinstance(starttls, SmtpNotifier) and starttls.port == 2525
    assert starttls.security == "starttls" and starttls.username == "u"
    assert isinstance(smtps, SmtpNotifier) and (smtps.port, smtps.security) == (465, "ssl")
    assert "p@ss" not in repr(starttls) and "pw" not in repr(smtps)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://", "give the server"),
        ("smtp://host:99999", "port is not a number"),
        ("smtps://host?timeout=soon", "timeout must be a number"),
        ("smtp://host?verify=no", "unknown option"),
        ("maildir:", "give the directory"),
        ("webhook:ftp://x", "http:// or https://"),
        ("pigeon://coop", "unknown notifier"),
    ],
)
def test_bad_notifier_url_is_a_config_error(url: str, problem: str) -> None:
    """A URL that cannot be used names SHEETQUEUE_NOTIFY and what is wrong."""
    with pytest.raises(ConfigError, match=problem) as info:
        notifier_from_url(url, clock=utc_now)
    assert str(info.value).startswith("SHEETQUEUE_NOTIFY: ")


def test_config_error_masks_the_password() -> None:
    """The password of a bad SMTP URL never appears in the error."""
    with pytest.raises(ConfigError) as info:
        notifier_from_url("smtp+starttls://user:hunter2@host:notaport", clock=utc_now)
    assert "hunter2" not in str(info.value) and "user:***@" in str(info.value)
