"""Logs: personal data masked and secrets hidden, wherever they appear in an event."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog

from sheetqueue.config.logs import configure_logging, mask_email, mask_phone


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Each test configures logging itself; put the defaults back after."""
    yield
    structlog.reset_defaults()


def test_email_keeps_only_first_letters_and_top_level_domain() -> None:
    """ana.lopez@example.com becomes a***@e***.com."""
    assert mask_email("write to ana.lopez@example.com now") == "write to a***@e***.com now"


def test_phone_keeps_only_the_last_two_digits() -> None:
    """+1 (512) 555-0100 becomes ***00; short numbers such as order counts stay."""
    assert mask_phone("call +1 (512) 555-0100") == "call ***00"
    assert mask_phone("12 items") == "12 items"


def test_events_are_masked_and_secrets_hidden(capsys: pytest.CaptureFixture[str]) -> None:
    """A logged event never shows an email, a phone or a token, even nested."""
    configure_logging("INFO", json=True)
    structlog.get_logger("test").info(
        "request.recorded",
        email="ana@example.com",
        context={"phone": "+15125550100", "note": "from bob@shop.example"},
        api_token="s3cret-value",
        smtp_password="hunter2",
    )
    line = capsys.readouterr().err.strip()
    event = json.loads(line)
    assert event["email"] == "a***@e***.com"
    assert event["context"] == {"phone": "***00", "note": "from b***@s***.example"}
    assert event["api_token"] == "[hidden]" and event["smtp_password"] == "[hidden]"
    assert "s3cret" not in line and "hunter2" not in line and "5550100" not in line
