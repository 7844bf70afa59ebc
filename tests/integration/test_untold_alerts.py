"""Untold alerts: a shopper who could not be told (given up, maybe delivered) is reported once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sheetqueue.bootstrap import build_worker
from sheetqueue.bot_actions.record import parse_new_request, record_request
from sheetqueue.config.settings import Settings
from sheetqueue.sheets.sqlite_store import SqliteStore
from sheetqueue.sheets.store import CellUpdate
from sheetqueue.sheets.times import format_time
from sheetqueue.worker.lock import pass_lock
from sheetqueue.worker.tick import Worker, tick
from tests.http_server_kit import JsonEndpoint, json_endpoint
from tests.smtp_server import SmtpServer

NOW = datetime(2026, 12, 2, 9, 0, 0).astimezone()


@pytest.fixture
def team() -> Iterator[JsonEndpoint]:
    """A JSON endpoint on 127.0.0.1 standing for the team's chat."""
    with json_endpoint() as endpoint:
        yield endpoint


def _settings(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint | None, **overrides: Any
) -> Settings:
    orders = tmp_path / "orders.json"
    order = {
        "order_id": "ORD-1001",
        "email": "ana@example.com",
        "status": "delivered",
        "order_date": (NOW - timedelta(days=9)).date().isoformat(),
        "delivered_at": (NOW - timedelta(days=5)).date().isoformat(),
    }
    orders.write_text(json.dumps([order]))
    return Settings(
        local_path=tmp_path / "queue.db",
        state_path=overrides.pop("state_path", tmp_path / "state.db"),
        orders=f"file:{orders}",
        notify=[smtp.url()],
        team_alerts=[f"apprise:json://{team.address}/alerts"] if team else [],
        mail_from="help@teeshop.example",
        notify_max_attempts=2,
        notify_retry_seconds=1,
        **overrides,
    )


def _record(store: SqliteStore) -> str:
    """A cancellation of a delivered order: the worker finds it ineligible and tells the shopper."""
    fields = {"type": "cancellation", "order_id": "ORD-1001", "email": "ana@example.com"}
    return record_request(store, parse_new_request(fields), NOW).request_id


def _pass(worker: Worker, settings: Settings, now: datetime) -> None:
    """One pass at ``now``, its lease renewals at ``now`` too (not at the wall clock's time)."""
    assert tick(worker, now, pass_lock(settings), clock=lambda: now) is not None


def _passes(worker: Worker, settings: Settings, *minutes: int) -> None:
    for minute in minutes:
        _pass(worker, settings, NOW + timedelta(minutes=minute))


def _notified(store: SqliteStore, request_id: str) -> str:
    [row] = [s.request for s in store.read_requests() if s.request.request_id == request_id]
    return row.notified


@dataclass
class _OneRequest:
    """One recorded cancellation and the worker passing over it."""

    settings: Settings
    store: SqliteStore
    request_id: str
    worker: Worker

    def passes(self, *minutes: int) -> None:
        _passes(self.worker, self.settings, *minutes)

    def notified(self) -> str:
        return _notified(self.store, self.request_id)

    def restart_without_state(self) -> None:
        """The worker stops, its state file is deleted, a new worker starts on the same queue."""
        self.worker.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.settings.state_path}{suffix}").unlink(missing_ok=True)
        self.worker = build_worker(self.settings, self.store)


@contextmanager
def _one_request(settings: Settings) -> Iterator[_OneRequest]:
    """The queue at ``settings`` with :func:`_record`'s request and a worker; closed at the end."""
    store = SqliteStore(settings.local_path)
    queue = _OneRequest(settings, store, _record(store), build_worker(settings, store))
    try:
        yield queue
    finally:
        queue.worker.close()
        store.close()


def _alerts(team: JsonEndpoint) -> list[str]:
    return [str(alert["message"]) for alert in team.bodies]


def test_a_given_up_email_alerts_the_team_once_even_after_the_state_file_is_lost(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint
) -> None:
    """Every try refused: one plain alert (ID, type, channel, masked address), never repeated."""
    smtp.refuse_recipients = True
    with _one_request(_settings(tmp_path, smtp, team)) as queue:
        queue.passes(0, 10, 20, 30)
        [text] = _alerts(team)
        assert queue.request_id in text and "cancellation" in text
        assert "email gave up after 2 tries" in text
        assert "a***@e***.com" in text and "ana@example.com" not in json.dumps(team.bodies)
        assert len(text) < 200
        cell = queue.notified()
        assert "not sent (gave up after 2 tries" in cell and " untold " in cell and "team" in cell
        assert "owed" not in cell
        assert queue.worker.metrics.value("sheetqueue_team_alerts_total", reason="untold") == 1
        queue.restart_without_state()
        queue.passes(40, 120)
        assert len(team.bodies) == 1 and smtp.messages == []


def test_a_maybe_delivered_email_alerts_the_team_once_and_is_not_resent(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint
) -> None:
    """The server drops after DATA: the shopper's email is not resent, the team is told once."""
    smtp.drop_after_data = True
    with _one_request(_settings(tmp_path, smtp, team)) as queue:
        queue.passes(0, 10, 20)
        [text] = _alerts(team)
        assert queue.request_id in text and "email may not have arrived" in text
        assert "a***@e***.com" in text
        assert len(smtp.messages) == 1  # the shopper's one email, never the alert, never again
        assert "email maybe" in queue.notified()
        queue.restart_without_state()
        queue.passes(30, 120)
        assert len(team.bodies) == 1 and len(smtp.messages) == 1


def test_two_workers_taking_turns_alert_the_team_once(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint
) -> None:
    """Two workers with their own state files, passes alternating: one alert in all."""
    smtp.refuse_recipients = True
    first = _settings(tmp_path, smtp, team)
    second = _settings(tmp_path, smtp, team, state_path=tmp_path / "other-state.db")
    store = SqliteStore(first.local_path)
    request_id = _record(store)
    workers = [(build_worker(first, store), first), (build_worker(second, store), second)]
    for minute in range(0, 80, 10):
        worker, settings = workers[(minute // 10) % 2]
        _pass(worker, settings, NOW + timedelta(minutes=minute))
    assert len(_alerts(team)) == 1 and request_id in _alerts(team)[0]
    assert "owed" not in _notified(store, request_id)
    for worker, _settings_used in workers:
        worker.close()
    store.close()


def test_without_team_alerts_a_given_up_email_changes_nothing(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint
) -> None:
    """No SHEETQUEUE_TEAM_ALERTS: the notice is given up as before, nothing else is owed."""
    smtp.refuse_recipients = True
    with _one_request(_settings(tmp_path, smtp, None)) as queue:
        queue.passes(0, 10, 20, 30)
        cell = queue.notified()
        assert "not sent (gave up after 2 tries" in cell and "untold" not in cell
        assert team.bodies == []


def test_an_alert_another_worker_was_sending_is_recorded_maybe_not_sent_again(
    tmp_path: Path, smtp: SmtpServer, team: JsonEndpoint
) -> None:
    """A ``team sending`` mark on the alert that no ledger here wrote: ``team maybe``, no resend."""
    smtp.refuse_recipients = True
    with _one_request(_settings(tmp_path, smtp, team)) as queue:
        queue.passes(0, 10)
        request_id, store = queue.request_id, queue.store
        [stored] = [s for s in store.read_requests() if s.request.request_id == request_id]
        cell = stored.request.notified
        owed = f"untold owed {format_time(NOW + timedelta(minutes=10))}"
        assert owed in cell and team.bodies == []
        marked = f"{cell} team sending {format_time(NOW + timedelta(minutes=11))}"
        expect = {"request_id": request_id, "notified": cell}
        store.update_cells([CellUpdate(stored.ref, expect, {"notified": marked})])
        queue.restart_without_state()
        queue.passes(20, 30)
        assert team.bodies == []
        assert "untold" in queue.notified() and "team maybe" in queue.notified()
