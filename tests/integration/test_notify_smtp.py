"""SMTP notifier against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, SMTPS, AUTH."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import NotifyError
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notify import (
    deliver,
    notifier_from_url,
    send_step,
)
from tests import factories
from tests.smtp_server import CertPair, SmtpServer, free_port, make_self_signed_cert

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


make_message = partial(factories.make_message, mail_from="Tidy Threads <help@tidy.example>")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> CertPair:
    return make_self_signed_cert(tmp_path_factory.mktemp("cert"))


def test_plain_smtp_delivers_multipart_text_and_html() -> None:
    """A plain SMTP send arrives with the headers and both text and HTML parts."""
    with SmtpServer() as server:
        notifier = notifier_from_url(server.url(), clock=lambda: FIXED)
        notifier.send(make_message())
    [got] = server.messages
    assert got.mail_from == "help@tidy.example"
    assert got.rcpt_tos == ["ana@example.com"]
    mail = got.message
    assert mail["Subject"] == "Your refund for order ORD-1001 is on its way"
    assert mail["Message-ID"] == "<sq-REQ-7K2M-done@tidy.example>"
    assert mail["From"] == "Tidy Threads <help@tidy.example>"
    assert mail["Date"] == "Sun, 22 Nov 2026 09:30:00 +0000"
    assert mail.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in mail.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert "processed your refund" in got.body("plain")


def test_starttls_with_auth_logs_in_with_url_decoded_credentials(cert: CertPair) -> None:
    """smtp+starttls:// upgrades, logs in with the decoded user and password, and sends."""
    users = {"shop@tidy.example": "p@ss:w/rd"}
    with SmtpServer(tls="starttls", cert=cert, users=users) as server:
        url = server.url(user="shop@tidy.example", password="p@ss:w/rd", cafile=cert.cert)
        notifier = notifier_from_url(url, clock=utc_now)
        notifier.check()
        notifier.send(make_message())
    [got] = server.messages
    assert got.login == "shop@tidy.example"
    assert "p@ss" not in notifier.name and "***" in notifier.name


def test_smtps_with_auth_sends_over_tls_from_the_start(cert: CertPair) -> None:
    """smtps:// speaks TLS from the first byte and logs in."""
    with SmtpServer(tls="ssl", cert=cert, users={"shop": "s3cret"}) as server:
        notifier = notifier_from_url(
            server.url(user="shop", password="s3cret", cafile=cert.cert), clock=utc_now
        )
        notifier.send(make_message(status=Status.REJECTED))
    [got] = server.messages
    assert got.login == "shop"
    assert got.message["Message-ID"] == "<sq-REQ-7K2M-rejected@tidy.example>"


def test_wrong_password_is_a_notify_error_without_the_password(cert: CertPair) -> None:
    """A refused login raises NotifyError with a clear reason and no secret in it."""
    with SmtpServer(tls="starttls", cert=cert, users={"shop": "right"}) as server:
        url = server.url(user="shop", password="wrong-horse", cafile=cert.cert)
        with pytest.raises(NotifyError, match="refused the user name or password") as info:
            notifier_from_url(url, clock=utc_now).send(make_message())
    assert "wrong-horse" not in str(info.value)
    assert server.messages == []


def test_untrusted_certificate_is_refused(cert: CertPair) -> None:
    """Without the cafile the self-signed certificate fails verification."""
    with (
        SmtpServer(tls="starttls", cert=cert) as server,
        pytest.raises(NotifyError, match="TLS failed"),
    ):
        notifier_from_url(server.url(), clock=utc_now).send(make_message())
    assert server.messages == []


def test_server_down_is_a_notify_error() -> None:
    """Nothing listening on the port: send and check raise NotifyError."""
    notifier = notifier_from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2", clock=utc_now)
    with pytest.raises(NotifyError, match="connection refused"):
        notifier.send(make_message())
    with pytest.raises(NotifyError, match="connection refused"):
        notifier.check()


def test_request_without_email_is_skipped_not_sent() -> None:
    """A message with no address is skipped with a reason; nothing reaches the server."""
    with SmtpServer() as server:
        notifier = notifier_from_url(server.url(), clock=utc_now)
        delivery = deliver([notifier], make_message(email="", phone="+15125550100"))
        notifier.send(make_message(email=""))
    assert delivery.skipped == [(notifier.name, "the request has no email address")]
    assert delivery.sent == [] and delivery.ok
    assert server.messages == []


def test_deliver_keeps_going_when_one_notifier_fails(tmp_path: Path) -> None:
    """One failing notifier is reported; the others still send."""
    down = notifier_from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2", clock=utc_now)
    with SmtpServer() as server:
        up = notifier_from_url(server.url(), clock=utc_now)
        delivery = deliver([down, up], make_message())
    assert delivery.sent == [up.name]
    assert [name for name, _ in delivery.failed] == [down.name]
    assert not delivery.ok
    assert len(server.messages) == 1


def test_address_with_a_line_break_is_skipped_not_mailed() -> None:
    """An Email cell smuggling a second recipient or an SMTP command is never mailed."""
    with SmtpServer() as server:
        notifier = notifier_from_url(server.url(), clock=utc_now)
        for bad in ("ana@example.com\r\nRCPT TO:<eve@example.com>", "a@x.com, eve@y.com"):
            message = make_message(email=bad)
            assert notifier.skip_reason(message) == (
                "the request's email address is not one plain address"
            )
            notifier.send(message)
    assert server.messages == []


def test_a_send_step_reuses_its_connections() -> None:
    """Within one send step, many messages go over one SMTP session, each delivered once."""
    with SmtpServer() as server:
        notifier = notifier_from_url(server.url(), clock=lambda: FIXED)
        with send_step([notifier]):
            for n in range(5):
                notifier.send(make_message(request_id=f"REQ-REUSE{n}"))
    assert len(server.messages) == 5
    assert server.sessions == 1
    ids = {got.message["Message-ID"] for got in server.messages}
    assert len(ids) == 5


def test_a_dropped_idle_connection_is_replaced_without_a_duplicate() -> None:
    """A kept session the server closed meanwhile: the message goes once, on a new session."""
    port = free_port()
    notifier = notifier_from_url(f"smtp://127.0.0.1:{port}", clock=lambda: FIXED)
    with send_step([notifier]):
        with SmtpServer(port=port) as first:
            notifier.send(make_message(request_id="REQ-BEFORE"))
        with SmtpServer(port=port) as second:  # the server restarted: the kept session is dead
            notifier.send(make_message(request_id="REQ-AFTER"))
    assert [got.message["Message-ID"] for got in first.messages] == [
        "<sq-REQ-BEFORE-done@tidy.example>"
    ]
    assert [got.message["Message-ID"] for got in second.messages] == [
        "<sq-REQ-AFTER-done@tidy.example>"
    ]
