"""Time-based re-checks through the real command line, with the clock frozen (freezegun)."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from freezegun import freeze_time

from sheetqueue.cli import main, register_commands
from tests.factories import make_order_record

register_commands()  # import every command (and its models) before any clock is frozen


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for an in-process CLI: files in tmp_path, orders from a JSON file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHEETQUEUE_LOCAL_PATH", str(tmp_path / "queue.db"))
    monkeypatch.setenv("SHEETQUEUE_STATE_PATH", str(tmp_path / "state.db"))
    monkeypatch.setenv("SHEETQUEUE_NOTIFY", f"maildir:{tmp_path / 'outbox'}")
    monkeypatch.setenv("SHEETQUEUE_ORDERS", f"file:{tmp_path / 'orders.json'}")
    return tmp_path


def _orders(shop: Path, **order: object) -> None:
    (shop / "orders.json").write_text(json.dumps([make_order_record(**order)]))


def _queue(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def _record(kind: str) -> None:
    assert (
        main(["record", "--type", kind, "--order", "ORD-1001", "--email", "ana@example.com"]) == 0
    )


def test_cancellation_whose_order_ships_before_the_pass_is_ineligible(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked while processing, shipped an hour later, checked after: Ineligible, return offered."""
    _orders(shop, status="processing")
    with freeze_time("2026-11-20 09:00:00"):
        _record("cancellation")
    _orders(shop, status="shipped", shipped_at="2026-11-20T10:00:00Z")
    with freeze_time("2026-11-20 11:00:00"):
        assert main(["tick"]) == 0
    (row,) = _queue(capsys)
    assert (row["status"], row["decision"]) == ("Ineligible", "ineligible:alreadyShipped")
    assert row["checked_at"] == "2026-11-20T11:00:00Z"
    (message,) = mailbox.Maildir(shop / "outbox", create=False)
    assert "return" in str(message["Subject"]).lower()


def test_return_asked_on_day_29_and_checked_on_day_35_is_eligible(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window is measured when the shopper asked, not when the worker looks."""
    _orders(shop, status="delivered", delivered_at="2026-10-01T12:00:00Z")
    with freeze_time("2026-10-30 12:00:00"):  # day 29 after delivery
        _record("return")
    with freeze_time("2026-11-05 12:00:00"):  # day 35
        assert main(["tick"]) == 0
    (row,) = _queue(capsys)
    assert row["timestamp"] == "2026-10-30T12:00:00Z"
    assert (row["status"], row["decision"]) == ("Eligible", "eligible:withinReturnWindow")


def test_return_asked_on_day_65_is_not_eligible(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A return asked past window, grace and the manager's limit is refused, shopper told."""
    _orders(shop, status="delivered", delivered_at="2026-09-01T12:00:00Z")
    with freeze_time("2026-11-05 12:00:00"):
        _record("return")
        assert main(["tick"]) == 0
    (row,) = _queue(capsys)
    assert (row["status"], row["decision"]) == ("Ineligible", "ineligible:outsideWindow")
