"""Team alerts: a review reaches the team's Apprise endpoint once, despite lost state, failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.model import Status
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.tick import Worker, tick
from tests.http_server_kit import JsonEndpoint, json_endpoint

NOW = datetime(2026, 12, 2, 9, 0, 0).astimezone()


@pytest.fixture
def team() -> Iterator[JsonEndpoint]:
    """A JSON endpoint on 127.0.0.1 standing for the team's chat."""
    with json_endpoint() as endpoint:
        yield endpoint


def _settings(tmp_path: Path, team: JsonEndpoint, **overrides: Any) -> Settings:
    orders = tmp_path / "orders.json"
    delivered = (NOW - timedelta(days=29)).date().isoformat()
    ordered = (NOW - timedelta(days=31)).date().isoformat()
    orders.write_text(
        json.dumps(
            [
                {
                    "order_id": "ORD-1001",
                    "email": "ana@example.com",
                    "status": "delivered",
                    "order_date": ordered,
                    "delivered_at": delivered,
                }
            ]
        )
    )
    return Settings(
        local_path=tmp_path / "queue.db",
        state_path=tmp_path / "state.db",
        orders=f"file:{orders}",
        notify=[f"maildir:{tmp_path / 'outbox'}"],
        team_alerts=[f"apprise:json://{team.address}/alerts"],
        mail_from="help@teeshop.example",
        **overrides,
    )


def _record(store: SqliteStore) -> str:
    """A refund asked 29 days after delivery: past the full-refund window, so a review."""
    fields = {"type": "refund", "order_id": "ORD-1001", "email": "ana@example.com"}
    return record_request(store, parse_new_request(fields), NOW).request_id


def _pass(worker: Worker, settings: Settings, now: datetime) -> None:
    assert tick(worker, now, pass_lock(settings)) is not None


def _mails(tmp_path: Path) -> list[str]:
    return [p.read_text() for p in (tmp_path / "outbox" / "new").glob("*")]


def _notified(store: SqliteStore, request_id: str) -> str:
    [row] = [s.request for s in store.read_requests() if s.request.request_id == request_id]
    assert row.status == Status.NEEDS_REVIEW.value
    return row.notified


def test_a_review_alerts_the_team_once_even_after_the_state_file_is_lost(
    tmp_path: Path, team: JsonEndpoint
) -> None:
    """The alert (ID, type, reason, masked email) goes once; the sheet remembers it after a loss."""
    settings = _settings(tmp_path, team)
    store = SqliteStore(settings.local_path)
    request_id = _record(store)
    worker = build_worker(settings, store)
    _pass(worker, settings, NOW)
    [alert] = team.bodies
    text = alert["message"]
    assert request_id in text and "refund" in text and "reason " in text
    assert "ana@example.com" not in json.dumps(alert) and "a***@e***.com" in text
    assert len(text) < 200
    assert "team" in _notified(store, request_id).split("Needs Review", 1)[1]
    assert not any("review" in mail.lower() for mail in _mails(tmp_path))  # shoppers: not told
    worker.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.state_path}{suffix}").unlink(missing_ok=True)
    again = build_worker(settings, store)
    _pass(again, settings, NOW + timedelta(minutes=5))
    _pass(again, settings, NOW + timedelta(hours=2))
    assert len(team.bodies) == 1
    again.close()
    store.close()


def test_a_failing_team_channel_is_retried_next_pass_and_never_holds_the_shopper(
    tmp_path: Path, team: JsonEndpoint
) -> None:
    """Team endpoint down: the shopper's email still goes once; the alert goes on a later pass."""
    settings = _settings(tmp_path, team, notify_on_review=True)
    store = SqliteStore(settings.local_path)
    request_id = _record(store)
    worker = build_worker(settings, store)
    team.answer = 500
    _pass(worker, settings, NOW)
    assert team.bodies == []
    assert len(_mails(tmp_path)) == 1
    cell = _notified(store, request_id)
    assert "Needs Review owed" in cell and "email" in cell
    assert worker.metrics.value("sheetqueue_notifications_failed_total", channel="team") == 1
    assert worker.metrics.value("sheetqueue_notifications_failed_total", channel="email") == 0
    team.answer = 200
    _pass(worker, settings, NOW + timedelta(minutes=5))
    assert len(team.bodies) == 1
    assert len(_mails(tmp_path)) == 1
    cell = _notified(store, request_id)
    assert "owed" not in cell and "email, team" in cell
    assert worker.metrics.value("sheetqueue_team_alerts_total", reason="review") == 1
    _pass(worker, settings, NOW + timedelta(hours=2))
    assert len(team.bodies) == 1 and len(_mails(tmp_path)) == 1
    worker.close()
    store.close()
