"""Apprise notices: a short text delivered to a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sheetqueue.config.clock import utc_now
from sheetqueue.config.errors import ConfigError
from sheetqueue.sheets.model import Status
from sheetqueue.worker.notify.base import deliver
from sheetqueue.worker.notify.factory import notifier_from_url
from sheetqueue.worker.notify.sms import SMS_LIMIT
from tests.factories import make_message
from tests.http_server_kit import JsonEndpoint, json_endpoint


@pytest.fixture
def receiver() -> Iterator[JsonEndpoint]:
    """A JSON endpoint on 127.0.0.1 standing for the Apprise service."""
    with json_endpoint() as endpoint:
        yield endpoint


def test_an_apprise_notice_reaches_the_endpoint_as_a_short_text(receiver: JsonEndpoint) -> None:
    """apprise:json://… POSTs the status's SMS text (not the email), the phone in the path."""
    notifier = notifier_from_url(
        f"apprise:json://{receiver.address}/sms/{{phone}}", clock=utc_now, store_name="Tidy Threads"
    )
    message = make_message(status=Status.DONE)
    delivery = deliver([notifier], message)
    assert delivery.sent == [notifier.name] and not delivery.failed
    [(path, body)] = receiver.accepted
    assert path == "/sms/+15125550100"
    text = body["message"]
    assert text.startswith("Tidy Threads: your ") and message.request_id in text
    assert len(text) <= SMS_LIMIT and text not in message.text


def test_without_a_phone_a_phone_url_is_skipped_and_nothing_is_sent(receiver: JsonEndpoint) -> None:
    """A request with no phone number is skipped (with the reason), not failed."""
    notifier = notifier_from_url(f"apprise:json://{receiver.address}/sms/{{phone}}", clock=utc_now)
    delivery = deliver([notifier], make_message(phone=""))
    assert delivery.skipped == [(notifier.name, "no phone number for this request")]
    assert receiver.accepted == []


def test_an_endpoint_that_refuses_is_a_failed_delivery(receiver: JsonEndpoint) -> None:
    """A 500 from the service is a NotifyError: counted failed, tried again later."""
    receiver.answer = 500
    notifier = notifier_from_url(f"apprise:json://{receiver.address}/hook", clock=utc_now)
    delivery = deliver([notifier], make_message())
    assert [name for name, _error in delivery.failed] == [notifier.name]


def test_an_unknown_apprise_url_is_bad_configuration_with_secrets_masked() -> None:
    """A URL Apprise cannot use stops at start, naming SHEETQUEUE_NOTIFY, the key hidden."""
    with pytest.raises(ConfigError) as caught:
        notifier_from_url("apprise:nosuch://key:s3cret@host/x", clock=utc_now)
    assert "SHEETQUEUE_NOTIFY" in str(caught.value) and "s3cret" not in str(caught.value)
