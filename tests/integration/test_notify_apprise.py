"""Apprise notices: a short text delivered to a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notify.base import deliver
from sheetqueue.worker.notify.factory import notifier_from_url
from sheetqueue.worker.notify.sms import SMS_LIMIT
from tests.factories import make_message


class _Receiver(BaseHTTPRequestHandler):
    """Records every JSON body POSTed to it, with its path."""

    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    answer = 200

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        type(self).received.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(type(self).answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    """A JSON endpoint on 127.0.0.1; yields ``host:port``."""
    _Receiver.received, _Receiver.answer = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_apprise_notice_reaches_the_endpoint_as_a_short_text(receiver: str) -> None:
    """apprise:json://… POSTs the status's SMS text (not the email), the phone in the path."""
    notifier = notifier_from_url(
        f"apprise:json://{receiver}/sms/{{phone}}", clock=utc_now, store_name="Tidy Threads"
    )
    message = make_message(status=Status.DONE)
    delivery = deliver([notifier], message)
    assert delivery.sent == [notifier.name] and not delivery.failed
    [(path, body)] = _Receiver.received
    assert path == "/sms/+15125550100"
    text = body["message"]
    assert text.startswith("Tidy Threads: your ") and message.request_id in text
    assert len(text) <= SMS_LIMIT and text not in message.text


def test_without_a_phone_a_phone_url_is_skipped_and_nothing_is_sent(receiver: str) -> None:
    """A request with no phone number is skipped (with the reason), not failed."""
    notifier = notifier_from_url(f"apprise:json://{receiver}/sms/{{phone}}", clock=utc_now)
    delivery = deliver([notifier], make_message(phone=""))
    assert delivery.skipped == [(notifier.name, "no phone number for this request")]
    assert _Receiver.received == []


def test_an_endpoint_that_refuses_is_a_failed_delivery(receiver: str) -> None:
    """A 500 from the service is a NotifyError: counted failed, tried again later."""
    _Receiver.answer = 500
    notifier = notifier_from_url(f"apprise:json://{receiver}/hook", clock=utc_now)
    delivery = deliver([notifier], make_message())
    assert [name for name, _error in delivery.failed] == [notifier.name]


def test_an_unknown_apprise_url_is_bad_configuration_with_secrets_masked() -> None:
    """A URL Apprise cannot use stops at start, naming SHEETQUEUE_NOTIFY, the key hidden."""
    with pytest.raises(ConfigError) as caught:
        notifier_from_url("apprise:nosuch://key:s3cret@host/x", clock=utc_now)
    assert "SHEETQUEUE_NOTIFY" in str(caught.value) and "s3cret" not in str(caught.value)
