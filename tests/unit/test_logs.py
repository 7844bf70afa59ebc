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
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


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


def test_stdlib_records_become_masked_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """An APScheduler or uvicorn record is one JSON line, with its logger name and masking."""
    import logging

    configure_logging("INFO", json=True)
    logging.getLogger("apscheduler.scheduler").warning("job late for ana@example.com")
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("apscheduler.executors").info("quiet below WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == [
        "job late for a***@e***.com",
        "Started server process",
    ]
    assert lines[0]["logger"] == "apscheduler.scheduler" and lines[0]["level"] == "warning"


def test_the_level_filters_structlog_and_stdlib_alike(capsys: pytest.CaptureFixture[str]) -> None:
    """At WARNING, info events of both kinds are dropped and warnings kept."""
    import logging

    configure_logging("WARNING", json=True)
    structlog.get_logger("t").info("tick.finished")
    logging.getLogger("uvicorn.error").info("Started server process")
    structlog.get_logger("t").warning("tick.failed")
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()]
    assert events == ["tick.failed"]
